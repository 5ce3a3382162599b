"""``POST /v1/sms/webhook`` costs the same however many numbers are configured: it validates and
sets the one number's entry in place, where it used to deep-copy and revalidate the whole
configuration (11 ms for the first number, about 500 ms at the 5,000th).

Not a timing test: the work is counted as the Python calls made into ``jsonschema`` and
``copy`` while one request is served, which is deterministic, and must not grow between 10
and 2,000 configured numbers."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import pytest

from emulator.app import build_config
from emulator.config import ConfigError
from tests.conftest import Emulator, Receiver
from tests.tsg_support import call, send, webhook_objects

WATCHED = ("/jsonschema/", "/copy.py")


async def configure(emulator: Emulator, did: str, url: str) -> tuple[Any, Counter[str]]:
    """One number webhook request, with the calls into the watched modules counted."""
    calls: Counter[str] = Counter()

    def profile(frame, event: str, arg: Any) -> None:
        if event == "call":
            name = frame.f_code.co_filename
            for watched in WATCHED:
                if watched in name:
                    calls[watched] += 1

    sys.setprofile(profile)
    try:
        answer = await call(emulator, "POST", "/v1/sms/webhook",
                            json={"did": did, "webhook_url": url, "x_api_key_header": "k"})
    finally:
        sys.setprofile(None)
    assert answer.status == 200, answer.body
    return answer, calls


async def test_one_numbers_update_does_not_scale_with_the_number_of_numbers(
        emulator: Emulator, receiver: Receiver) -> None:
    costs = {}
    for count in (10, 2000):
        numbers = {str(12000000000 + n): {"webhook_url": None, "x_api_key": None}
                   for n in range(count)}
        await emulator.control("PUT", "/config", json={"tsg": {"numbers": numbers}})
        _, costs[count] = await configure(emulator, "13005550100", receiver.url("/hook"))
    # the same work at 2,000 numbers as at 10 (the whole-document patch made ~200 times more)
    assert costs[10]["/jsonschema/"] > 0
    for module in WATCHED:
        assert costs[2000][module] <= costs[10][module] + 5, (module, costs)

    # and it did its job: the number is configured, journaled, and used
    _, config = await emulator.control("GET", "/config")
    assert config["tsg"]["numbers"]["13005550100"] == {
        "webhook_url": receiver.url("/hook"), "x_api_key": "k", "webhook_type": "postv2"}
    assert len(config["tsg"]["numbers"]) == 2002  # with the default number
    _, journal = await emulator.control("GET", "/journal", params={"kind": "number_configured"})
    assert [e["did"] for e in journal["entries"]][-1] == "13005550100"
    await send(emulator, registered_delivery=1, **{"from": "13005550100"})
    await emulator.advance(3)
    assert [r.headers["x-api-key"] for r in receiver.requests] == ["k"]
    assert len(webhook_objects(receiver, "sms_dlr")) == 1


def test_setting_one_entry_validates_it_and_its_key_and_changes_nothing_when_refused() -> None:
    config = build_config()
    before = config.document
    for path, value, field in [
        (("numbers", "15550001111"), {"webhook_url": "ftp://x", "x_api_key": None},
         "tsg.numbers.15550001111.webhook_url"),
        (("numbers", "15550001111"), {"webhook_url": None},
         "tsg.numbers.15550001111.x_api_key"),
        (("numbers", "not-digits"), {"webhook_url": None, "x_api_key": None},
         "tsg.numbers.not-digits"),
        (("numbers", "15550001111"), {"webhook_url": None, "x_api_key": "a\nb"},
         "tsg.numbers.15550001111.x_api_key"),
        (("numbers", "15550001111"), {"webhook_url": None, "x_api_key": 2**70},
         "tsg.numbers.15550001111.x_api_key"),
        (("nope", "x"), 1, "tsg.nope"),
    ]:
        with pytest.raises(ConfigError) as caught:
            config.set_entry("tsg", path, value)
        assert caught.value.problems[0].split(":")[0] == field, caught.value.problems
    assert config.document == before
    config.set_entry("tsg", ("numbers", "15550001111"), {"webhook_url": "http://127.0.0.1:9/",
                                                         "x_api_key": None})
    assert config.section("tsg")["numbers"]["15550001111"]["webhook_url"] == \
        "http://127.0.0.1:9/"
    config.validate(config.document)  # what was set in place is what a full check accepts
