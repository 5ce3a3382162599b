"""``GET /_emulator/events``: the journal as a live stream of server-sent events.

Each journal entry is one event, written as it is recorded::

    id: 42
    event: webhook_attempt
    data: {"delivery":"D000001",...,"seq":42,"at":"2026-01-01T00:00:05.000000Z",...}

``data`` is the entry's JSON on one line, the same object ``GET /_emulator/journal`` lists. The
stream opens with ``retry: 1000`` (an ``EventSource`` reconnects after a second); once that has
arrived the stream is subscribed, so everything recorded afterwards comes. Then:

- **Where it starts.** ``since=N``, or the ``Last-Event-ID`` header a reconnecting
  ``EventSource`` sends (the later of the two wins): first every kept entry after ``N``, then
  the live ones, with no gap and no duplicate. Neither: only what is recorded from now on.
- **Filters.** ``kind=a,b`` (kinds separated by commas; ``kind`` may also repeat) and
  ``provider=p``, on the replay and on the live entries alike.
- **Gap.** When entries after ``N`` are no longer kept (the journal's bounds dropped them, a
  reset cleared them; or ``N`` is beyond the newest ``seq``, from before the emulator
  restarted, when everything kept is replayed), ``event: gap`` with ``{"since": N, "oldest":
  seq or null}`` comes first, then the replay: a client reloads its lists. It can come again
  mid-replay if the journal drops entries the replay had not reached yet.
- **Keep-alive.** A comment, ``: keep-alive``, after each ``heartbeat`` real seconds without an
  event (15 by default), so that proxies keep the connection open. A client that went away is
  noticed within a second (aiohttp does not tell a handler, so a quiet stream looks at its
  connection every :data:`LIVENESS_SECONDS`), or at the next write, and its subscription ends
  there.
- **Overflow.** Each stream queues at most ``queue_limit`` entries (10,000 by default) that it
  has not written yet. A reader that falls that far behind gets ``event: overflow`` with
  ``{"last_sent": seq}`` (everything up to that ``seq`` was sent) and the stream ends; it
  reconnects with ``since`` that ``seq``. The queue is emptied at once, so a slow reader costs
  at most the queue and one write (:data:`WRITE_BYTES`) beyond aiohttp's 64 KiB buffer.
- **Shutdown.** :meth:`EventStreams.close` (the application's ``on_shutdown``, and ``serve``
  before it waits for requests in flight) ends every stream at once; one whose reader has
  stopped reading is aborted.

How the replay meets the live entries: the stream subscribes to the journal before anything
else, then reads the journal from ``N`` in batches (never holding a journal iterator across a
write); live entries are ignored meanwhile, since the journal has them. When a batch reaches
the newest entry, the stream goes live in the same synchronous step and queues whatever is
recorded after. Each event's ``id`` is above the one before it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from emulator.control import paging
from emulator.core.journal import Entry, Journal
from emulator.schema_messages import show

log = logging.getLogger("sms_emulator")

DEFAULT_HEARTBEAT_SECONDS = 15.0
DEFAULT_QUEUE_LIMIT = 10_000
#: events gathered into one write at most (bytes): the most one write adds to a stuck buffer
WRITE_BYTES = 64 * 1024
#: journal entries examined per replay batch (matching or not)
REPLAY_BATCH = 1000
#: how often a quiet stream checks that its client is still connected (real seconds)
LIVENESS_SECONDS = 1.0
#: how long :meth:`EventStreams.close` waits for the streams to end (real seconds)
CLOSE_WAIT_SECONDS = 1.0
RETRY = b"retry: 1000\n\n"
KEEP_ALIVE = b": keep-alive\n\n"
HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
           "X-Accel-Buffering": "no"}


def frame(event: str, data: Any, event_id: int | None = None) -> bytes:
    """One server-sent event. ``data`` as compact JSON on one line (json.dumps escapes every
    newline)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    try:
        return f"{head}event: {event}\ndata: {text}\n\n".encode()
    except UnicodeEncodeError:  # a lone surrogate cannot be UTF-8: escape it, as JSON allows
        text = json.dumps(data, separators=(",", ":"))
        return f"{head}event: {event}\ndata: {text}\n\n".encode()


def entry_frame(entry: Entry) -> bytes:
    return frame(entry.kind, entry.to_json(), entry.seq)


@dataclass(frozen=True)
class Filter:
    """Which entries a stream sends; ``None``: any."""

    kinds: frozenset[str] | None = None
    provider: str | None = None

    def __call__(self, entry: Entry) -> bool:
        return ((self.kinds is None or entry.kind in self.kinds)
                and (self.provider is None or entry.provider == self.provider))


@dataclass(frozen=True)
class StreamQuery:
    #: replay the entries after this ``seq``; ``None``: live entries only
    since: int | None
    match: Filter


def parse_query(request: web.Request, providers: Iterable[str]) -> StreamQuery:
    """``since``, ``Last-Event-ID``, ``kind`` and ``provider`` of ``request``;
    :class:`~emulator.control.paging.BadQuery` names a bad one."""
    since = paging.since_given(request)
    header = request.headers.get("Last-Event-ID", "").strip()
    if header:
        last = paging.whole_number(header, "Last-Event-ID", "Last-Event-ID must be a whole "
                                   "number (the id of an event of this stream)")
        since = last if since is None else max(since, last)
    kinds = None
    if "kind" in request.query:
        names = [name.strip() for value in request.query.getall("kind")
                 for name in value.split(",")]
        if not all(names):
            raise paging.BadQuery("kind", "kind must be journal kinds separated by commas, "
                                  "e.g. kind=inbound_message,webhook_attempt")
        kinds = frozenset(names)
    provider = request.query.get("provider")
    known = sorted(providers)
    if provider is not None and provider not in known:
        raise paging.BadQuery("provider", f"unknown provider {show(provider)} (one of: "
                              + ", ".join(known) + ")")
    return StreamQuery(since, Filter(kinds, provider))


class _Stream:
    """One open stream: its journal subscriber (:meth:`offer`) and its writer (:meth:`run`)."""

    def __init__(self, journal: Journal, match: Filter, queue_limit: int,
                 heartbeat: float, transport: asyncio.BaseTransport | None) -> None:
        self.journal = journal
        self.match = match
        self.queue_limit = queue_limit
        self.heartbeat = heartbeat
        self.transport = transport
        self.queue: deque[Entry] = deque()
        self.wakeup = asyncio.Event()
        #: the seq up to which every matching entry has been written (or examined)
        self.position = 0
        #: entries are queued as they are recorded (not during the replay: the journal has them)
        self.live = False
        self.overflowed = False
        self.closing = False
        #: inside a write, which only waits when the reader has stopped reading
        self.writing = False

    def offer(self, entry: Entry) -> None:
        """The journal subscriber: called with every entry as it is recorded."""
        if not self.live or self.overflowed or not self.match(entry):
            return
        if len(self.queue) >= self.queue_limit:
            self.overflowed = True
            self.queue.clear()  # the reader comes back with since: the journal has them
        else:
            self.queue.append(entry)
        self.wakeup.set()

    def close(self) -> None:
        self.closing = True
        self.wakeup.set()
        if self.writing and self.transport is not None:
            # its reader reads nothing: the write would wait for ever, and the shutdown with it
            self.transport.abort()

    async def _write(self, response: web.StreamResponse, data: bytes) -> None:
        self.writing = True
        try:
            await response.write(data)
        finally:
            self.writing = False

    async def run(self, response: web.StreamResponse, since: int | None) -> None:
        await self._write(response, RETRY)
        if since is not None:
            await self._replay(response, since)
        await self._live(response)

    # -- replay -----------------------------------------------------------------------------
    def _gap(self) -> dict[str, Any] | None:
        """The data of a gap event when entries after the position are no longer kept (and the
        position moved to just before the oldest kept); ``None`` when none is missing."""
        journal = self.journal
        oldest = journal.oldest_seq
        position = self.position
        if position > journal.last_seq:  # a seq from before the emulator restarted
            missing = True
        elif oldest is None:
            missing = journal.last_seq > position
        else:
            missing = oldest > position + 1
        if not missing:
            return None
        self.position = journal.last_seq if oldest is None else oldest - 1
        return {"since": position, "oldest": oldest}

    def _batch(self) -> bytes:
        """The events of the next entries after the position (moved past them), and live
        mode once that reaches the newest entry. Synchronous: nothing is recorded meanwhile."""
        parts: list[bytes] = []
        size = 0
        for examined, entry in enumerate(self.journal.after(self.position), 1):
            self.position = entry.seq
            if self.match(entry):
                data = entry_frame(entry)
                parts.append(data)
                size += len(data)
            if examined >= REPLAY_BATCH or size >= WRITE_BYTES:
                break
        if self.position >= self.journal.last_seq:
            self.live = True
        return b"".join(parts)

    async def _replay(self, response: web.StreamResponse, since: int) -> None:
        self.position = since
        while not self.closing:
            gap = self._gap()
            if gap is not None:
                await self._write(response, frame("gap", gap))
            data = self._batch()
            if data:
                await self._write(response, data)
            elif not self.live:
                await asyncio.sleep(0)  # a batch that matched nothing: let the others run
            if self.live:
                return

    # -- live -------------------------------------------------------------------------------
    def _queued(self) -> bytes:
        parts: list[bytes] = []
        size = 0
        queue = self.queue
        while queue and size < WRITE_BYTES:
            entry = queue.popleft()
            if entry.seq <= self.position:
                continue  # already sent (cannot happen as the replay goes live; kept as a rule)
            data = entry_frame(entry)
            parts.append(data)
            size += len(data)
            self.position = entry.seq
        return b"".join(parts)

    async def _live(self, response: web.StreamResponse) -> None:
        loop = asyncio.get_running_loop()
        check = min(self.heartbeat, LIVENESS_SECONDS)
        last_write = loop.time()
        while not self.closing:
            if self.overflowed:
                await self._write(response, frame("overflow", {"last_sent": self.position}))
                return
            if self.queue:
                data = self._queued()
                if data:
                    await self._write(response, data)
                    last_write = loop.time()
                continue
            self.wakeup.clear()
            try:
                async with asyncio.timeout(check):
                    await self.wakeup.wait()
            except TimeoutError:
                # aiohttp tells a handler nothing when its client goes: look at the connection
                if self.transport is None or self.transport.is_closing():
                    return
                if loop.time() - last_write >= self.heartbeat:
                    await self._write(response, KEEP_ALIVE)
                    last_write = loop.time()


class EventStreams:
    """The event streams of one application: the handler of ``GET /_emulator/events`` and
    the streams it has open."""

    def __init__(self, journal: Journal, providers: Iterable[str],
                 heartbeat: float = DEFAULT_HEARTBEAT_SECONDS,
                 queue_limit: int = DEFAULT_QUEUE_LIMIT) -> None:
        if heartbeat <= 0 or queue_limit < 1:
            raise ValueError("an event stream's heartbeat must be > 0 and its queue at least 1")
        self.journal = journal
        self.providers = tuple(providers)
        self.heartbeat = heartbeat
        self.queue_limit = queue_limit
        self._streams: set[_Stream] = set()
        self._ended = asyncio.Event()
        self._closed = False

    @property
    def open(self) -> int:
        """How many streams are open."""
        return len(self._streams)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            query = parse_query(request, self.providers)
        except paging.BadQuery as exc:
            return paging.bad_query_response(exc)
        if self._closed:
            return web.json_response({"error": "the emulator is shutting down", "field": None},
                                     status=503)
        stream = _Stream(self.journal, query.match, self.queue_limit, self.heartbeat,
                         request.transport)
        # subscribed before anything is written: once ``retry`` arrives, nothing is missed
        unsubscribe = self.journal.subscribe(stream.offer)
        if query.since is None:
            stream.position = self.journal.last_seq
            stream.live = True
        self._streams.add(stream)
        response = web.StreamResponse(headers=HEADERS)
        try:
            await response.prepare(request)
            await stream.run(response, query.since)
        except ConnectionError:
            pass  # the client went away: its stream just ends
        except Exception as exc:  # a bug of ours: the answer has begun, so end it, and say so
            log.exception("event stream failed")
            self.journal.record("internal_error", None, method=request.method,
                                path=request.path, error=f"{type(exc).__name__}: {exc}")
        finally:
            unsubscribe()
            self._streams.discard(stream)
            self._ended.set()
        return response

    async def until_open_at_most(self, count: int) -> None:
        """Return once at most ``count`` streams are open."""
        while len(self._streams) > count:
            self._ended.clear()
            await self._ended.wait()

    async def close(self, wait: float = CLOSE_WAIT_SECONDS) -> None:
        """End every stream (and refuse new ones), waiting up to ``wait`` seconds for them to
        end."""
        self._closed = True
        for stream in tuple(self._streams):
            stream.close()
        try:
            async with asyncio.timeout(wait):
                await self.until_open_at_most(0)
        except TimeoutError:
            log.warning("%d event streams did not end within %g s of shutdown",
                        len(self._streams), wait)


#: the application's :class:`EventStreams`
EVENT_STREAMS = web.AppKey("event_streams", EventStreams)
