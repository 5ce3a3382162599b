"""Listening for HTTP: the socket, the connections, their limits, and the server's own log.

aiohttp closes an idle keep-alive connection after ``keepalive_timeout`` but has no bound on how
long a client may take to send a request's headers or body, and no cap on connections, so a
few hundred slow or idle clients could hold every file descriptor. :class:`Listener` adds them,
with public aiohttp and asyncio API (one reliance on how aiohttp ends a request whose body is
unfinished is isolated in :meth:`Listener.middleware`, with a test that catches a change):

- **Connections**: the listening socket is an asyncio server whose protocol factory wraps
  ``runner.server`` (the aiohttp protocol factory). Each connection's protocol is a thin
  :class:`_Connection` in front of aiohttp's handler. Beyond ``max_connections`` open at once, a
  new connection is answered ``503`` and closed at once, so legitimate clients get in again as
  soon as old connections time out or close.
- **Header timeout**: a connection must deliver a request's headers in full within
  ``header_timeout`` seconds of connecting, or of its first byte after an answer; otherwise it
  is closed (no answer: there is no request to answer). The connection notes its deadline,
  :meth:`Listener.middleware` clears it when the request reaches the application, and one
  timer of the listener looks for overdue connections every quarter of the timeout (at most
  every second) while any is waiting: a timer per request cost more than the rest of the
  connection's bookkeeping. So a connection is closed 1 to 1.25 times the timeout after.
- **Body timeout**: the whole body must arrive within ``body_timeout`` seconds of the headers.
  If not, whoever is reading the body gets :class:`aiohttp.web.HTTPRequestTimeout`, which the
  application answers as a ``408`` in the API's own error format; the connection is then
  closed.
- **Idle timeout**: aiohttp's own ``keepalive_timeout``, after an answer.
- **Shutdown** (:meth:`Listener.drain`): requests still waiting for their body are answered
  ``503`` at once; the others get ``shutdown_timeout`` seconds to finish, then are cancelled.

All these are real seconds, whatever the emulated clock does.

Log lines (logger ``sms_emulator.server``, WARNING, standard error under ``serve``): a request
aiohttp refused as malformed (it has already answered ``400``) makes one line, not a traceback
(:class:`ServerLog`); refused connections, header timeouts and ``accept()`` failures (asyncio
logs one per failed attempt, dozens per event-loop turn when descriptors run out) make at most
one line per :data:`THROTTLE_SECONDS`, counting the ones left out (:class:`Throttle`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

log = logging.getLogger("sms_emulator.server")

#: at most one line per this many seconds for each kind of repeated event
THROTTLE_SECONDS = 5.0
#: descriptors kept for everything but client connections (webhook connections, files)
RESERVED_DESCRIPTORS = 64
#: how long cancelled requests get to unwind at shutdown
CANCEL_WAIT_SECONDS = 1.0

_ACCEPT_ERROR = "socket.accept() out of system resource"


@dataclass(frozen=True)
class Limits:
    max_connections: int = 1000
    header_timeout: float = 10.0
    body_timeout: float = 30.0


class Throttle:
    """At most one log line per ``interval`` seconds for one kind of event; the next line says
    how many were left out in between, and :meth:`flush` reports the last ones."""

    def __init__(self, logger: logging.Logger, interval: float = THROTTLE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._logger = logger
        self._interval = interval
        self._clock = clock
        self._last: float | None = None
        self._skipped = 0
        self._what = ""

    def __call__(self, message: str, what: str = "like it") -> None:
        now = self._clock()
        if self._last is not None and now - self._last < self._interval:
            self._skipped += 1
            self._what = what
            return
        if self._skipped:
            message += f" ({self._skipped} more {what} since the last such line)"
        self._logger.warning("%s", message)
        self._last, self._skipped = now, 0

    def flush(self) -> None:
        if self._skipped:
            self._logger.warning("... and %d more %s", self._skipped, self._what)
            self._skipped = 0


def one_line(text: str, limit: int = 300) -> str:
    """aiohttp's parser errors span lines and point at the bad byte with a line of ``^``:
    keep the words and the quoted input, on one line."""
    parts = [part.strip() for part in text.splitlines()]
    joined = " ".join(p for p in parts if p and set(p) != {"^"})
    return joined if len(joined) <= limit else joined[:limit - 3] + "..."


class ServerLog(logging.LoggerAdapter):
    """The ``logger`` aiohttp's request handlers use. A request aiohttp could not parse
    (``HttpProcessingError``: a bad request line, header or version; already answered 400,
    the connection closed) becomes one WARNING line, ``bad request from <ip>: <reason>``,
    instead of an ERROR with a traceback (or, for a bad method in a connection's first request,
    nothing at all). Everything else passes through unchanged."""

    def __init__(self, logger: logging.Logger = log) -> None:
        super().__init__(logger, {})

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        exc = sys.exc_info()[1] if exc_info is True else (
            exc_info[1] if isinstance(exc_info, tuple) else exc_info)
        if isinstance(exc, HttpProcessingError):
            remote = args[0] if args else "an unknown address"
            self.logger.warning("bad request from %s: %s (answered %s)", remote,
                                one_line(exc.message or type(exc).__name__), exc.code or 400)
            return
        super().log(level, msg, *args, **kwargs)


@contextlib.contextmanager
def accept_errors_throttled(loop: asyncio.AbstractEventLoop | None = None) -> Iterator[Throttle]:
    """While active, ``loop``'s "socket.accept() out of system resource" reports (asyncio's
    selector loop makes one per failed ``accept()``, up to its backlog each turn, each with a
    traceback) make at most one line per :data:`THROTTLE_SECONDS`; every other report goes to
    the handler that was there before (or asyncio's default). The previous handler is put
    back on exit, if ours is still the one installed."""
    loop = loop or asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    throttle = Throttle(log)

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") == _ACCEPT_ERROR:
            exc = context.get("exception")
            throttle(f"cannot accept a connection: {exc} (open connections and files have "
                     "reached the process's limit; see `ulimit -n`)", "accept failures")
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
    try:
        yield throttle
    finally:
        throttle.flush()
        if loop.get_exception_handler() is handler:
            loop.set_exception_handler(previous)


def raise_open_file_limit() -> int | None:
    """Raise this process's soft limit on open files to its hard limit (Linux commonly starts
    programs at 1,024 of a hard 524,288); returns the soft limit now, ``None`` where there is
    no such limit (Windows)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    # macOS reports an infinite hard limit but refuses more than OPEN_MAX (10,240)
    candidates = [hard] if hard != resource.RLIM_INFINITY else [1 << 20, 10240]
    for target in candidates:
        if soft >= target:
            break
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            break
        except (ValueError, OSError):
            continue
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return None if soft == resource.RLIM_INFINITY else soft


class _Refusal(asyncio.Protocol):
    """A connection beyond the cap: answered 503 and closed before it costs anything more."""

    def __init__(self, limit: int) -> None:
        self._body = (f"too many connections (the emulator's limit is {limit}); "
                      "retry shortly\n").encode()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                        b"Retry-After: 1\r\nConnection: close\r\n"
                        + f"Content-Length: {len(self._body)}\r\n\r\n".encode() + self._body)
        transport.close()


class _Connection(asyncio.Protocol):
    """Stands between a transport and aiohttp's request handler (to which it passes every
    event), to count the connection and time its request headers."""

    __slots__ = ("_busy", "_handler", "_listener", "deadline", "transport")

    def __init__(self, listener: Listener, handler: asyncio.Protocol) -> None:
        self._listener = listener
        self._handler = handler
        self._busy = False  # a request's headers are in; the application has it
        #: the loop time its request headers are due by; ``None`` while none is awaited
        self.deadline: float | None = None
        self.transport: asyncio.Transport | None = None

    # -- asyncio.Protocol, passed on ----------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._listener._opened(self)
        self._arm()  # the first request's headers are due header_timeout after connecting
        self._handler.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if not self._busy and self.deadline is None:
            self._arm()  # the first byte of the next request
        self._handler.data_received(data)

    def eof_received(self) -> bool | None:
        return self._handler.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.deadline = None
        self._listener._closed(self)
        self._handler.connection_lost(exc)

    def pause_writing(self) -> None:
        self._handler.pause_writing()

    def resume_writing(self) -> None:
        self._handler.resume_writing()

    # -- the header deadline ----------------------------------------------------------------
    def request_started(self) -> None:
        self._busy = True
        self.deadline = None

    def request_finished(self) -> None:
        self._busy = False  # the deadline is set again by the next request's first byte

    def _arm(self) -> None:
        self.deadline = self._listener.header_deadline()

    def overdue(self) -> None:
        self.deadline = None
        transport = self.transport
        if self._busy or transport is None or transport.is_closing():
            return
        peer = transport.get_extra_info("peername")
        where = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "a client"
        self._listener.timeouts(f"closed the connection from {where}: no complete request "
                                f"headers within {self._listener.limits.header_timeout:g} s",
                                "such connections")
        if transport.get_write_buffer_size():
            transport.abort()  # a client that reads nothing would keep the close waiting
        else:
            transport.close()


class _InFlight:
    """A request the application is handling, with its body deadline."""

    __slots__ = ("expired", "request", "task", "timer")

    def __init__(self, request: web.BaseRequest, task: asyncio.Task | None) -> None:
        self.request = request
        self.task = task
        self.timer: asyncio.TimerHandle | None = None
        self.expired = False

    def body_pending(self) -> bool:
        return not self.request.content.is_eof()

    def expire(self, error: web.HTTPException) -> None:
        """Whoever reads the rest of the body gets ``error`` (answered in the API's format)."""
        if not self.expired and self.body_pending():
            self.expired = True
            self.request.content.set_exception(error)


class Listener:
    """The listening socket and its connections, with :class:`Limits`. Use: put
    :attr:`middleware` first in the application, :meth:`start` it with ``runner.server``,
    then at the end :meth:`stop_accepting`, :meth:`drain`, and ``runner.cleanup()``."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._by_transport: dict[asyncio.BaseTransport, _Connection] = {}
        self._counted: set[_Connection] = set()
        self._in_flight: set[_InFlight] = set()
        self._server: asyncio.AbstractServer | None = None
        self._factory: Callable[[], asyncio.Protocol] | None = None
        self.refusals = Throttle(log)
        self.timeouts = Throttle(log)
        self.log = ServerLog()
        self._sweep: asyncio.TimerHandle | None = None

    @property
    def open_connections(self) -> int:
        return len(self._counted)

    async def start(self, factory: Callable[[], asyncio.Protocol], host: str,
                    port: int) -> int:
        """Listen; returns the port (useful with 0). Raises ``OSError`` if it cannot."""
        self._factory = factory
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, host, port, backlog=128)
        return self._server.sockets[0].getsockname()[1]

    def _protocol(self) -> asyncio.Protocol:
        # Counted here, not in connection_made: asyncio calls the factory for a whole burst of
        # accepted sockets before the first connection_made, and the cap must hold for bursts.
        if len(self._counted) >= self.limits.max_connections:
            self.refusals(f"refused a connection: {len(self._counted)} open, the limit "
                          f"(max_connections) is {self.limits.max_connections}",
                          "refused connections")
            return _Refusal(self.limits.max_connections)
        assert self._factory is not None
        connection = _Connection(self, self._factory())
        self._counted.add(connection)
        return connection

    # -- header deadlines -------------------------------------------------------------------
    def header_deadline(self) -> float:
        """The deadline of request headers awaited from now on; the sweep runs meanwhile."""
        loop = asyncio.get_running_loop()
        if self._sweep is None:
            self._sweep = loop.call_later(self._sweep_period(), self._close_overdue)
        return loop.time() + self.limits.header_timeout

    def _sweep_period(self) -> float:
        return min(1.0, self.limits.header_timeout / 4)

    def _close_overdue(self) -> None:
        """Close the connections past their header deadline; again later while any waits."""
        self._sweep = None
        now = asyncio.get_running_loop().time()
        waiting = False
        for connection in list(self._counted):
            if connection.deadline is None:
                continue
            if connection.deadline <= now:
                connection.overdue()
            else:
                waiting = True
        if waiting:
            self._sweep = asyncio.get_running_loop().call_later(self._sweep_period(),
                                                                self._close_overdue)

    def _opened(self, connection: _Connection) -> None:
        assert connection.transport is not None
        self._by_transport[connection.transport] = connection

    def _closed(self, connection: _Connection) -> None:
        self._counted.discard(connection)
        if connection.transport is not None:
            self._by_transport.pop(connection.transport, None)

    # -- requests ---------------------------------------------------------------------------
    @web.middleware
    async def middleware(self, request: web.Request, handler) -> web.StreamResponse:
        """Outermost middleware: the request's headers are in (the header timer stops), and
        its body is now due within ``body_timeout``."""
        transport = request.transport
        connection = self._by_transport.get(transport) if transport is not None else None
        if connection is None:  # served by another listener (a test server), or already gone
            return await handler(request)
        connection.request_started()
        flight = _InFlight(request, asyncio.current_task())
        self._in_flight.add(flight)
        if flight.body_pending():
            limit = self.limits.body_timeout
            flight.timer = asyncio.get_running_loop().call_later(
                limit, flight.expire, web.HTTPRequestTimeout(
                    reason=f"Request Timeout: the body did not arrive in full within {limit:g} s"))
        try:
            response = await handler(request)
            if flight.expired:
                response.force_close()
            return response
        finally:
            if flight.timer is not None:
                flight.timer.cancel()
            if flight.expired and flight.body_pending():
                # After the answer, aiohttp's "lingering close" reads what is left of an
                # unfinished body, and would meet our HTTP error again and log it as an
                # unhandled exception with a traceback. A TimeoutError is what that loop
                # expects: it stops reading and closes the connection. (aiohttp 3.9-3.14;
                # tests/test_slow_clients.py checks that no traceback is logged.)
                request.content.set_exception(TimeoutError("request body timed out"))
            self._in_flight.discard(flight)
            connection.request_finished()

    # -- shutdown ---------------------------------------------------------------------------
    def stop_accepting(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        self.refusals.flush()
        self.timeouts.flush()

    async def drain(self, grace: float) -> None:
        """Requests still waiting for their body are answered 503 at once; the others get
        ``grace`` seconds to finish, then are cancelled. (Idle connections are aiohttp's:
        ``runner.cleanup()`` closes them, and the others once their answer is written.)"""
        for flight in list(self._in_flight):
            flight.expire(web.HTTPServiceUnavailable(
                reason="Service Unavailable: the emulator is shutting down"))
        tasks = {flight.task for flight in self._in_flight if flight.task is not None}
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=grace)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=CANCEL_WAIT_SECONDS)


def warn_if_limit_too_low(max_connections: int, nofile: int | None) -> None:
    """One line at start-up when the open-file limit cannot hold ``max_connections``."""
    if nofile is not None and nofile < max_connections + RESERVED_DESCRIPTORS:
        log.warning("the open-file limit (%d) is below max_connections (%d) + %d; connections "
                    "beyond it fail until others close (raise `ulimit -n` or lower "
                    "max_connections)", nofile, max_connections, RESERVED_DESCRIPTORS)
