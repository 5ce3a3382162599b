"""Helpers for the connection tests: raw sockets that speak as little HTTP as a test needs, and a
webhook receiver that accepts connections and never answers."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

from tests.conftest import API_KEY, CUSTOMER_ID

#: a bound for anything that should happen well within it, not an expectation
LIMIT = 5.0
BASIC = "Basic " + base64.b64encode(f"{CUSTOMER_ID}:{API_KEY}".encode()).decode()


def request(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
            length: int | None = None) -> bytes:
    """An HTTP/1.1 request's bytes; ``length`` overrides Content-Length (a body cut short)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or length is not None:
        lines.append(f"Content-Length: {len(body) if length is None else length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def telesign_send(callback_url: str | None = None) -> bytes:
    body = "phone_number=15551234567&message=Hello&message_type=ARN"
    if callback_url:
        body += f"&callback_url={callback_url}"
    return request("POST", "/v1/messaging", body.encode(), {
        "Authorization": BASIC, "Content-Type": "application/x-www-form-urlencoded"})


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def until_closed(reader: asyncio.StreamReader, limit: float = LIMIT) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took
    (a reset counts as closed)."""
    started = time.monotonic()
    try:
        data = await asyncio.wait_for(reader.read(), limit)
    except ConnectionResetError:
        data = b""
    return data, time.monotonic() - started


async def one_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Read one answer (status, body) of a keep-alive connection; needs Content-Length."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), LIMIT)
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    return status, await asyncio.wait_for(reader.readexactly(length), LIMIT)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def body_of(answer: bytes) -> bytes:
    return answer.split(b"\r\n\r\n", 1)[1]


@dataclass
class Hanging:
    """A webhook receiver that reads requests and never answers."""

    url: str
    requests: int = 0
    got_request: asyncio.Event = field(default_factory=asyncio.Event)


@asynccontextmanager
async def hanging_receiver() -> AsyncIterator[Hanging]:
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        with suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            receiver.requests += 1
            receiver.got_request.set()
            await reader.read()  # until the emulator gives up and closes

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    receiver = Hanging(f"http://127.0.0.1:{port}/hook")
    try:
        yield receiver
    finally:
        server.close()
        for writer in writers:
            writer.close()
