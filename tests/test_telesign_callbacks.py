"""Delivery callbacks: a real receiver gets them signed, and sees Telesign's retry schedule."""

from __future__ import annotations

import json
import time
from email.utils import parsedate_to_datetime

from aiohttp import ClientSession
from telesign.util import verify_telesign_callback_signature

from tests import readme
from tests.conftest import API_KEY, CUSTOMER_ID, START, Emulator, Receiver, assert_valid, in_thread

CALLBACK_KEYS = {"reference_id", "status", "submit_timestamp", "external_id", "errors",
                 "sub_resource"}


async def send(emulator: Emulator, number: str = "15551234567", **params) -> str:
    response = await in_thread(emulator.sdk().message, number, "Your code is 1234", "OTP",
                               **params)
    assert response.status_code == 200, response.body
    return response.json["reference_id"]


async def test_receiver_gets_a_signed_callback_on_the_final_status(
        emulator: Emulator, receiver: Receiver) -> None:
    reference_id = await send(emulator, callback_url=receiver.url(), external_id="ext-1")
    await emulator.advance(4)
    assert receiver.requests == []  # 203 is intermediate: no callback by default
    before = time.time()
    await emulator.advance(1)
    after = time.time()
    assert len(receiver.requests) == 1

    got = receiver.requests[0]
    payload = got.json()
    assert_valid("telesign/delivery-callback", payload)
    assert set(payload) == CALLBACK_KEYS
    assert payload["reference_id"] == reference_id
    assert payload["status"] == {"code": 200, "description": "Delivered to handset",
                                 "updated_on": "2026-01-01T00:00:05.000000Z"}
    assert payload["submit_timestamp"] == "2026-01-01T00:00:00.000000Z"
    assert payload["external_id"] == "ext-1"
    assert payload["errors"] == []
    assert payload["sub_resource"] == "sms"
    assert got.headers["Content-Type"] == "application/json"
    # the emulated time is 2026-01-01, but Date is the wall clock, whole seconds
    date = parsedate_to_datetime(got.headers["Date"]).timestamp()
    assert before - 1 <= date <= after

    body_text = got.body.decode("utf-8")
    signature = got.headers["X-TS-Authorization"]
    assert verify_telesign_callback_signature(API_KEY, signature, body_text)
    assert got.headers["Authorization"] == f"TSA {CUSTOMER_ID}:{signature}"
    # the SDK's docstring says "the Authorization header value", but it takes the bare signature
    assert not verify_telesign_callback_signature(API_KEY, got.headers["Authorization"],
                                                  body_text)
    assert not verify_telesign_callback_signature(API_KEY, signature, body_text + " ")

    [delivery] = await emulator.deliveries()
    assert delivery["state"] == "delivered"
    assert delivery["message_id"] == reference_id
    assert [a["status"] for a in delivery["attempts"]] == [200]


async def test_500_answers_see_the_retry_schedule_then_exhausted(
        emulator: Emulator, receiver: Receiver) -> None:
    receiver.answers = [500]
    await send(emulator, callback_url=receiver.url())
    await emulator.advance(5)  # the final status: first attempt at t
    t = START + 5
    assert [r.at_emulated for r in receiver.requests] == [t]
    await emulator.advance(9.999)
    assert len(receiver.requests) == 1
    await emulator.advance(0.001)
    await emulator.advance(3 * 86400)  # nothing after the third attempt, however long we wait
    assert [r.at_emulated - t for r in receiver.requests] == [0, 10, 40]
    bodies = {r.body for r in receiver.requests}
    assert len(bodies) == 1  # the same payload each time

    [delivery] = await emulator.deliveries(state="exhausted")
    assert delivery["reason"] == "3 attempts failed; last: HTTP 500"
    attempts = delivery["attempts"]
    assert [a["status"] for a in attempts] == [500, 500, 500]
    assert [a["at"] for a in attempts] == ["2026-01-01T00:00:05.000000Z",
                                           "2026-01-01T00:00:15.000000Z",
                                           "2026-01-01T00:00:45.000000Z"]
    assert [a["next_retry_at"] for a in attempts] == ["2026-01-01T00:00:15.000000Z",
                                                      "2026-01-01T00:00:45.000000Z", None]
    assert all(a["latency_ms"] >= 0 for a in attempts)
    status, journal = await emulator.control("GET", "/journal",
                                             params={"kind": "webhook_exhausted"})
    assert status == 200 and len(journal["entries"]) == 1


async def test_a_retry_that_gets_200_ends_delivered(emulator: Emulator, receiver: Receiver) -> None:
    receiver.answers = [503, 200]
    await send(emulator, callback_url=receiver.url())
    await emulator.advance(60)
    [delivery] = await emulator.deliveries()
    assert delivery["state"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [503, 200]


async def test_only_http_200_counts_by_default(emulator: Emulator, receiver: Receiver) -> None:
    receiver.answers = [204]
    await send(emulator, callback_url=receiver.url())
    await emulator.advance(60)
    [delivery] = await emulator.deliveries()
    assert delivery["state"] == "exhausted"
    assert len(receiver.requests) == 3

    await emulator.patch_config({"telesign": {"callbacks": {"success": "2xx"}}})
    await send(emulator, callback_url=receiver.url())
    await emulator.advance(60)
    assert (await emulator.deliveries())[0]["state"] == "delivered"


async def test_refused_connection_and_timeout_are_failures_with_their_cause(
        emulator: Emulator, receiver: Receiver, unused_tcp_port: int) -> None:
    await send(emulator, callback_url=f"http://127.0.0.1:{unused_tcp_port}/cb")
    await emulator.advance(60)
    [refused] = await emulator.deliveries()
    assert refused["state"] == "exhausted"
    assert all(a["status"] is None and a["error"].startswith("connection failed")
               for a in refused["attempts"])
    assert len(refused["attempts"]) == 3

    # long enough for the retry's answer on a loaded machine, short for the hanging attempt
    await emulator.patch_config({"webhooks": {"timeout_seconds": 0.5}})
    receiver.answers = ["hang", 200]
    await send(emulator, callback_url=receiver.url())
    await emulator.advance(5)
    timed_out = (await emulator.deliveries())[0]
    assert timed_out["attempts"][0]["error"] == "timeout: no answer within 0.5 s"
    assert timed_out["state"] == "retrying"
    await emulator.advance(10)
    timed_out = (await emulator.deliveries())[0]
    assert timed_out["state"] == "delivered"
    assert [a["status"] for a in timed_out["attempts"]] == [None, 200]


async def test_account_callback_url_is_used_when_the_request_has_none(
        emulator: Emulator, receiver: Receiver) -> None:
    await send(emulator)
    await emulator.advance(10)
    assert receiver.requests == []
    _, journal = await emulator.control("GET", "/journal", params={"kind": "callback_skipped"})
    assert len(journal["entries"]) == 1

    await emulator.patch_config({"telesign": {"callback_url": receiver.url("/account")}})
    await send(emulator)
    await emulator.advance(10)
    assert [r.path for r in receiver.requests] == ["/account"]

    await send(emulator, callback_url=receiver.url("/override"))
    await emulator.advance(10)
    assert [r.path for r in receiver.requests] == ["/account", "/override"]


async def test_intermediate_callbacks_are_a_setting(emulator: Emulator, receiver: Receiver) -> None:
    await emulator.patch_config({"telesign": {"callbacks": {"intermediate": True}}})
    await send(emulator, callback_url=receiver.url())
    await emulator.advance(10)
    codes = [r.json()["status"]["code"] for r in receiver.requests]
    assert codes == [203, 200]
    for request in receiver.requests:
        assert_valid("telesign/delivery-callback", request.json())


async def test_tsa_form_of_x_ts_authorization_is_a_setting(
        emulator: Emulator, receiver: Receiver) -> None:
    await emulator.patch_config({"telesign": {"callbacks": {"x_ts_authorization": "tsa"}}})
    await send(emulator, callback_url=receiver.url())
    await emulator.advance(10)
    headers = receiver.requests[0].headers
    assert headers["X-TS-Authorization"] == headers["Authorization"]
    scheme, _, credentials = headers["Authorization"].partition(" ")
    assert scheme == "TSA"
    signature = credentials.split(":", 1)[1]
    assert verify_telesign_callback_signature(API_KEY, signature,
                                              receiver.requests[0].body.decode())


async def test_rfc1123_timestamps_are_a_setting(emulator: Emulator, receiver: Receiver) -> None:
    await emulator.patch_config({"telesign": {"timestamp_format": "rfc1123"}})
    await send(emulator, callback_url=receiver.url())
    await emulator.advance(10)
    payload = receiver.requests[0].json()
    assert_valid("telesign/delivery-callback", payload)
    assert payload["status"]["updated_on"] == "Thu, 01 Jan 2026 00:00:05 GMT"
    assert payload["submit_timestamp"] == "Thu, 01 Jan 2026 00:00:00 GMT"


async def test_delivery_journal_shows_the_signed_request(
        emulator: Emulator, receiver: Receiver) -> None:
    await send(emulator, callback_url=receiver.url())
    await emulator.advance(10)
    [delivery] = await emulator.deliveries(provider="telesign", url=receiver.url())
    assert json.loads(delivery["request"]["body"]) == receiver.requests[0].json()
    assert delivery["request"]["headers"]["Authorization"].startswith(f"TSA {CUSTOMER_ID}:")
    assert await emulator.deliveries(state="retrying") == []
    assert await emulator.deliveries(provider="tsg") == []


async def test_the_readmes_callback_handler_accepts_real_callbacks_only(
        emulator: Emulator, aiohttp_server) -> None:
    """The README's handler, taken from the README and served as it is, gets the callback of
    the README's SDK example (run as it is but for the two addresses): the emulator's callbacks
    (both forms of X-TS-Authorization) are accepted and a tampered one refused."""
    code = readme.block("python", "verify_telesign_callback_signature")
    snippet: dict = {"__name__": "readme_snippet"}  # not __main__: no web.run_app
    exec(compile(code, "README.md", "exec"), snippet)
    assert snippet["API_KEY"] == API_KEY  # the README shows the default key
    server = await aiohttp_server(snippet["app"])
    url = str(server.make_url("/telesign/callback"))

    sdk_example = readme.block("python", "rest_endpoint=")
    addresses = {"http://127.0.0.1:8025": emulator.url,
                 "http://127.0.0.1:9000/telesign/callback": url}
    for readme_address, address in addresses.items():
        assert readme_address in sdk_example
        sdk_example = sdk_example.replace(readme_address, address)
    printed: list[tuple] = []
    await in_thread(exec, compile(sdk_example, "README.md", "exec"),
                    {"print": lambda *values: printed.append(values)})
    (status_code, answer), (status,) = printed
    assert (status_code, answer["status"]["code"], status["code"]) == (200, 290, 290)
    reference_id = answer["reference_id"]
    await emulator.advance(5)
    await emulator.patch_config({"telesign": {"callback_url": url,
                                              "callbacks": {"x_ts_authorization": "tsa"}}})
    await emulator.control("POST", "/inbound", json={
        "provider": "telesign", "from": "15551234567", "to": "4442", "text": "hello"})
    deliveries = await emulator.deliveries(url=url)
    assert [(d["state"], [a["status"] for a in d["attempts"]]) for d in deliveries] == [
        ("delivered", [200])] * 2
    assert [event["sub_resource"] for event in snippet["received"]] == ["sms", "mo_sms"]
    assert snippet["received"][0]["reference_id"] == reference_id

    [signed] = [d["request"] for d in deliveries if d["kind"] == "mo_sms"]
    async with ClientSession() as http, http.post(
            url, data=signed["body"].replace("mo_sms", "mo_spam"),
            headers=signed["headers"]) as response:
        assert response.status == 401
    assert len(snippet["received"]) == 2
