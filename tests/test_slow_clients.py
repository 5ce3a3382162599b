"""Slow and idle clients (emulator.server): the header, body and idle timeouts and the cap on
connections, against the emulator as ``serve`` runs it (embedded.running), over raw loopback
sockets, with timeouts of a few tenths of a second."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from emulator.app import CONTEXT
from emulator.config import Settings
from emulator.core.context import Context
from emulator.embedded import running
from tests.conftest import SEED, START, assert_valid
from tests.slow_support import (
    LIMIT,
    body_of,
    connect,
    hanging_receiver,
    one_answer,
    request,
    status_of,
    telesign_send,
    until_closed,
)

HEALTH = request("GET", "/_emulator/health")
TSG_SEND = request("POST", "/messages", json.dumps(
    {"from": "15550555055", "to": ["15551234567"], "body": "hi"}).encode(),
    {"Authorization": "Bearer x", "Content-Type": "application/json"})


@asynccontextmanager
async def emulator(document: dict[str, Any] | None = None,
                   **limits: Any) -> AsyncIterator[tuple[int, Context]]:
    settings = Settings(clock="manual", port=0, seed=SEED, start=START, **limits)
    async with running(settings, document) as (app, url):
        yield int(url.rsplit(":", 1)[1]), app[CONTEXT]


@pytest.fixture
def no_tracebacks(caplog):
    """Fails the test if anything logs an error or a traceback meanwhile."""
    caplog.set_level(logging.WARNING)
    yield caplog
    bad = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


# -- headers ----------------------------------------------------------------------------------
async def _send_nothing(writer: asyncio.StreamWriter) -> None:
    return None


async def _send_half_a_request_line(writer: asyncio.StreamWriter) -> None:
    writer.write(b"GET /_emul")


async def _trickle_headers(writer: asyncio.StreamWriter) -> None:
    writer.write(b"GET /_emulator/health HTTP/1.1\r\n")
    for _ in range(100):  # a header line every 20 ms, never the blank line that ends them
        await asyncio.sleep(0.02)
        if writer.is_closing():
            return
        writer.write(b"X-Slow: 1\r\n")


@pytest.mark.parametrize("client", [_send_nothing, _send_half_a_request_line, _trickle_headers])
async def test_a_request_whose_headers_never_complete_is_closed(client, no_tracebacks) -> None:
    async with emulator(header_timeout=0.3, keepalive_timeout=30) as (port, _):
        reader, writer = await connect(port)
        sending = asyncio.create_task(client(writer))
        data, elapsed = await until_closed(reader)
        sending.cancel()
        writer.close()
    assert data == b""  # there is no request to answer
    assert 0.25 <= elapsed < 1.5
    assert any("no complete request headers within 0.3 s" in r.getMessage()
               for r in no_tracebacks.records)


async def test_the_header_timeout_starts_again_at_each_requests_first_byte(no_tracebacks) -> None:
    async with emulator(header_timeout=0.2, keepalive_timeout=30) as (port, _):
        reader, writer = await connect(port)
        writer.write(HEALTH)
        assert (await one_answer(reader))[0] == 200
        # idle longer than the header timeout: that is keep-alive, so nothing arrives and
        # the connection stays open
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.read(1), 0.3)
        writer.write(HEALTH)
        assert (await one_answer(reader))[0] == 200
        writer.write(b"GET /_emulator/hea")
        data, elapsed = await until_closed(reader)
        writer.close()
    assert data == b"" and 0.15 <= elapsed < 1.5


async def test_an_idle_keep_alive_connection_is_closed(no_tracebacks) -> None:
    async with emulator(header_timeout=10, keepalive_timeout=0.3) as (port, _):
        reader, writer = await connect(port)
        writer.write(HEALTH)
        assert (await one_answer(reader))[0] == 200
        data, elapsed = await until_closed(reader)
        writer.close()
    assert data == b"" and 0.25 <= elapsed < 1.5


# -- bodies -----------------------------------------------------------------------------------
PARTIAL = {
    "telesign": (request("POST", "/v1/messaging", b"phone_number=1555",
                         {"Content-Type": "application/x-www-form-urlencoded"}, length=100),
                 "telesign/error"),
    "tsg": (request("POST", "/messages", b'{"from": "1555',
                    {"Content-Type": "application/json", "Authorization": "Bearer x"},
                    length=200), "tsg/error"),
    "control": (request("POST", "/_emulator/clock/advance", b'{"sec',
                        {"Content-Type": "application/json"}, length=50), "control/error"),
    "missing": (request("POST", "/v1/messaging", b"",
                        {"Content-Type": "application/x-www-form-urlencoded"}, length=40),
                "telesign/error"),
    "chunked": (request("POST", "/messages", b"",
                        {"Content-Type": "application/json", "Authorization": "Bearer x",
                         "Transfer-Encoding": "chunked"}) + b"5\r\n{\"fro\r\n",
                "tsg/error"),
}


@pytest.mark.parametrize("case", sorted(PARTIAL))
async def test_a_body_that_stops_short_is_answered_408_and_closed(case: str,
                                                                  no_tracebacks) -> None:
    sent, schema = PARTIAL[case]
    async with emulator(header_timeout=0.2, body_timeout=0.3, keepalive_timeout=30) as (
            port, ctx):
        reader, writer = await connect(port)
        writer.write(sent)
        answer, elapsed = await until_closed(reader)
        writer.close()
        entries = [e.to_json() for e in ctx.journal.entries()]
    # TSG answers every framework error of a request as its 422 (providers/tsg/errors.py)
    status = 422 if schema == "tsg/error" else 408
    assert status_of(answer) == status, answer
    assert b"\r\nConnection: close\r\n" in answer
    assert_valid(schema, json.loads(body_of(answer)))
    if schema != "telesign/error":  # Telesign's errors carry a code, not a text
        assert b"Request Timeout: the body did not arrive in full within 0.3 s" in answer
    assert 0.25 <= elapsed < 1.5
    assert not [e for e in entries if e["kind"] in ("internal_error", "job_error")]
    if schema != "control/error":  # a provider API call is journaled with its answer
        calls = [e for e in entries if e["kind"] == "api_call"]
        assert [c["status"] for c in calls] == [status]


async def test_a_slow_body_that_arrives_in_time_is_served(no_tracebacks) -> None:
    async with emulator(header_timeout=0.2, body_timeout=0.6) as (port, _):
        reader, writer = await connect(port)
        whole = telesign_send()
        head, body = whole.split(b"\r\n\r\n", 1)
        writer.write(head + b"\r\n\r\n")
        for i in range(0, len(body), 20):  # past the header timeout, within the body's
            await asyncio.sleep(0.05)
            writer.write(body[i:i + 20])
        status, answer = await one_answer(reader)
        writer.close()
    assert status == 200, answer
    assert_valid("telesign/send-response", json.loads(answer))


async def test_a_request_that_takes_long_is_not_cut_by_the_timeouts(no_tracebacks) -> None:
    async with hanging_receiver() as hook, emulator(
            {"webhooks": {"timeout_seconds": 0.5}}, header_timeout=0.2, body_timeout=0.2,
            keepalive_timeout=0.2) as (port, _):
        reader, writer = await connect(port)
        writer.write(telesign_send(hook.url))
        assert (await one_answer(reader))[0] == 200
        started = time.monotonic()
        writer.write(request("POST", "/_emulator/clock/advance", b'{"seconds": 5}',
                             {"Content-Type": "application/json"}))
        status, answer = await one_answer(reader)  # every webhook attempt times out first
        elapsed = time.monotonic() - started
        writer.close()
    assert status == 200, answer
    assert_valid("control/clock", json.loads(answer))
    assert elapsed >= 0.5 and hook.requests >= 1


# -- the cap on connections -------------------------------------------------------------------
async def test_connections_beyond_the_cap_are_refused_until_one_closes(no_tracebacks) -> None:
    async with emulator(max_connections=5) as (port, _):
        held = [await connect(port) for _ in range(5)]
        for reader, writer in held:  # each one surely accepted and counted
            writer.write(HEALTH)
            assert (await one_answer(reader))[0] == 200
        reader, writer = await connect(port)
        answer, _ = await until_closed(reader)
        writer.close()
        assert status_of(answer) == 503
        assert b"too many connections (the emulator's limit is 5)" in answer

        held.pop()[1].close()
        deadline = time.monotonic() + LIMIT
        while True:  # the server sees the close in a moment
            reader, writer = await connect(port)
            writer.write(HEALTH)
            try:
                status, _ = await one_answer(reader)
            except (asyncio.IncompleteReadError, ConnectionError):  # refused before it wrote
                status = 503
            writer.close()
            if status == 200 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.01)
        for _, other in held:
            other.close()
    assert status == 200
    assert any("refused a connection: 5 open, the limit (max_connections) is 5"
               in r.getMessage() for r in no_tracebacks.records)


# -- the settings -----------------------------------------------------------------------------
def test_the_connection_settings_come_from_the_environment_and_flags(monkeypatch) -> None:
    from emulator.cli import build_parser

    defaults = build_parser().parse_args(["serve"])
    assert (defaults.max_connections, defaults.header_timeout, defaults.body_timeout,
            defaults.keepalive_timeout, defaults.shutdown_timeout) == (1000, 10, 30, 30, 2)
    for name, value in (("MAX_CONNECTIONS", "7"), ("HEADER_TIMEOUT", "0.5"),
                        ("BODY_TIMEOUT", "4"), ("KEEPALIVE_TIMEOUT", "60"),
                        ("SHUTDOWN_TIMEOUT", "1.5")):
        monkeypatch.setenv(f"SMS_EMULATOR_{name}", value)
    args = build_parser().parse_args(["serve", "--body-timeout", "9"])
    assert (args.max_connections, args.header_timeout, args.body_timeout,
            args.keepalive_timeout, args.shutdown_timeout) == (7, 0.5, 9, 60, 1.5)
