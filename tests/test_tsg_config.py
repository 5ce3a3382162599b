"""The tsg section of the configuration document: its defaults, validation naming the field, a
changed key taking effect at once, and the start-up banner."""

from __future__ import annotations

import pytest

from emulator.app import PROVIDERS, build_app
from emulator.config import Settings
from tests.conftest import Emulator
from tests.tsg_support import NUMBER, TSG_KEY, call


async def test_defaults_match_the_design(emulator: Emulator) -> None:
    status, config = await emulator.control("GET", "/config")
    assert status == 200
    section = config["tsg"]
    assert section["api_key"] == TSG_KEY
    assert section["numbers"] == {"15550555055": {"webhook_url": None, "x_api_key": None}}
    assert (section["segments"], section["udh_style"], section["delivery_receipt_format"],
            section["dlr_time_precision"]) == ("tsg", "full", "text", "minute")
    assert "tsg" in (await emulator.control("GET", "/health"))[1]["providers"]


@pytest.mark.parametrize(("patch", "field"), [
    ({"segments": "gsm"}, "tsg.segments"),
    ({"api_key": ""}, "tsg.api_key"),
    ({"numbers": {"+15550555055": {"webhook_url": None, "x_api_key": None}}}, "tsg.numbers"),
    ({"numbers": {NUMBER: {"webhook_url": "ftp://x"}}}, f"tsg.numbers.{NUMBER}.webhook_url"),
    ({"numbers": {"1555": {"webhook_url": None}}}, "tsg.numbers.1555.x_api_key"),
    ({"delivery_error_codes": {"delivered": "0000"}}, "tsg.delivery_error_codes.delivered"),
    ({"delivery_error_codes": {"sent": "001"}}, "tsg.delivery_error_codes"),
    ({"auto_reply": {"registered_delivery": 9}}, "tsg.auto_reply.registered_delivery"),
])
async def test_bad_tsg_config_is_refused_naming_the_field(emulator: Emulator, patch,
                                                          field: str) -> None:
    status, body = await emulator.control("PATCH", "/config", json={"tsg": patch})
    assert status == 400, body
    assert body["field"] == field, body


async def test_a_new_api_key_applies_at_once(emulator: Emulator) -> None:
    await emulator.patch_config({"tsg": {"api_key": "rotated"}})
    path = "/messages/03b4641f-17a6-4565-bdba-1ce905be3312"
    assert (await call(emulator, "GET", path)).status == 401
    assert (await call(emulator, "GET", path, key="rotated")).status == 404


def test_the_banner_shows_the_endpoint_key_and_numbers() -> None:
    app = build_app(Settings(clock="manual", seed=1),
                    {"tsg": {"numbers": {"12003004000": {"webhook_url": "http://127.0.0.1:9/h",
                                                         "x_api_key": None}}}})
    lines = app[PROVIDERS]["tsg"].banner()
    text = "\n".join(lines)
    assert lines[0].startswith("TSG Global") and "/messages" in lines[0]
    assert f"api_key      {TSG_KEY}" in text
    assert f"number       {NUMBER} -> no webhook" in text
    assert "number       12003004000 -> http://127.0.0.1:9/h" in text
