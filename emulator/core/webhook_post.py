"""One webhook POST over HTTP: the per-destination connection limit, the timeout, reading the
answer, and a short, stable cause when it goes wrong. The :mod:`~emulator.core.dispatcher`
decides what an :class:`Outcome` means for a delivery (delivered, retry, exhausted).

- **One queue per destination.** A destination is a URL's scheme, host and port. At most
  ``per_host()`` POSTs to one destination are in flight at once; more wait their turn, first
  come first served. Destinations do not share
  anything, so a receiver that hangs ties up its own connections only. The wait for a turn is
  ``queued_ms`` and is not part of the timeout. At most ``max_queued()`` POSTs wait at one
  destination; one more is not sent (``not sent: N attempts already waiting for host:port``).
- **Connections are kept and reused** between POSTs to one destination (at most
  ``per_host()`` of them, as POSTs in flight), for :data:`IDLE_SECONDS` after their last
  answer: a busy receiver is not made to accept a connection per webhook, and the emulator
  keeps up with thousands a second. The idle time is shorter than common servers' keep-alive
  (gunicorn 2 s, Node and uvicorn 5 s, nginx and aiohttp 75 s), so a POST does not go out on a
  connection the receiver is closing; one that answers ``Connection: close`` is not reused.
- **The timeout starts with the connection** and covers connecting, sending, waiting for the
  answer and reading it to its end. ``latency_ms`` is that span.
- **The answer is read to its end**, however many TCP writes it comes in, up to
  :data:`MAX_ANSWER_BYTES`; beyond that reading stops (the rest is never waited for, the
  connection is closed) and the outcome says ``truncated``.
- **Causes** name the phase: ``timeout: no connection within 2 s``, ``timeout: no answer within
  2 s``, ``timeout: the answer did not end within 2 s`` (the status had come),
  ``connection failed: 127.0.0.1:9 refused the connection``, ``connection reset by the receiver
  before it answered``, ``connection closed by the receiver before it answered``.

A cancelled POST (the emulator stopping) leaves what is known on the :class:`Outcome`:
``sent`` says whether it had left its queue.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from time import perf_counter
from types import SimpleNamespace
from typing import Any

import aiohttp
from yarl import URL

#: how much of an answer is read and kept
MAX_ANSWER_BYTES = 64 * 1024
#: how long a connection with no POST in flight is kept for the next one (real seconds)
IDLE_SECONDS = 1.0

Destination = tuple[str, str, int | None]


def destination(url: str) -> Destination:
    """``(scheme, host, port)`` of ``url``; a URL that does not parse is its own destination."""
    try:
        parsed = URL(url)
        return (parsed.scheme, parsed.host or "", parsed.port)
    except (TypeError, ValueError):
        return ("", url, None)


@dataclass
class Outcome:
    """What one POST got, filled in as it goes (so a cancelled POST keeps what was known)."""

    status: int | None = None
    error: str | None = None
    body: bytes = b""
    truncated: bool = False
    #: the ``Location`` of the answer, if it had one
    location: str | None = None
    queued_ms: float = 0.0
    latency_ms: float | None = None
    #: the POST left its destination's queue (its connection was started)
    sent: bool = False


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


class _Gate:
    """The queue of one destination: an ``asyncio.Semaphore`` of its limit, and how many
    attempts hold or wait for it (the gate is forgotten when none do)."""

    __slots__ = ("limit", "semaphore", "users")

    def __init__(self, limit: int) -> None:
        self.semaphore = asyncio.Semaphore(limit)
        self.limit = limit
        self.users = 0


class Poster:
    """Makes webhook POSTs. ``per_host()`` is read for each POST (a changed setting applies to
    POSTs queued after the change); ``waiting()`` wraps a wait for a free connection, so the
    scheduler does not count the POST as running meanwhile
    (:meth:`~emulator.core.scheduler.Scheduler.waiting`)."""

    def __init__(self, per_host: Callable[[], int],
                 waiting: Callable[[], AbstractAsyncContextManager[None]],
                 max_queued: Callable[[], int] = lambda: 1000) -> None:
        self._per_host = per_host
        self._max_queued = max_queued
        self._waiting = waiting
        self._gates: dict[Destination, _Gate] = {}
        self._session: aiohttp.ClientSession | None = None

    def _session_for_posts(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            trace = aiohttp.TraceConfig()
            trace.on_connection_create_end.append(_connected)
            trace.on_connection_reuseconn.append(_connected)
            self._session = aiohttp.ClientSession(
                # no pool-wide limit: the gates bound connections per destination, and a wait
                # inside aiohttp would count against the timeout
                connector=aiohttp.TCPConnector(limit=0, limit_per_host=0,
                                               keepalive_timeout=IDLE_SECONDS),
                timeout=aiohttp.ClientTimeout(total=None),  # asyncio.timeout in _exchange
                auto_decompress=True,
                trace_configs=[trace],
            )
        return self._session

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float,
                   outcome: Outcome) -> None:
        """POST ``body`` to ``url`` once it is this destination's turn; fills ``outcome``.
        Never raises but ``CancelledError``."""
        key = destination(url)
        limit = max(1, int(self._per_host()))
        gate = self._gates.get(key)
        if gate is None or gate.limit != limit:  # a changed limit: a new queue from now on
            gate = self._gates[key] = _Gate(limit)
        waiting = gate.users - gate.limit
        if waiting >= max(0, int(self._max_queued())):
            host = f"{key[1]}:{key[2]}" if key[2] is not None else key[1]
            outcome.error = f"not sent: {waiting} attempts already waiting for {host}"
            return
        gate.users += 1
        queued = perf_counter()
        try:
            if gate.semaphore.locked():
                async with self._waiting():
                    await gate.semaphore.acquire()
            else:
                await gate.semaphore.acquire()
            try:
                started = perf_counter()
                outcome.queued_ms = _ms(started - queued)
                outcome.sent = True
                try:
                    await self._exchange(url, body, headers, timeout, outcome)
                finally:
                    outcome.latency_ms = _ms(perf_counter() - started)
            finally:
                gate.semaphore.release()
        finally:
            if not outcome.sent:
                outcome.queued_ms = _ms(perf_counter() - queued)
            gate.users -= 1
            if gate.users == 0 and self._gates.get(key) is gate:
                del self._gates[key]

    async def _exchange(self, url: str, body: bytes, headers: dict[str, str], timeout: float,
                        outcome: Outcome) -> None:
        progress = SimpleNamespace(connected=False)
        try:
            async with asyncio.timeout(timeout):
                async with self._session_for_posts().post(
                        url, data=body, headers=headers, allow_redirects=False,
                        trace_request_ctx=progress) as response:
                    outcome.status = response.status
                    outcome.location = response.headers.get("Location")
                    await _read_answer(response, outcome)
        except TimeoutError:
            if not progress.connected:
                outcome.error = f"timeout: no connection within {timeout:g} s"
            elif outcome.status is None:
                outcome.error = f"timeout: no answer within {timeout:g} s"
            else:
                outcome.error = f"timeout: the answer did not end within {timeout:g} s"
        except Exception as exc:  # every failure is recorded with its cause, never raised
            outcome.error = describe_error(exc, answered=outcome.status is not None)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _connected(session: aiohttp.ClientSession, context: Any, params: Any) -> None:
    context.trace_request_ctx.connected = True


async def _read_answer(response: aiohttp.ClientResponse, outcome: Outcome) -> None:
    """Read to the end of the answer, keeping at most :data:`MAX_ANSWER_BYTES`; one byte
    more means there is more, and reading stops there."""
    kept = bytearray()
    try:
        while True:
            chunk = await response.content.read(MAX_ANSWER_BYTES + 1 - len(kept))
            if not chunk:
                return
            kept += chunk
            if len(kept) > MAX_ANSWER_BYTES:
                del kept[MAX_ANSWER_BYTES:]
                outcome.truncated = True
                return
    finally:
        outcome.body = bytes(kept)


def describe_error(exc: BaseException, answered: bool = False) -> str:
    """A short, stable cause for a failed POST; ``answered``: the status line had come."""
    when = "before the answer ended" if answered else "before it answered"
    if isinstance(exc, aiohttp.ClientConnectorError):
        where = f"{exc.host}:{exc.port}"
        os_error = exc.os_error
        if isinstance(os_error, ConnectionRefusedError):
            return f"connection failed: {where} refused the connection"
        return f"connection failed: {where}: {getattr(os_error, 'strerror', None) or os_error}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return f"connection closed by the receiver {when}"
    if isinstance(exc, aiohttp.ClientOSError | OSError) and getattr(exc, "errno", None) in (
            errno.ECONNRESET, errno.EPIPE):
        return f"connection reset by the receiver {when}"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"the answer's body was cut short or malformed: {exc}"
    if isinstance(exc, aiohttp.InvalidURL):
        return f"invalid URL: {exc}"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"not a valid HTTP answer: {exc.message}"
    return f"{type(exc).__name__}: {exc}"
