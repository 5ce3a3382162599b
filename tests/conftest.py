"""Shared fixtures: the emulator on a manual clock and a real webhook receiver, both served over
loopback HTTP by pytest-aiohttp, plus helpers for the (synchronous) Telesign SDK."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from emulator import schemas
from emulator.app import CONTEXT, build_app
from emulator.config import Settings
from emulator.core.context import Context
from emulator.providers.telesign.provider import DEFAULT_API_KEY, DEFAULT_CUSTOMER_ID

# every `sms-emulator serve` a test starts listens for SMPP on a free port, not on 2775 (which
# tests running side by side, or another program, may hold)
os.environ.setdefault("SMS_EMULATOR_SMPP_PORT", "0")

CUSTOMER_ID = DEFAULT_CUSTOMER_ID
API_KEY = DEFAULT_API_KEY
SEED = 1234
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def assert_valid(schema: str, payload: Any) -> None:
    problems = schemas.errors(schema, payload)
    assert not problems, f"{schema}: {problems}\n{json.dumps(payload, indent=1)}"


CONTROL_SCHEMAS = {"/health": "health", "/messages": "messages", "/deliveries": "deliveries",
                   "/conversations": "conversations",
                   "/clock": "clock", "/clock/advance": "clock", "/reset": "clock",
                   "/journal": "journal", "/inbound": "inbound",
                   "/vocabulary": "vocabulary", "/smpp/sessions": "smpp-sessions"}


def assert_control_schema(path: str, status: int, body: Any) -> None:
    if status >= 400:
        assert_valid("control/error", body)
    elif path in CONTROL_SCHEMAS:
        assert_valid(f"control/{CONTROL_SCHEMAS[path]}", body)
    elif path.startswith("/messages/"):
        assert_valid("control/message", body)
    elif path.startswith("/deliveries/"):
        assert_valid("control/delivery", body)
    elif path == "/telesign/opt-outs":
        assert_valid("telesign/opt-outs", body)
    elif path == "/config":
        for section, content in body.items():
            schema = {"webhooks": "core/config-webhooks",
                      "lifecycle": "core/config-lifecycle"}.get(section, f"{section}/config")
            assert_valid(schema, content)
    else:
        raise AssertionError(f"no schema known for control path {path}")


def walk_pages(page_before: Callable[[int | None], Any]) -> tuple[list[int], list[int]]:
    """Every page from the first, following cursors: the seqs found, and each page's length."""
    found: list[int] = []
    lengths: list[int] = []
    before = None
    while True:
        page = page_before(before)
        found += [item.seq for item in page.items]
        lengths.append(len(page.items))
        if page.cursor is None:
            return found, lengths
        before = page.cursor


@dataclass
class Emulator:
    """The emulator under test, reached over real HTTP."""

    server: TestServer
    http: ClientSession
    ctx: Context

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    async def control(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """Call the control API; every answer is checked against its schema."""
        async with self.http.request(method, f"{self.url}/_emulator{path}", **kwargs) as resp:
            body = await resp.json()
        assert_control_schema(path, resp.status, body)
        return resp.status, body

    async def advance(self, seconds: float) -> dict[str, Any]:
        status, body = await self.control("POST", "/clock/advance", json={"seconds": seconds})
        assert status == 200, body
        return body

    async def patch_config(self, patch: dict[str, Any]) -> dict[str, Any]:
        status, body = await self.control("PATCH", "/config", json=patch)
        assert status == 200, body
        return body

    async def message(self, message_id: str) -> dict[str, Any]:
        status, body = await self.control("GET", f"/messages/{message_id}")
        assert status == 200, body
        return body

    async def deliveries(self, **filters: str) -> list[dict[str, Any]]:
        status, body = await self.control("GET", "/deliveries", params=filters)
        assert status == 200, body
        return body["deliveries"]

    def sdk(self, **kwargs: Any):
        from telesign.messaging import MessagingClient

        return MessagingClient(kwargs.pop("customer_id", CUSTOMER_ID),
                               kwargs.pop("api_key", API_KEY), rest_endpoint=self.url, **kwargs)


async def in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a blocking SDK call without blocking the loop that serves the emulator."""
    return await asyncio.to_thread(fn, *args, **kwargs)


@pytest.fixture
async def emulator(aiohttp_server) -> Emulator:
    app = build_app(Settings(clock="manual", seed=SEED, start=START))
    server = await aiohttp_server(app)
    async with ClientSession() as http:
        emu = Emulator(server, http, app[CONTEXT])
        yield emu
        broken = [e.to_json() for e in emu.ctx.journal.entries()
                  if e.kind in ("job_error", "internal_error")]
        assert not broken, f"the emulator recorded internal errors: {broken}"


@pytest.fixture
async def emulator_with(aiohttp_server):
    """Makes emulators like ``emulator`` with other :class:`Settings` fields, such as small
    retention limits: ``emu = await emulator_with(max_messages=20)``."""
    made: list[Emulator] = []

    async def make(**settings: Any) -> Emulator:
        app = build_app(Settings(clock="manual", seed=SEED, start=START, **settings))
        emu = Emulator(await aiohttp_server(app), ClientSession(), app[CONTEXT])
        made.append(emu)
        return emu

    yield make
    for emu in made:
        await emu.http.close()
        broken = [e.to_json() for e in emu.ctx.journal.entries()
                  if e.kind in ("job_error", "internal_error")]
        assert not broken, f"the emulator recorded internal errors: {broken}"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at_emulated: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real aiohttp webhook endpoint of a system under test."""

    server: TestServer
    requests: list[Received] = field(default_factory=list)
    #: answers to give, in order; the last one repeats
    answers: list[int | str] = field(default_factory=lambda: [200])
    reply_body: str = "OK"
    never_answer: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str = "/callback") -> str:
        return str(self.server.make_url(path))


@pytest.fixture
async def receiver(aiohttp_server, emulator: Emulator) -> Receiver:
    holder: dict[str, Receiver] = {}

    async def handle(request: web.Request) -> web.StreamResponse:
        recv = holder["r"]
        recv.requests.append(Received(request.method, request.path, dict(request.headers),
                                      await request.read(), emulator.ctx.clock.now()))
        answer = recv.answers[min(len(recv.requests), len(recv.answers)) - 1]
        if answer == "hang":
            await recv.never_answer.wait()  # released only by the client's timeout
        return web.Response(status=int(answer), text=recv.reply_body)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    server = await aiohttp_server(app)
    holder["r"] = Receiver(server)
    yield holder["r"]
    holder["r"].never_answer.set()


Sender = Callable[..., Awaitable[Any]]
