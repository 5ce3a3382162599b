"""Webhook receivers of a system under test that misbehave, each a real server on loopback:
one that refuses connections, hangs, resets the connection mid-request, trickles its answer,
answers 10 MB, redirects, answers 200 after the timeout, or writes its answer in two TCP
writes. Each counts what it got and how many requests it held at once.

``hostile`` (a fixture) makes them: ``await hostile("hang")``. Every one is released at the
end of the test, so no handler outlives it.

The tests that use them measure fractions of a second (timeouts of 0.2 s), and a full garbage
collection of a test worker's heap was measured at up to 0.7 s: a pause that long in the middle
of an attempt turns "no answer within 0.2 s" into "no connection within 0.2 s". So the fixture
collects first and keeps the collector off for the test (a few seconds; it is on again after).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from time import perf_counter

import pytest
from aiohttp import web

from tests.conftest import Emulator

#: the behaviours ``hostile`` knows
KINDS = ("ok", "refuse", "hang", "reset", "trickle", "huge", "redirect", "late", "split")
HUGE_BYTES = 10 * 1024 * 1024
#: the auto-reply a ``split`` receiver asks TSG for, in two writes 50 ms apart
SPLIT_ANSWER = b'{"body": "Thanks, we got your message and will reply soon"}'


@dataclass
class Hostile:
    kind: str
    url: str
    port: int
    #: requests that reached the handler, and when (perf_counter)
    arrivals: list[float] = field(default_factory=list)
    active: int = 0
    #: the most requests held at once
    peak: int = 0

    @property
    def hits(self) -> int:
        return len(self.arrivals)


MakeHostile = Callable[..., Awaitable[Hostile]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def hostile(aiohttp_server, emulator: Emulator) -> MakeHostile:
    """``await hostile(kind, late_by=seconds)``: a receiver of that kind. Depends on
    ``emulator`` so that it is torn down first and releases every handler it holds."""
    released = asyncio.Event()
    raw_servers: list[asyncio.Server] = []
    gc.collect()
    gc.disable()

    async def make(kind: str, late_by: float = 1.0, redirect_to: str = "") -> Hostile:
        assert kind in KINDS, kind
        if kind == "refuse":
            port = _free_port()
            return Hostile(kind, f"http://127.0.0.1:{port}/hook", port)
        if kind == "reset":
            return await _reset_server(raw_servers)
        holder: dict[str, Hostile] = {}

        async def handle(request: web.Request) -> web.StreamResponse:
            target = holder["h"]
            target.arrivals.append(perf_counter())
            target.active += 1
            target.peak = max(target.peak, target.active)
            try:
                await request.read()
                return await _answer(kind, request, released, late_by, redirect_to)
            finally:
                target.active -= 1

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        server = await aiohttp_server(app)
        holder["h"] = Hostile(kind, str(server.make_url("/hook")), server.port)
        return holder["h"]

    try:
        yield make
    finally:
        released.set()
        for server in raw_servers:
            server.close()
        gc.enable()


async def _answer(kind: str, request: web.Request, released: asyncio.Event, late_by: float,
                  redirect_to: str) -> web.StreamResponse:
    if kind == "ok":
        return web.Response(text="OK")
    if kind == "hang":
        await released.wait()
        return web.Response(text="too late")
    if kind == "late":
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(late_by):
                await released.wait()
        return web.Response(text="OK, but late")
    if kind == "redirect":
        raise web.HTTPFound(redirect_to or "http://127.0.0.1:9/elsewhere")
    response = web.StreamResponse(status=200)
    response.content_length = {"trickle": 10_000, "huge": HUGE_BYTES,
                               "split": len(SPLIT_ANSWER)}[kind]
    response.content_type = "application/json" if kind == "split" else "text/plain"
    await response.prepare(request)
    with contextlib.suppress(ConnectionError, OSError):
        if kind == "split":
            half = len(SPLIT_ANSWER) // 2
            await response.write(SPLIT_ANSWER[:half])
            await asyncio.sleep(0.05)
            await response.write(SPLIT_ANSWER[half:])
        elif kind == "huge":
            await response.write(b"x" * (1024 * 1024))  # the first megabyte at once...
            while not released.is_set():  # ...then the rest, slowly: never waited for
                await response.write(b"x" * 1024)
                await asyncio.sleep(0.05)
        else:  # trickle: a byte every 50 ms, never done within a timeout
            while not released.is_set():
                await response.write(b"x")
                await asyncio.sleep(0.05)
    return response


async def _reset_server(raw_servers: list[asyncio.Server]) -> Hostile:
    """Reads a request's head, then resets the connection (RST, not a clean close)."""
    holder: dict[str, Hostile] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError,
                                 asyncio.LimitOverrunError):
            await reader.readuntil(b"\r\n\r\n")
            holder["h"].arrivals.append(perf_counter())
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    raw_servers.append(server)
    port = server.sockets[0].getsockname()[1]
    holder["h"] = Hostile("reset", f"http://127.0.0.1:{port}/hook", port)
    return holder["h"]
