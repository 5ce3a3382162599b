"""The event log of ``serve``, in process: the emulator on a manual clock with a log writing to
a string, real HTTP on both sides. Each line comes from a journal entry, and the detail it shows
(latency, provider code, reason, message ids) is in the entry too."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import re
import time
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

import pytest

from emulator.core.journal import Journal
from emulator.core.logline import SILENT_KINDS
from emulator.log import StreamLog, wants_colour
from tests.conftest import API_KEY, CUSTOMER_ID, Emulator, Receiver, in_thread
from tests.test_telesign_auth import BODY, FORM, post, signed_headers
from tests.tsg_support import END_USER, call, inject, use_receiver
from tests.tsg_support import send as tsg_send

TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
LATENCY = r"\d+\.\dms"


@dataclass
class Log:
    stream: io.StringIO
    sink: StreamLog

    def lines(self) -> list[str]:
        self.sink.flush()
        return self.stream.getvalue().splitlines()

    def json(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines()]

    def clear(self) -> None:
        self.sink.flush()
        self.stream.seek(0)
        self.stream.truncate()


def attach(emulator: Emulator, log_format: str, colour: bool = False) -> Log:
    stream = io.StringIO()
    sink = StreamLog(stream, log_format, colour)
    emulator.ctx.journal.subscribe(sink)
    return Log(stream, sink)


@pytest.fixture
def log(emulator: Emulator) -> Log:
    return attach(emulator, "text")


@pytest.fixture
def json_log(emulator: Emulator) -> Log:
    return attach(emulator, "json")


async def sdk_send(emulator: Emulator, **params: Any) -> str:
    response = await in_thread(emulator.sdk().message, "15551234567", "Your code is 1234", "OTP",
                               **params)
    assert response.status_code == 200, response.body
    return response.json["reference_id"]


def basic_auth() -> str:
    return "Basic " + base64.b64encode(f"{CUSTOMER_ID}:{API_KEY}".encode()).decode()


async def api_calls(emulator: Emulator) -> list[dict[str, Any]]:
    status, body = await emulator.control("GET", "/journal", params={"kind": "api_call"})
    assert status == 200
    return body["entries"]


# -- provider API calls ------------------------------------------------------------------------
async def test_a_telesign_send_logs_status_code_reference_and_latency(emulator: Emulator,
                                                                     log: Log) -> None:
    reference_id = await sdk_send(emulator)
    [line] = log.lines()
    assert re.fullmatch(rf"2026-01-01T00:00:00\.000Z telesign POST /v1/messaging 200 {LATENCY} "
                        rf"290 id={reference_id}", line)
    # the same detail is in the journal, where tests read it
    [entry] = await api_calls(emulator)
    assert (entry["status"], entry["code"], entry["message_ids"]) == (200, 290, [reference_id])
    assert entry["latency_ms"] > 0
    # one event, one line: the request and message_created entries make none
    kinds = {e.kind for e in emulator.ctx.journal.entries()}
    assert {"request", "message_created"} <= kinds <= SILENT_KINDS | {"api_call"}


async def test_a_status_lookup_logs_the_current_status_code(emulator: Emulator, log: Log) -> None:
    reference_id = await sdk_send(emulator)
    await emulator.advance(2)
    log.clear()
    response = await in_thread(emulator.sdk().status, reference_id)
    assert response.json["status"]["code"] == 203
    [line] = log.lines()
    assert re.fullmatch(rf"{TIME} telesign GET /v1/messaging/{reference_id} 200 {LATENCY} 203 "
                        rf"id={reference_id}", line)


async def test_an_hmac_signature_failure_names_the_check(emulator: Emulator, log: Log) -> None:
    wrong_key = base64.b64encode(b"not the configured key").decode()
    response = await in_thread(emulator.sdk(api_key=wrong_key).message, "15551234567", "Hi",
                               "ARN")
    # the wire answer is Telesign's, without the reason
    assert response.status_code == 401
    assert set(response.json) == {"status", "signature_string"}
    assert response.json["status"]["code"] == 10008
    [line] = log.lines()
    assert re.fullmatch(rf"{TIME} telesign POST /v1/messaging 401 {LATENCY} 10008 signature "
                        r"mismatch \(HMAC-SHA256; .*\)", line)
    [entry] = await api_calls(emulator)
    assert entry["code"] == 10008 and entry["reason"].startswith("signature mismatch")


async def test_a_date_skew_failure_says_how_many_seconds_off(emulator: Emulator,
                                                             log: Log) -> None:
    stale = formatdate(time.time() - 3700, usegmt=True)
    status, body = await post(emulator, signed_headers(date=stale))
    assert (status, body["status"]["code"]) == (401, 10004)
    [line] = log.lines()
    assert re.search(r" 401 \d+\.\dms 10004 Date 370[01] s off, in the past \(limit 900 s\)$",
                     line), line


@pytest.mark.parametrize(("headers", "reason"), [
    ({}, "10009 no Authorization header"),
    ({"Authorization": "Bearer abc"}, "10028 Authorization scheme 'Bearer' is neither"),
    ({"Authorization": f"TSA {CUSTOMER_ID}:x", "Date": formatdate(usegmt=True)},
     "10006 no x-ts-auth-method header"),
])
async def test_other_auth_failures_name_their_check(emulator: Emulator, log: Log,
                                                    headers: dict[str, str], reason: str) -> None:
    status, _ = await post(emulator, {"Content-Type": FORM, **headers})
    assert status == 401
    [line] = log.lines()
    assert line.split(" ", 6)[6].startswith(reason), line


async def test_a_json_body_to_telesign_is_named_in_the_log_not_on_the_wire(
        emulator: Emulator, log: Log) -> None:
    document = {"phone_number": "15551234567", "message": "Hi", "message_type": "OTP"}
    async with emulator.http.post(f"{emulator.url}/v1/messaging", json=document,
                                  headers={"Authorization": basic_auth()}) as response:
        assert response.status == 400
        answer = await response.json()
    assert answer == {"external_id": None, "status": {
        "code": 12000, "description": "Missing Required Parameter phone_number",
        "updated_on": "2026-01-01T00:00:00.000000Z"}}
    [line] = log.lines()
    assert line.endswith(" 400 " + line.split()[5] + " 12000 Missing Required Parameter "
                         "phone_number; body is JSON; Telesign expects "
                         "application/x-www-form-urlencoded")
    [entry] = await api_calls(emulator)
    assert entry["note"] == "body is JSON; Telesign expects application/x-www-form-urlencoded"


async def test_a_form_body_gets_no_json_note(emulator: Emulator, log: Log) -> None:
    status, _ = await post(emulator, {"Authorization": basic_auth(), "Content-Type": FORM},
                           body=BODY.replace("message_type=ARN", "message_type=XYZ"))
    assert status == 400
    [line] = log.lines()
    assert line.endswith("11017 Invalid value for parameter message_type.")


async def test_a_tsg_send_logs_its_message_ids(emulator: Emulator, log: Log) -> None:
    answer = await tsg_send(emulator, to=["15551234567", "15557654321"])
    ids = [answer[number]["id"] for number in ("15551234567", "15557654321")]
    [line] = log.lines()
    assert re.fullmatch(rf"{TIME} tsg      POST /messages 200 {LATENCY} id={ids[0]},{ids[1]}",
                        line)
    [entry] = await api_calls(emulator)
    assert entry["message_ids"] == ids and "code" not in entry


async def test_a_tsg_failure_logs_its_error_id_and_reason(emulator: Emulator, log: Log) -> None:
    answer = await call(emulator, "POST", "/messages", key=None, json={})
    assert answer.status == 401
    answer = await call(emulator, "POST", "/messages", json={"from": "1555"})
    assert answer.status == 422
    first, second = log.lines()
    assert first.endswith(" unauthenticated no Authorization header")
    assert re.search(rf" 422 {LATENCY} invalid_parameter \w+: ", second), second


async def test_an_unknown_telesign_path_logs_its_legacy_code(emulator: Emulator,
                                                             log: Log) -> None:
    async with emulator.http.get(f"{emulator.url}/v1/verify/abc") as response:
        assert response.status == 404
    [line] = log.lines()
    assert re.fullmatch(rf"{TIME} telesign GET /v1/verify/abc 404 {LATENCY} -40004 Not Found",
                        line)


# -- webhooks ----------------------------------------------------------------------------------
async def test_a_webhook_answered_500_then_200_logs_each_attempt(
        emulator: Emulator, receiver: Receiver, log: Log) -> None:
    receiver.answers = [500, 200]
    url = receiver.url()
    reference_id = await sdk_send(emulator, callback_url=url)
    await emulator.advance(5)
    await emulator.advance(10)
    lines = log.lines()[1:]  # after the send
    assert lines[0] == "2026-01-01T00:00:00.000Z emulator clock advanced 5 s to " \
                       "2026-01-01T00:00:05.000Z"
    assert lines[1] == (f"2026-01-01T00:00:05.000Z telesign status 200 Delivered to handset "
                        f"id={reference_id} -> webhook delivery_report D000001 queued for {url}")
    assert re.fullmatch(rf"2026-01-01T00:00:05\.000Z telesign webhook delivery_report D000001 "
                        rf"attempt 1/3 POST {url} -> 500 in {LATENCY}, next retry in 10 s at "
                        rf"2026-01-01T00:00:15\.000Z", lines[2])
    assert lines[3].endswith("clock advanced 10 s to 2026-01-01T00:00:15.000Z")
    assert re.fullmatch(rf"2026-01-01T00:00:15\.000Z telesign webhook delivery_report D000001 "
                        rf"attempt 2/3 POST {url} -> 200 in {LATENCY}, delivered", lines[4])
    assert len(lines) == 5


async def test_a_webhook_that_always_fails_ends_with_an_exhausted_line(
        emulator: Emulator, receiver: Receiver, log: Log) -> None:
    receiver.answers = [500]
    await sdk_send(emulator, callback_url=receiver.url())
    await emulator.advance(5 + 10 + 30)
    attempts = [line for line in log.lines() if " attempt " in line]
    assert [re.search(r"attempt (\d/\d) .*, (next retry in \d+ s|exhausted)", line).groups()
            for line in attempts] == [("1/3", "next retry in 10 s"), ("2/3", "next retry in 30 s"),
                                      ("3/3", "exhausted")]
    assert attempts[-1].startswith("2026-01-01T00:00:45.000Z")


async def test_a_refused_connection_is_logged_as_the_attempts_error(
        emulator: Emulator, unused_tcp_port: int, log: Log) -> None:
    await sdk_send(emulator, callback_url=f"http://127.0.0.1:{unused_tcp_port}/cb")
    await emulator.advance(5)
    [attempt] = [line for line in log.lines() if " attempt " in line]
    assert re.search(rf"attempt 1/3 POST http://127\.0\.0\.1:{unused_tcp_port}/cb -> "
                     rf"connection failed: .* in {LATENCY}, next retry in 10 s", attempt)


async def test_a_status_without_a_callback_url_says_so(emulator: Emulator, log: Log) -> None:
    reference_id = await sdk_send(emulator)
    await emulator.advance(5)
    assert log.lines()[-1].endswith(
        f"telesign status 200 Delivered to handset id={reference_id} -> no webhook "
        "delivery_report: no callback_url on the request or the account")


async def test_a_tsg_receipt_and_an_inbound_message_are_logged(
        emulator: Emulator, receiver: Receiver, log: Log) -> None:
    url = await use_receiver(emulator, receiver)
    answer = await tsg_send(emulator, registered_delivery=1)
    message_id = answer["15551234567"]["id"]
    status, body = await inject(emulator, "hello")
    assert status == 201, body
    inbound_id = body["messages"][0]["id"]
    await emulator.advance(60)
    lines = log.lines()
    assert any(line.endswith(f"tsg      inbound sms from {END_USER} to 15550555055 "
                             f"id={inbound_id}") for line in lines), lines
    assert any(re.search(rf"tsg      inbound sms id={inbound_id} -> webhook sms D\d{{6}} "
                         rf"queued for {url}$", line) for line in lines), lines
    assert any(f"status delivered id={message_id} -> webhook sms_dlr" in line
               for line in lines), lines


async def test_long_tsg_retries_read_in_minutes_and_hours(
        emulator: Emulator, receiver: Receiver, log: Log) -> None:
    receiver.answers = [500]
    await use_receiver(emulator, receiver)
    await inject(emulator, "hello")
    await emulator.advance(3 * 86400)
    attempts = [line for line in log.lines() if " attempt " in line]
    pattern = r"attempt (\d+/18) .*, (next retry in [\d.]+ \w+|exhausted)"
    assert [re.search(pattern, line).groups()
            for line in attempts[:2] + attempts[8:10] + attempts[-1:]] == [
        ("1/18", "next retry in 60 s"), ("2/18", "next retry in 2 min"),
        ("9/18", "next retry in 4.27 h"), ("10/18", "next retry in 7 h"), ("18/18", "exhausted")]
    assert log.lines()[-len(attempts)].endswith(  # after the first attempt, made at once
        "emulator clock advanced 3 d to 2026-01-04T00:00:00.000Z")


# -- control API events ------------------------------------------------------------------------
async def test_inbound_clock_and_reset_lines(emulator: Emulator, log: Log) -> None:
    status, body = await emulator.control("POST", "/inbound", json={
        "provider": "telesign", "from": "15551234567", "to": "4442", "text": "STOP"})
    assert status == 201, body
    await emulator.control("POST", "/reset", json={"seed": 9, "now": "2026-02-01T00:00:00Z"})
    lines = log.lines()
    assert lines[0].endswith(f"telesign inbound sms from 15551234567 to 4442 "
                             f"id={body['messages'][0]['id']} action=stop")
    assert lines[-1] == ("2026-02-01T00:00:00.000Z emulator reset, seed 9, clock set to "
                         "2026-02-01T00:00:00.000Z")


# -- JSON lines --------------------------------------------------------------------------------
async def test_json_lines_carry_the_same_detail_under_stable_names(
        emulator: Emulator, receiver: Receiver, json_log: Log) -> None:
    receiver.answers = [500, 200]
    reference_id = await sdk_send(emulator, callback_url=receiver.url())
    wrong_key = base64.b64encode(b"not the configured key").decode()
    await in_thread(emulator.sdk(api_key=wrong_key).message, "15551234567", "Hi", "ARN")
    stale = formatdate(time.time() - 3700, usegmt=True)
    await post(emulator, signed_headers(date=stale))
    async with emulator.http.post(f"{emulator.url}/v1/messaging", json={"message": "Hi"},
                                  headers={"Authorization": basic_auth()}):
        pass
    answer = await tsg_send(emulator)
    await emulator.advance(5)
    await emulator.advance(10)
    await emulator.advance(30)

    lines = json_log.json()
    for line in lines:
        assert {"at", "seq", "kind", "provider", "line"} <= set(line)
        assert "body" not in line and "response" not in line
    sent, signature, skew, json_body, tsg, *rest = lines
    assert sent["kind"] == "api_call"
    assert (sent["provider"], sent["method"], sent["path"], sent["status"], sent["code"],
            sent["message_ids"]) == ("telesign", "POST", "/v1/messaging", 200, 290,
                                     [reference_id])
    assert sent["latency_ms"] > 0 and sent["at"] == "2026-01-01T00:00:00.000000Z"
    assert (signature["status"], signature["code"]) == (401, 10008)
    assert signature["reason"].startswith("signature mismatch")
    assert skew["code"] == 10004 and re.match(r"Date 370[01] s off", skew["reason"])
    assert json_body["note"] == "body is JSON; Telesign expects application/x-www-form-urlencoded"
    assert (tsg["provider"], tsg["path"], tsg["message_ids"]) == (
        "tsg", "/messages", [answer["15551234567"]["id"]])

    attempts = [line for line in rest if line["kind"] == "webhook_attempt"]
    assert [(a["attempt"], a["max_attempts"], a["status"], a["state"], a["next_retry_at"])
            for a in attempts] == [(1, 3, 500, "retrying", "2026-01-01T00:00:15.000000Z"),
                                   (2, 3, 200, "delivered", None)]
    assert all(a["latency_ms"] > 0 and a["url"] == receiver.url() and a["error"] is None
               and a["delivery"] == "D000001" and a["webhook"] == "delivery_report"
               for a in attempts)
    [queued] = [line for line in rest if line["kind"] == "webhook_queued"]
    assert (queued["cause"], queued["message_id"], queued["max_attempts"]) == (
        "status 200 Delivered to handset", reference_id, 3)
    assert [line["seconds"] for line in rest if line["kind"] == "clock_advanced"] == [5, 10, 30]


async def test_json_lines_end_with_exhausted(emulator: Emulator, receiver: Receiver,
                                             json_log: Log) -> None:
    receiver.answers = [500]
    await sdk_send(emulator, callback_url=receiver.url())
    await emulator.advance(45)
    attempts = [line for line in json_log.json() if line["kind"] == "webhook_attempt"]
    assert [(a["attempt"], a["state"]) for a in attempts] == [
        (1, "retrying"), (2, "retrying"), (3, "exhausted")]
    assert attempts[-1]["next_retry_at"] is None


# -- the sink itself ---------------------------------------------------------------------------
class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_without_no_color() -> None:
    assert wants_colour(Terminal(), {})
    assert not wants_colour(io.StringIO(), {})
    assert not wants_colour(Terminal(), {"NO_COLOR": "1"})
    assert wants_colour(Terminal(), {"NO_COLOR": ""})  # no-color.org: set and not empty
    assert not wants_colour(Terminal(), {"TERM": "dumb"})


async def test_colour_lines_keep_the_same_text(emulator: Emulator) -> None:
    plain, coloured = attach(emulator, "text"), attach(emulator, "text", colour=True)
    await sdk_send(emulator)
    [line] = coloured.lines()
    assert "\x1b[32m200\x1b[0m" in line
    assert re.sub(r"\x1b\[\d+m", "", line) == plain.lines()[0]


class Counting(io.StringIO):
    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_lines_are_written_in_one_batch_per_loop_turn_and_silent_kinds_never() -> None:
    from emulator.core.clock import ManualClock

    journal = Journal(ManualClock(0))
    stream = Counting()
    journal.subscribe(StreamLog(stream, interval=0))
    journal.record("status_change", "p", message_id="m", status=1)  # silent: no line
    journal.record("clock_advanced", None, seconds=1, to="1970-01-01T00:00:01.000000Z")
    assert stream.getvalue().endswith("emulator clock advanced 1 s to 1970-01-01T00:00:01.000Z\n")
    assert stream.writes == 1

    async def burst() -> None:
        for n in range(3):
            journal.record("clock_advanced", None, seconds=n, to="1970-01-01T00:00:01.000000Z")
        assert stream.writes == 1  # nothing formatted yet
        loop = asyncio.get_running_loop()
        turn = loop.create_future()  # queued after the sink's flush: one turn of the loop
        loop.call_soon(turn.set_result, None)
        await turn

    asyncio.run(burst())
    assert stream.writes == 2 and len(stream.getvalue().splitlines()) == 4


async def test_by_default_a_burst_waits_for_the_timer_and_is_one_write() -> None:
    from emulator.core.clock import ManualClock

    journal = Journal(ManualClock(0))
    stream = Counting()
    sink = StreamLog(stream)
    journal.subscribe(sink)
    for n in range(50):
        journal.record("clock_advanced", None, seconds=n, to="1970-01-01T00:00:01.000000Z")
    loop = asyncio.get_running_loop()
    turn = loop.create_future()
    loop.call_soon(turn.set_result, None)
    await turn
    assert stream.writes == 0  # a turn of the loop is not enough: the 0.05 s timer writes
    sink.flush()  # what the timer calls
    assert stream.writes == 1 and len(stream.getvalue().splitlines()) == 50


def test_a_failing_subscriber_does_not_lose_the_entry(caplog) -> None:
    from emulator.core.clock import ManualClock

    journal = Journal(ManualClock(0))
    seen = []

    def broken(entry) -> None:
        raise RuntimeError("boom")

    journal.subscribe(broken)
    unsubscribe = journal.subscribe(seen.append)
    with caplog.at_level(logging.ERROR, logger="sms_emulator"):
        entry = journal.record("reset", None, seed=1)
    assert seen == [entry] and list(journal.entries()) == [entry]
    assert "journal subscriber" in caplog.text
    unsubscribe()
    journal.record("reset", None, seed=2)
    assert seen == [entry]


# -- embedded emulators ------------------------------------------------------------------------
def test_the_pytest_plugin_logs_through_python_logging_only_when_asked(sms_emulator,
                                                                       caplog) -> None:
    from telesign.messaging import MessagingClient

    client = MessagingClient(sms_emulator.telesign_customer_id, sms_emulator.telesign_api_key,
                             rest_endpoint=sms_emulator.telesign_url)

    def event_lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "sms_emulator.events"]

    assert client.message("15551234567", "a", "OTP").status_code == 200
    assert event_lines() == []  # quiet by default
    caplog.set_level(logging.INFO, logger="sms_emulator.events")
    reference_id = client.message("15551234567", "b", "OTP").json["reference_id"]
    [line] = event_lines()
    assert re.fullmatch(rf"{TIME} telesign POST /v1/messaging 200 {LATENCY} 290 "
                        rf"id={reference_id}", line)
