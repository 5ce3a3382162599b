"""The event lines of ``sms-emulator serve``, read from a real process's standard output:
the default text lines after the banner, ``--log-format json`` and ``--quiet`` (flag and
environment variable). The lines themselves are covered in detail in test_log_lines.py."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from email.utils import formatdate

import pytest
from aiohttp import ClientSession

from tests.conftest import API_KEY, CUSTOMER_ID, in_thread
from tests.test_serve_cli import STARTUP_LIMIT, start, stop
from tests.test_telesign_auth import BODY, signed_headers

WRONG_KEY = base64.b64encode(b"not the configured key").decode()


async def next_line(proc: asyncio.subprocess.Process) -> str:
    line = await asyncio.wait_for(proc.stdout.readline(), STARTUP_LIMIT)
    assert line, "serve closed its output"
    return line.decode().rstrip("\n")


async def advance(url: str, seconds: float) -> None:
    async with ClientSession() as http, http.post(f"{url}/_emulator/clock/advance",
                                                  json={"seconds": seconds}) as response:
        assert response.status == 200


async def test_serve_prints_one_line_per_event_after_the_banner() -> None:
    from telesign.messaging import MessagingClient

    proc, url, _ = await start("--clock", "manual", "--start", "2026-01-01T00:00:00Z")
    try:
        sent = await in_thread(MessagingClient(CUSTOMER_ID, API_KEY, rest_endpoint=url).message,
                               "15551234567", "Hello", "ARN")
        reference_id = sent.json["reference_id"]
        assert re.fullmatch(r"2026-01-01T00:00:00\.000Z telesign POST /v1/messaging 200 "
                            rf"\d+\.\dms 290 id={reference_id}", await next_line(proc))
        failed = await in_thread(MessagingClient(CUSTOMER_ID, WRONG_KEY,
                                                 rest_endpoint=url).message,
                                 "15551234567", "Hello", "ARN")
        assert failed.status_code == 401
        assert " 401 " in (line := await next_line(proc))
        assert "10008 signature mismatch" in line
        await advance(url, 5)
        assert (await next_line(proc)).endswith(
            "emulator clock advanced 5 s to 2026-01-01T00:00:05.000Z")
        assert "\x1b[" not in line  # a pipe gets no colour
    finally:
        code, rest = await stop(proc)
    assert code == 0
    assert rest.splitlines()[-1] == "sms-emulator stopped; 0 webhook deliveries were still pending."


async def test_serve_log_format_json_prints_one_object_per_line() -> None:
    proc, url, _ = await start("--clock", "manual", "--log-format", "json")
    try:
        async with ClientSession() as http:
            stale = formatdate(time.time() - 3700, usegmt=True)
            async with http.post(f"{url}/v1/messaging", data=BODY.encode(),
                                 headers=signed_headers(date=stale)) as response:
                assert response.status == 401
            async with http.post(f"{url}/v1/messaging", data=BODY.encode(),
                                 headers=signed_headers()) as response:
                reference_id = (await response.json())["reference_id"]
        skew, sent = json.loads(await next_line(proc)), json.loads(await next_line(proc))
    finally:
        code, rest = await stop(proc)
    assert code == 0
    assert (skew["kind"], skew["provider"], skew["status"], skew["code"]) == (
        "api_call", "telesign", 401, 10004)
    assert re.match(r"Date 370[01] s off", skew["reason"])
    assert (sent["status"], sent["code"], sent["message_ids"]) == (200, 290, [reference_id])
    assert sent["latency_ms"] > 0 and sent["line"].startswith("telesign POST /v1/messaging 200")
    assert rest.splitlines()[-1].startswith("sms-emulator stopped;")


@pytest.mark.parametrize("how", ["flag", "environment"])
async def test_serve_quiet_prints_the_banner_but_no_event_lines(monkeypatch, how: str) -> None:
    if how == "environment":
        monkeypatch.setenv("SMS_EMULATOR_QUIET", "1")
    proc, url, banner = await start("--clock", "manual", *(["--quiet"] if how == "flag" else []))
    try:
        assert banner[0].startswith("sms-emulator ")
        async with ClientSession() as http, http.post(
                f"{url}/v1/messaging", data=BODY.encode(), headers=signed_headers()) as response:
            assert response.status == 200
        await advance(url, 5)
    finally:
        code, rest = await stop(proc)
    assert code == 0
    assert rest.splitlines() == ["sms-emulator stopped; 0 webhook deliveries were still pending."]


def test_the_log_format_comes_from_the_environment_too(monkeypatch) -> None:
    from emulator.cli import build_parser

    monkeypatch.setenv("SMS_EMULATOR_LOG_FORMAT", "json")
    assert build_parser().parse_args(["serve"]).log_format == "json"
    assert build_parser().parse_args(["serve", "--log-format", "text"]).log_format == "text"
