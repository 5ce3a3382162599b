"""Values that once got a 500: integers too large for a float, nesting deep enough to exhaust
the recursion limit, a client that hangs up in the middle of its body, and a signed Telesign
request whose body the signature does not cover. Each is a 4xx in its API's own format naming
the field (or one quiet journal line), and the emulator keeps working afterwards."""

from __future__ import annotations

import asyncio
import base64
import logging
import uuid
from email.utils import formatdate

import pytest
from telesign.rest import RestClient

from emulator.app import CONTEXT
from emulator.config import ConfigError, Settings, load_config_file
from emulator.embedded import running
from emulator.providers.telesign import signing
from tests.conftest import (
    API_KEY,
    CUSTOMER_ID,
    SEED,
    START,
    Emulator,
    Receiver,
    assert_valid,
    in_thread,
)
from tests.tsg_support import NUMBER, call, inject, journal, use_receiver

HUGE = "1" + "0" * 400  # a valid JSON integer; float() and math.isfinite() overflow on it
JSON = {"Content-Type": "application/json"}


def nested(depth: int, leaf: str = "1") -> str:
    return '{"a": ' * depth + leaf + "}" * depth


async def patch_raw(emulator: Emulator, text: str) -> tuple[int, dict]:
    return await emulator.control("PATCH", "/config", data=text.encode(), headers=JSON)


async def hmac_send(emulator: Emulator) -> int:
    response = await in_thread(emulator.sdk().message, "15551234567", "Hello", "ARN")
    return response.status_code


@pytest.mark.parametrize("setting", ["date_skew_seconds", "nonce_window_seconds"])
@pytest.mark.parametrize("value", [HUGE, "1e300", "315360001", "-1"])
async def test_auth_settings_out_of_bounds_are_refused_and_hmac_keeps_working(
        emulator: Emulator, setting: str, value: str) -> None:
    text = f'{{"telesign": {{"auth": {{"{setting}": {value}}}}}}}'
    status, body = await patch_raw(emulator, text)
    assert status == 400, body
    assert body["field"] == f"telesign.auth.{setting}"
    assert await hmac_send(emulator) == 200
    # the largest accepted values work too
    await emulator.patch_config({"telesign": {"auth": {setting: 315360000}}})
    assert await hmac_send(emulator) == 200


async def test_an_advance_by_a_huge_integer_is_a_400_naming_seconds(emulator: Emulator) -> None:
    for text in ('{"seconds": 1' + "0" * 309 + "}", '{"seconds": ' + HUGE + "}",
                 '{"seconds": 18446744073709551615}', '{"seconds": -' + HUGE + "}"):
        status, body = await emulator.control("POST", "/clock/advance", data=text.encode(),
                                              headers=JSON)
        assert status == 400, (text[:30], body)
        assert body["field"] == "seconds"
    assert (await emulator.advance(1))["jobs_run"] == 0


@pytest.mark.parametrize("depth", [33, 500, 700, 980])
@pytest.mark.parametrize("section", ["lifecycle", "telesign", "tsg", "webhooks", "unknown"])
async def test_deeply_nested_config_values_are_a_400_naming_the_field(
        emulator: Emulator, section: str, depth: int) -> None:
    for method in ("PATCH", "PUT"):
        status, body = await emulator.control(method, "/config", headers=JSON,
                                              data=f'{{"{section}": {nested(depth)}}}'.encode())
        assert status == 400, body
        assert body["field"] == f"{section}.a.a", body
        assert "nested too deeply (more than 32 levels)" in body["error"]
    assert await hmac_send(emulator) == 200


async def test_nesting_within_the_limit_is_judged_by_the_schema(emulator: Emulator) -> None:
    status, body = await patch_raw(emulator, f'{{"lifecycle": {nested(30)}}}')
    assert status == 400 and body["field"] == "lifecycle.a", body


async def test_huge_integers_and_deep_nesting_in_other_requests_are_4xx(
        emulator: Emulator) -> None:
    deep = nested(600)
    control = [("/reset", '{"seed": ' + HUGE + "}", "seed"),
               ("/inbound", '{"provider": "telesign", "from": "15551234567", "to": "4442", '
                            '"text": "hi", "images": ' + HUGE + "}", "images"),
               ("/inbound", '{"provider": "telesign", "channel": "rcs", "from": "15551234567", '
                            '"to": "x", "file": {"size_bytes": ' + HUGE + "}}", "file.size_bytes"),
               ("/inbound", '{"provider": "tsg", "from": "15551234567", "to": "' + NUMBER
                            + '", "text": ' + deep + "}", "text.a.a")]
    for path, text, field in control:
        status, body = await emulator.control("POST", path, data=text.encode(), headers=JSON)
        assert status == 400, (path, body)
        assert body["field"] == field, (path, body)
    for path, text in [("/messages", '{"from": "' + NUMBER + '", "to": ["15551234567"], '
                                     '"body": "hi", "registered_delivery": ' + HUGE + "}"),
                       ("/messages", '{"from": "' + NUMBER + '", "to": ["15551234567"], '
                                     '"body": ' + deep + "}"),
                       ("/v1/sms/webhook", '{"did": ' + HUGE + ', "webhook_url": "http://x/"}')]:
        answer = await call(emulator, "POST", path, data=text.encode(), headers=JSON)
        assert 400 <= answer.status < 500, (path, answer.body)
    _, journal = await emulator.control("GET", "/journal", params={"kind": "internal_error"})
    assert journal["entries"] == []


async def test_a_tsg_webhook_answer_too_deep_or_too_large_is_ignored_with_its_reason(
        emulator: Emulator, receiver: Receiver) -> None:
    await use_receiver(emulator, receiver)
    for answer in ('{"body": ' + "[" * 900 + "]" * 900 + "}", '{"body": ' + HUGE + "}",
                   '{"body": "hi", "extra": ' + nested(700) + "}"):
        receiver.reply_body = answer
        status, body = await inject(emulator, "hi")
        assert status == 201, body
    reasons = [e["reason"] for e in await journal(emulator, "auto_reply_ignored")]
    assert reasons == [
        "the answer is not usable JSON: body.0.0: is nested too deeply (more than 32 levels)",
        "the answer is not usable JSON: body: 10000000000… is too large a number (beyond "
        "±2**64)",
        "the answer is not usable JSON: extra.a.a: is nested too deeply (more than 32 levels)"]


def test_a_config_file_too_deep_or_with_a_huge_integer_is_refused(tmp_path) -> None:
    from emulator.app import build_config

    deep = tmp_path / "deep.yaml"
    deep.write_text("lifecycle: " + "[" * 2000 + "]" * 2000 + "\n")
    with pytest.raises(ConfigError) as caught:
        build_config(load_config_file(deep))
    assert "nested" in caught.value.problems[0]
    huge = tmp_path / "huge.yaml"
    huge.write_text(f"telesign:\n  auth: {{date_skew_seconds: {HUGE}}}\n"
                    f"lifecycle: {nested(40).replace(chr(34), '')}\n")
    with pytest.raises(ConfigError) as caught:
        build_config(load_config_file(huge))
    assert sorted(p.split(":")[0] for p in caught.value.problems) == [
        "lifecycle.a.a", "telesign.auth.date_skew_seconds"]


async def test_a_client_that_hangs_up_mid_body_is_one_quiet_journal_line(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="sms_emulator")
    # the real server of `serve` (the test server cancels the handler instead)
    settings = Settings(port=0, clock="manual", seed=SEED, start=START)
    async with running(settings) as (app, url):
        port = int(url.rsplit(":", 1)[1])
        paths = [("/v1/messaging", "application/x-www-form-urlencoded"),
                 ("/messages", "application/json"),
                 ("/_emulator/inbound", "application/json")]
        for path, content_type in paths:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                         f"Content-Type: {content_type}\r\nContent-Length: 200\r\n\r\n".encode()
                         + b"phone_number=1555" + b"0" * 83)
            await writer.drain()
            await asyncio.sleep(0.05)  # the handler is reading the body
            writer.close()
            await writer.wait_closed()
        journal = app[CONTEXT].journal
        for _ in range(100):  # until the server has seen the last one go
            if len(list(journal.entries(kind="client_disconnected"))) == len(paths):
                break
            await asyncio.sleep(0.01)
        entries = [e.to_json() for e in journal.entries()]
    assert [(e["kind"], e["path"]) for e in entries] == [
        ("client_disconnected", path) for path, _ in paths]
    assert [e["provider"] for e in entries] == ["telesign", "tsg", None]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info], \
        [r.getMessage() for r in caplog.records]
    lines = [r.getMessage() for r in caplog.records if r.name == "sms_emulator.events"]
    assert len(lines) == len(paths) and all("client disconnected" in line for line in lines)


# -- a Telesign body the signature does not cover ---------------------------------------------
def unsigned_body_headers(body: str) -> dict[str, str]:
    """TSA headers signed as the SDK signs a request with no Content-Type: no body line."""
    date, nonce = formatdate(usegmt=True), str(uuid.uuid4())
    to_sign = signing.string_to_sign(method="POST", content_type="", date=date,
                                      auth_method="HMAC-SHA256", nonce=nonce, x_ts_date=None,
                                      body=body.encode(), resource="/v1/messaging")
    assert body.encode() not in to_sign
    signature = signing.sign(signing.decode_api_key(API_KEY), to_sign)
    return {"Authorization": f"TSA {CUSTOMER_ID}:{signature}", "Date": date,
            "x-ts-auth-method": "HMAC-SHA256", "x-ts-nonce": nonce}


async def test_a_body_without_content_type_is_not_acted_on(emulator: Emulator) -> None:
    body = "phone_number=15551234567&message=never+signed&message_type=ARN"
    async with emulator.http.post(emulator.url + "/v1/messaging", data=body.encode(),
                                  headers=unsigned_body_headers(body),
                                  skip_auto_headers=["Content-Type"]) as response:
        status, answer = response.status, await response.json()
    assert status == 401, answer
    assert_valid("telesign/error", answer)
    assert answer["status"]["code"] == 10008
    _, messages = await emulator.control("GET", "/messages")
    assert messages["messages"] == []
    _, journal = await emulator.control("GET", "/journal", params={"kind": "api_call"})
    assert "without a Content-Type" in journal["entries"][-1]["reason"]
    # signed with its Content-Type, as the SDK does, the same body is a send
    headers = RestClient.generate_telesign_headers(
        CUSTOMER_ID, API_KEY, "POST", "/v1/messaging", body, user_agent="tests",
        content_type="application/x-www-form-urlencoded")
    async with emulator.http.post(emulator.url + "/v1/messaging", data=body.encode(),
                                  headers=dict(headers)) as response:
        assert response.status == 200, await response.text()


async def test_basic_auth_and_bodiless_hmac_requests_need_no_content_type(
        emulator: Emulator) -> None:
    basic = base64.b64encode(f"{CUSTOMER_ID}:{API_KEY}".encode()).decode()
    body = b"phone_number=15551234567&message=hi&message_type=ARN"
    async with emulator.http.post(emulator.url + "/v1/messaging", data=body,
                                  skip_auto_headers=["Content-Type"],
                                  headers={"Authorization": f"Basic {basic}"}) as response:
        assert response.status == 200, await response.text()
        reference_id = (await response.json())["reference_id"]
    status = await in_thread(emulator.sdk().status, reference_id)  # GET: no body, no type
    assert status.status_code == 200, status.body
