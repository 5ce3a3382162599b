"""Soak benchmark: a million Telesign and TSG sends with callbacks, a quarter of them to hostile
receivers, against a real ``sms-emulator serve``; prints the figures of issue 10's soak check.

Processes, all on loopback and all started (and ended) by this script:

- the emulator, ``sms-emulator serve --quiet --speed 1000`` (a scaled clock, see below; no
  event lines, so writing them is not what is measured), with a
  configuration file that sets ``webhooks.timeout_seconds`` (2 s) and one TSG number per
  receiver;
- the webhook receivers, one raw asyncio server per kind in a process of their own, each on a
  loopback address of its own (127.0.0.11 to .15, so they are five hosts however a
  dispatcher tells hosts apart): ``healthy`` (200 at once), and the hostile ``hang`` (reads
  the request, never answers), ``reset`` (reads it, then closes with a TCP RST), ``trickle``
  (a 200 answer written a byte every 0.25 s, so it ends long after any timeout) and ``error``
  (500 at once);
- the probe, a process that makes one Telesign send (Basic auth, no callback) every 50 ms on a
  keep-alive connection of its own with ``http.client``, so the latency it times is a normal
  send's under load, not the queueing of the load client (it does include waiting in the
  emulator behind the load's requests: that is what a client of a busy emulator sees);
- this process: the load, an aiohttp client with a fixed number of requests in flight (48)
  alternating Telesign (``POST /v1/messaging``, form body, Basic auth, ``callback_url`` per
  message) and TSG (``POST /messages``, JSON, Bearer, ``registered_delivery: 2`` so each
  message has exactly one ``sms_dlr``, sent to the webhook of its ``from`` number). Of each
  provider's messages, a quarter name a hostile receiver (the four kinds in turn), spread
  evenly through the run.

**Pace and clock.** A soak checks that the emulator holds steady under a load it can sustain,
so the load is paced (``--rate``, 300 messages a second by default: message *i* leaves at
*i* / rate, open loop) rather than as fast as 48 requests in flight allow: unpaced, the
load client gets its sends accepted faster than one core can also make their webhook attempts,
and the backlog of attempts due (and the memory it holds) grows for as long as the run lasts,
which measures overload, not a leak. The emulator's clock runs ``--speed`` (1000) times real
time: pending work is never evicted, and TSG redelivers to a failing receiver for nearly three
days, so on a real clock the deliveries to hostile TSG receivers pile up for three days, far
longer than any run; at x1000 those three days take about four minutes, so the run reaches the
steady state whose memory the RSS check compares. ``--speed 1`` shows the real-clock growth
(the report prints the pending deliveries at the mark and at the end next to the RSS).

On a machine with two or more cores the emulator is pinned to core 0 and everything else to the
other cores (``os.sched_setaffinity``), so the emulator's single thread has a core to itself
and the figures measure it rather than the load client; ``--no-pin`` leaves placement to the
OS. The CPU share each process used is printed: an emulator near 100 % means the emulator is
the bottleneck, which is what the figures should describe. So is the share of the time the
emulator was ready to run but waiting for a CPU (``/proc/<pid>/schedstat``): on a machine
shared with other work it says how much the figures understate the emulator.

Figures: requests/s of the load; p50/p99 of the probe; the emulator's RSS (``VmRSS`` in
``/proc/<pid>/status``) when 100,000 messages have been accepted and at the end; webhook
attempts per second, both as the emulator journals them and as the receivers saw them (they
differ when attempts never reach a receiver, e.g. waiting for a connection); lost deliveries;
time to exit on SIGTERM.

**Lost deliveries.** The script reads the journal incrementally (``GET /_emulator/journal``
with ``kind`` and ``since``, every 2 s, following ``next`` when the list is paginated) and
keeps an account of ``webhook_queued``, ``webhook_attempt`` and ``webhook_exhausted`` (a
py-spy profile of today's emulator put these reads at 7-9 % of its time at one a second,
hence one every 2 s; the journal keeps 100,000 entries, some 15 s at 1,000 sends a second). After
the sends stop it waits (``--settle-seconds``, 30) until every accepted message has its
callback queued and every queued delivery has had its first attempt, then takes a consistent
snapshot: ``GET /_emulator/clock`` gives the journal's newest ``seq`` and the emulator's
``pending_deliveries`` in one answer, and the journal is applied up to that ``seq``. Then

    lost = accepted messages with no delivery queued for their callback
         + deliveries still open in the journal's account that the emulator no longer counts
           as pending (evicted or dropped while unfinished)
         + deliveries exhausted with no reason, or retrying with no next attempt
         + deliveries in a bad state in the emulator's own records (the newest 2,000 read
           through ``GET /_emulator/deliveries``: done must be ``delivered`` or ``exhausted``
           with a reason, anything else must have a ``next_attempt_at``)

A delivery that is still pending with a next attempt is not lost: TSG redelivers for nearly
three days, so deliveries to hostile TSG receivers are still retrying when any run ends. If the
journal drops entries before they are read (it keeps the newest 100,000), the count cannot be
proved and the check fails, saying so. The deliveries list is read page by page: a plain list,
or an object with the list and a ``next`` field (a link, a path, or a cursor passed back as
``cursor``).

**Exit on SIGTERM.** Once the account is taken, the webhook timeout is set back to the
emulator's default of 10 s (``PATCH /_emulator/config``), a burst of Telesign and TSG messages
is sent to the hanging receiver, and when their attempts are open on it the emulator gets
SIGTERM; the time is measured until the process has exited.

Checks (PASS/FAIL lines; the exit status is 1 if any fails): RSS at the end at most 1.2 x RSS at
100,000 messages; 0 lost; exit on SIGTERM within 5 s; and every message sent (a run cut short,
or sends answered with anything but 200, fail it).

Bounded: ``--messages`` (1,000,000), sending stops at ``--max-seconds`` (4500) or when the
emulator's RSS passes ``--max-rss-mb``, and the phases after it are bounded by
``--settle-seconds`` and ``--exit-limit``. Loopback only.

    python bench/soak.py [--messages 1000000] [--concurrency 48] [--max-seconds 4500]
    make soak ARGS='--messages 100000'
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import http.client
import json
import os
import re
import resource
import signal
import socket
import statistics
import struct
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
from proc_stats import cpu_seconds  # beside this script

ROOT = Path(__file__).resolve().parent.parent
RECEIVER_KINDS = ("healthy", "hang", "reset", "trickle", "error")
HOSTILE = RECEIVER_KINDS[1:]
#: the TSG number whose webhook goes to each receiver
TSG_NUMBERS = {kind: f"1555000100{n}" for n, kind in enumerate(RECEIVER_KINDS, start=1)}
TO_NUMBER = "15551234567"  # default lifecycle: Telesign 200 after 5 s, TSG delivered after 3 s
WEBHOOK_KINDS = ("webhook_attempt", "webhook_exhausted", "webhook_queued")  # the fetch order
JOURNAL_PAGE = 1000
SAMPLE_DELIVERIES = 2000
START_LIMIT = 20.0
REQUEST_TIMEOUT = 30.0
SHUTDOWN_WEBHOOK_TIMEOUT = 10.0  # the emulator's default webhooks.timeout_seconds
EXIT_PASS_SECONDS = 5.0
RSS_GROWTH_LIMIT = 1.2
TRICKLE_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK"
TRICKLE_STEP = 0.25  # seconds a byte: the answer takes 17 s, past any timeout used here
OK_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK"
ERROR_ANSWER = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                b"Content-Length: 5\r\n\r\nerror")


# -- small helpers -------------------------------------------------------------------------------
def rss_mb(pid: int, field_name: str = "VmRSS") -> float | None:
    """A process's resident set (or ``VmHWM``, its peak) in MB, from ``/proc``."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None



def sched_seconds(pid: int) -> tuple[float, float] | None:
    """(seconds on a CPU, seconds runnable but waiting for one) of a process's main thread,
    from ``/proc/<pid>/schedstat``: the wait shows other programs taking the CPU."""
    try:
        run_ns, wait_ns, _ = Path(f"/proc/{pid}/schedstat").read_text().split()
    except (OSError, ValueError):
        return None
    return int(run_ns) / 1e9, int(wait_ns) / 1e9


def raise_fd_limit() -> None:
    """Soft descriptor limit up to the hard one: hang receivers hold many sockets open."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cores() -> tuple[set[int], set[int]] | None:
    """(the emulator's core, everyone else's), or ``None`` when pinning cannot help."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return None
    return {available[0]}, set(available[1:])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def short_cause(attempt: dict[str, Any]) -> str:
    """An attempt's outcome in a few words: ``HTTP 500``, ``timeout: ...``, ``ClientOSError``."""
    if attempt.get("status") is not None:
        return f"HTTP {attempt['status']}"
    error = str(attempt.get("error") or "no status, no error")
    error = re.sub(r"\(.*", "", error)  # drop addresses and errno detail
    return error[:48].rstrip(" :")


def n(value: float) -> str:
    return f"{value:,.0f}"


# -- the receivers process -----------------------------------------------------------------------
def content_length(head: bytes) -> int:
    found = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.IGNORECASE)
    return int(found.group(1)) if found else 0


async def receivers_main() -> None:
    """One server per receiver kind on a free loopback port, plus ``stats`` (GET: the counters
    as JSON); prints their base URLs as one JSON line, then serves until SIGTERM. Each kind
    has a loopback address of its own (127.0.0.11 to .15), so a dispatcher that keeps its
    connections apart by host name, or by host and port, sees five hosts."""
    raise_fd_limit()
    stats = {kind: {"connections": 0, "requests": 0, "open": 0, "telesign": 0, "tsg": 0}
             for kind in RECEIVER_KINDS}

    async def receive(kind: str, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        counts = stats[kind]
        counts["connections"] += 1
        counts["open"] += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = content_length(head)
                if length:
                    await reader.readexactly(length)
                counts["requests"] += 1
                path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b""
                counts["tsg" if path.startswith(b"/tsg") else "telesign"] += 1
                if kind == "hang":  # until the emulator gives up and closes
                    while await reader.read(65536):
                        pass
                    return
                if kind == "reset":
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    writer.transport.abort()
                    return
                if kind == "trickle":
                    for i in range(len(TRICKLE_ANSWER)):
                        if reader.at_eof() or writer.is_closing():
                            return
                        writer.write(TRICKLE_ANSWER[i:i + 1])
                        await writer.drain()
                        await asyncio.sleep(TRICKLE_STEP)
                    return
                writer.write(OK_ANSWER if kind == "healthy" else ERROR_ANSWER)
                await writer.drain()
                if b"\r\nconnection: close" in head.lower():
                    return
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass  # the peer closed or reset: the end of this connection, nothing more
        finally:
            counts["open"] -= 1
            writer.close()

    async def report(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            await reader.readuntil(b"\r\n\r\n")
            body = json.dumps(stats).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            await writer.drain()
        writer.close()

    servers = {}
    for number, kind in enumerate(RECEIVER_KINDS, start=11):
        servers[kind] = await asyncio.start_server(
            lambda r, w, kind=kind: receive(kind, r, w), f"127.0.0.{number}", 0, backlog=1024)
    servers["stats"] = await asyncio.start_server(report, "127.0.0.1", 0)
    origins = {name: "http://{}:{}".format(*server.sockets[0].getsockname()[:2])
               for name, server in servers.items()}
    print(json.dumps(origins), flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()


# -- the probe process ---------------------------------------------------------------------------
def probe_main(url: str, interval: float, authorization: str) -> None:
    """One Telesign send every ``interval`` seconds on one keep-alive connection until SIGTERM;
    then prints ``{"latencies_ms": [...], "errors": N}``. A send that takes longer than the
    interval delays the next one; the probe never bursts to catch up."""
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    address = urlsplit(url)
    body = urlencode({"phone_number": TO_NUMBER, "message": "probe", "message_type": "OTP"})
    headers = {"Authorization": authorization,
               "Content-Type": "application/x-www-form-urlencoded"}
    connection = http.client.HTTPConnection(address.hostname, address.port,
                                            timeout=REQUEST_TIMEOUT)
    latencies: list[float] = []
    errors = 0
    next_at = time.monotonic()
    while not stopping:
        started = time.perf_counter()
        try:
            connection.request("POST", "/v1/messaging", body, headers)
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            connection.close()  # reconnects on the next request
        if ok:
            latencies.append(round((time.perf_counter() - started) * 1000, 3))
        else:
            errors += 1
        next_at += interval
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_at = time.monotonic()
    print(json.dumps({"latencies_ms": latencies, "errors": errors}), flush=True)


# -- the account of deliveries, from the journal -------------------------------------------------
@dataclass
class Open:
    receiver: str
    state: str = "pending"
    next_at: str | None = None


@dataclass
class Ledger:
    """What the journal says of every delivery, kept up to date by :meth:`apply`; finished
    deliveries leave only counters behind, so memory stays proportional to the open ones."""

    receiver_of_origin: dict[tuple[str, int], str]  # (host, port): receiver kind
    expected: set[str] = field(default_factory=set)  # accepted, no delivery queued yet
    early: set[str] = field(default_factory=set)  # queued before its send's answer was read
    open: dict[str, Open] = field(default_factory=dict)
    exhausted_unexplained: set[str] = field(default_factory=set)  # no webhook_exhausted yet
    explained_early: set[str] = field(default_factory=set)  # webhook_exhausted came first
    queued: Counter = field(default_factory=Counter)  # by receiver
    delivered: Counter = field(default_factory=Counter)
    exhausted: Counter = field(default_factory=Counter)
    attempts: Counter = field(default_factory=Counter)
    causes: dict[str, Counter] = field(default_factory=dict)
    first_healthy: Counter = field(default_factory=Counter)  # first attempts to healthy: cause
    no_reason = 0
    unknown_attempts = 0  # attempts of deliveries never seen queued
    odd_states: Counter = field(default_factory=Counter)
    overrun = 0  # journal entries dropped before they were read (an upper bound)

    def receiver(self, url: str) -> str:
        parts = urlsplit(url)
        return self.receiver_of_origin.get((parts.hostname or "", parts.port or 0), "other")

    def accepted(self, message_id: str) -> None:
        if message_id in self.early:
            self.early.discard(message_id)
        else:
            self.expected.add(message_id)

    def apply(self, entries: Iterable[dict[str, Any]]) -> None:
        for entry in sorted(entries, key=lambda e: e["seq"]):
            kind = entry.get("kind")
            delivery = str(entry.get("delivery"))
            if kind == "webhook_queued":
                message_id = entry.get("message_id")
                if message_id in self.expected:
                    self.expected.discard(message_id)
                elif message_id is not None:
                    self.early.add(message_id)
                receiver = self.receiver(str(entry.get("url")))
                self.queued[receiver] += 1
                self.open[delivery] = Open(receiver)
            elif kind == "webhook_attempt":
                self._attempt(delivery, entry)
            elif kind == "webhook_exhausted":
                if not entry.get("reason"):
                    self.no_reason += 1
                if delivery in self.exhausted_unexplained:
                    self.exhausted_unexplained.discard(delivery)
                else:
                    self.explained_early.add(delivery)

    def _attempt(self, delivery: str, entry: dict[str, Any]) -> None:
        attempt = entry.get("attempt") or {}
        receiver = self.receiver(str(attempt.get("url")))
        cause = short_cause(attempt)
        self.attempts[receiver] += 1
        self.causes.setdefault(receiver, Counter())[cause] += 1
        if attempt.get("number") == 1 and receiver == "healthy":
            self.first_healthy[cause] += 1
        record = self.open.get(delivery)
        if record is None:
            self.unknown_attempts += 1
            return
        state = entry.get("state")
        if state == "delivered":
            del self.open[delivery]
            self.delivered[record.receiver] += 1
        elif state == "exhausted":
            del self.open[delivery]
            self.exhausted[record.receiver] += 1
            if delivery in self.explained_early:
                self.explained_early.discard(delivery)
            else:
                self.exhausted_unexplained.add(delivery)
        elif state in ("pending", "retrying"):
            record.state = state
            record.next_at = attempt.get("next_retry_at")
        else:
            self.odd_states[str(state)] += 1

    @property
    def without_next(self) -> int:
        """Open deliveries that have been attempted and have no next attempt."""
        return sum(1 for r in self.open.values() if r.state == "retrying" and not r.next_at)

    @property
    def unattempted(self) -> int:
        return sum(1 for r in self.open.values() if r.state == "pending")


# -- the control API -----------------------------------------------------------------------------
class ControlFailure(RuntimeError):
    pass


class Control:
    """The control API over its own connection pool (never queued behind the load)."""

    def __init__(self, session: Any, base: str) -> None:
        self.session = session
        self.base = base
        self.send_limit = True  # drop ``limit`` if the API refuses the page size
        self.calls = 0
        self.seconds = 0.0  # wall time of the GETs, queueing in the emulator included

    async def get(self, url: str, params: dict[str, str] | None = None) -> Any:
        started = time.perf_counter()
        for attempt in (1, 2):  # a keep-alive connection the server closed meanwhile: once more
            try:
                async with self.session.get(url, params=params) as response:
                    text = await response.text()
                break
            except aiohttp.ClientConnectionError:
                if attempt == 2:
                    raise
        self.calls += 1
        self.seconds += time.perf_counter() - started
        if response.status != 200:
            raise ControlFailure(f"GET {url} {params or ''} -> {response.status}: {text[:200]}")
        return json.loads(text)

    def next_page(self, path: str, params: dict[str, str],
                  cursor: Any) -> tuple[str, dict[str, str] | None] | None:
        """Where the next page is: ``next`` may be a link, a path, query parameters, or an
        opaque cursor given back as ``cursor``."""
        if cursor is None or cursor == "" or cursor is False:
            return None
        if isinstance(cursor, str) and cursor.startswith(("http://", "https://")):
            return cursor, None
        if isinstance(cursor, str) and cursor.startswith("/"):
            return self.base + cursor, None
        if isinstance(cursor, dict):
            return self.base + path, {**params, **{k: str(v) for k, v in cursor.items()}}
        return self.base + path, {**params, "cursor": str(cursor)}

    async def pages(self, path: str, key: str, params: dict[str, str],
                    most: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Up to ``most`` items of a list, following ``next``; and the last answer (for its
        other fields, e.g. the journal's ``dropped``)."""
        params = dict(params)
        if self.send_limit:
            params["limit"] = str(min(most, JOURNAL_PAGE))
        url: str = self.base + path
        query: dict[str, str] | None = params
        items: list[dict[str, Any]] = []
        last: dict[str, Any] = {}
        seen: set[Any] = set()
        while True:
            try:
                body = await self.get(url, query)
            except ControlFailure as exc:
                if self.send_limit and "limit" in str(exc) and query and "limit" in query:
                    self.send_limit = False
                    query = {k: v for k, v in query.items() if k != "limit"}
                    continue
                raise
            if isinstance(body, list):  # a plain list: the whole answer
                items.extend(body)
                return items, {}
            last = body
            page = body.get(key) or []
            items.extend(page)
            cursor = body.get("next")
            marker = json.dumps(cursor, sort_keys=True)
            # not ``not page``: a page may examine only so many items and come back empty
            # with a ``next``; only a null ``next`` ends the list
            if len(items) >= most or marker in seen:
                return items, last
            seen.add(marker)
            step = self.next_page(path, params, cursor)
            if step is None:
                return items, last
            url, query = step

    async def journal_since(self, kind: str, since: int) -> tuple[list[dict[str, Any]], int | None]:
        entries, last = await self.pages("/_emulator/journal", "entries",
                                         {"kind": kind, "since": str(since)}, 10 ** 9)
        seqs = [entry["seq"] for entry in entries]
        if seqs != sorted(seqs):  # the reader's cursors assume oldest first: fail, never guess
            raise ControlFailure("GET /_emulator/journal answered entries out of seq order; "
                                 "the soak reads the journal oldest first")
        dropped = last.get("dropped")
        return entries, dropped if isinstance(dropped, int) else None

    async def clock(self) -> dict[str, Any]:
        return await self.get(self.base + "/_emulator/clock")

    async def patch_config(self, document: dict[str, Any]) -> None:
        async with self.session.patch(self.base + "/_emulator/config", json=document) as response:
            if response.status != 200:
                raise ControlFailure(f"PATCH config -> {response.status}: "
                                     f"{(await response.text())[:200]}")


class JournalReader:
    """Reads the three webhook kinds incrementally into a :class:`Ledger`. The kinds are read
    attempt, exhausted, queued: each read reaches at least as far as the one before, so an
    attempt never arrives before its delivery's ``webhook_queued``."""

    def __init__(self, control: Control, ledger: Ledger) -> None:
        self.control = control
        self.ledger = ledger
        self.since = dict.fromkeys(WEBHOOK_KINDS, 0)
        self.floor = 0  # the newest seq seen in any read: every later read is complete to it
        self.attempt_times: list[tuple[float, int]] = []  # (monotonic, attempts so far)

    async def poll(self, until: int | None = None) -> None:
        """Apply what is new; with ``until``, only entries up to that ``seq`` (the rest is read
        again next time)."""
        batch: list[dict[str, Any]] = []
        for kind in WEBHOOK_KINDS:
            since = self.since[kind]
            entries, dropped = await self.control.journal_since(kind, since)
            if dropped is not None and dropped > since:
                self.ledger.overrun = max(self.ledger.overrun, dropped - since)
            if until is not None:
                entries = [e for e in entries if e["seq"] <= until]
                self.since[kind] = max(since, until)
            else:
                # This read came after every entry seen so far was recorded, so it holds all
                # of its kind up to the newest of them: a rare kind's cursor keeps up too.
                newest = max((e["seq"] for e in entries), default=0)
                self.floor = max(self.floor, newest)
                self.since[kind] = max(since, self.floor)
            batch.extend(entries)
        self.ledger.apply(batch)
        self.attempt_times.append((time.monotonic(), sum(self.ledger.attempts.values())))

    async def run(self, interval: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.poll()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)


# -- the run -------------------------------------------------------------------------------------
@dataclass
class Load:
    """The load's counters."""

    accepted: int = 0
    errors: Counter = field(default_factory=Counter)
    started: float = 0.0
    ended: float = 0.0
    stop_reason: str | None = None
    rss_mark: float | None = None
    #: the emulator's pending_deliveries when the RSS mark was read, and at the end
    pending_mark: int | None = None


async def start_process(command: list[str], stdout: Any, affinity: set[int] | None
                        ) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(*command, stdout=stdout,
                                                stderr=asyncio.subprocess.PIPE
                                                if stdout is asyncio.subprocess.PIPE else stdout,
                                                stdin=asyncio.subprocess.DEVNULL, cwd=ROOT)
    if affinity:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(proc.pid, affinity)
    return proc


async def start_emulator(folder: Path, config: dict[str, Any], affinity: set[int] | None,
                         speed: float = 1.0) -> tuple[asyncio.subprocess.Process, str, Path]:
    config_file = folder / "soak-config.yaml"
    config_file.write_text(json.dumps(config, indent=2))  # JSON is YAML
    output = folder / "emulator.out"
    with output.open("wb") as out:
        proc = await start_process([sys.executable, "-m", "emulator", "serve", "--port", "0",
                                    "--quiet", "--seed", "1", "--config", str(config_file),
                                    "--speed", f"{speed:g}"],
                                   out, affinity)
    deadline = time.monotonic() + START_LIMIT
    while time.monotonic() < deadline and proc.returncode is None:
        found = re.search(rb"listening on (http://\S+)", output.read_bytes())
        if found:
            return proc, found.group(1).decode(), output
        await asyncio.sleep(0.05)
    proc.kill()
    raise SystemExit("the emulator did not start:\n" + output.read_text(errors="replace")[-2000:])


def receiver_for(index: int, share: float) -> str:
    """The receiver of a provider's ``index``-th message: ``share`` of them hostile, spread
    evenly, the hostile kinds in turn."""
    hostile_before = int(index * share)
    if int((index + 1) * share) > hostile_before:
        return HOSTILE[hostile_before % len(HOSTILE)]
    return "healthy"


class Sender:
    """Builds and sends the load's requests; every accepted message is handed to the ledger."""

    def __init__(self, base: str, receivers: dict[str, str], credentials: dict[str, str],
                 ledger: Ledger) -> None:
        self.base = base
        self.ledger = ledger
        basic = base64.b64encode(
            f"{credentials['customer_id']}:{credentials['telesign_key']}".encode()).decode()
        self.telesign_headers = {"Authorization": f"Basic {basic}",
                                 "Content-Type": "application/x-www-form-urlencoded"}
        self.tsg_headers = {"Authorization": f"Bearer {credentials['tsg_key']}",
                            "Content-Type": "application/json"}
        self.telesign_bodies = {
            kind: urlencode({"phone_number": TO_NUMBER, "message": "Your code is 123456",
                             "message_type": "OTP",
                             "callback_url": f"{receivers[kind]}/telesign"}
                            ).encode() for kind in RECEIVER_KINDS}
        self.tsg_bodies = {
            kind: json.dumps({"from": TSG_NUMBERS[kind], "to": [TO_NUMBER],
                              "body": "Your code is 123456", "registered_delivery": 2}).encode()
            for kind in RECEIVER_KINDS}

    async def send(self, session: Any, provider: str, receiver: str, load: Load) -> bool:
        if provider == "telesign":
            url, body, headers = (f"{self.base}/v1/messaging", self.telesign_bodies[receiver],
                                  self.telesign_headers)
        else:
            url, body, headers = (f"{self.base}/messages", self.tsg_bodies[receiver],
                                  self.tsg_headers)
        try:
            async with session.post(url, data=body, headers=headers) as response:
                answer = await response.read()
                status = response.status
        except Exception as exc:  # a failed send is counted with its cause, and the run goes on
            load.errors[f"{provider}: {type(exc).__name__}"] += 1
            return False
        if status != 200:
            load.errors[f"{provider}: HTTP {status}"] += 1
            return False
        document = json.loads(answer)
        if provider == "telesign":
            self.ledger.accepted(document["reference_id"])
        else:
            for message in document.values():
                self.ledger.accepted(message["id"])
        load.accepted += 1
        return True


async def get_stats(session: Any, origin: str) -> dict[str, dict[str, int]]:
    async with session.get(origin + "/") as response:
        return await response.json(content_type=None)


async def run(args: argparse.Namespace) -> int:
    placement = None if args.no_pin else cores()
    emulator_core, other_cores = placement if placement else (None, None)
    if other_cores:
        os.sched_setaffinity(0, other_cores)
    raise_fd_limit()
    folder = Path(tempfile.mkdtemp(prefix="sms-emulator-soak-"))
    procs: list[asyncio.subprocess.Process] = []
    try:
        receivers_proc = await start_process([sys.executable, __file__, "--role", "receivers"],
                                             asyncio.subprocess.PIPE, other_cores)
        procs.append(receivers_proc)
        line = await asyncio.wait_for(receivers_proc.stdout.readline(), START_LIMIT)
        if not line:
            raise SystemExit("the receivers did not start: "
                             + (await receivers_proc.stderr.read()).decode(errors="replace"))
        origins: dict[str, str] = json.loads(line)
        config = {
            "webhooks": {"timeout_seconds": args.timeout},
            "tsg": {"numbers": {TSG_NUMBERS[kind]: {
                "webhook_url": f"{origins[kind]}/tsg", "x_api_key": None}
                for kind in RECEIVER_KINDS}},
        }
        emulator, base, output = await start_emulator(folder, config, emulator_core, args.speed)
        procs.append(emulator)
        return await soak(args, emulator, base, output, origins, procs, other_cores,
                          placement is not None)
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


async def soak(args: argparse.Namespace, emulator: asyncio.subprocess.Process,
               base: str, output: Path, origins: dict[str, str],
               procs: list[asyncio.subprocess.Process], other_cores: set[int] | None,
               pinned: bool) -> int:
    control_session = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=120), connector=aiohttp.TCPConnector(limit=4))
    load_session = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
        connector=aiohttp.TCPConnector(limit=args.concurrency))
    stats_session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
    async with control_session, load_session, stats_session:
        control = Control(control_session, base)
        document = await control.get(base + "/_emulator/config")
        credentials = {"customer_id": document["telesign"]["customer_id"],
                       "telesign_key": document["telesign"]["api_key"],
                       "tsg_key": document["tsg"]["api_key"]}
        ledger = Ledger({(urlsplit(origin).hostname or "", urlsplit(origin).port or 0): kind
                         for kind, origin in origins.items() if kind != "stats"})
        sender = Sender(base, origins, credentials, ledger)
        reader = JournalReader(control, ledger)
        mark = min(args.rss_mark, max(1, args.messages // 2))

        print(f"soak: {n(args.messages)} messages, Telesign and TSG in turn, "
              f"{args.concurrency} in flight, {args.hostile_share:.0%} of callbacks to hostile "
              f"receivers ({', '.join(HOSTILE)}); webhook timeout {args.timeout:g} s; "
              + (f"paced at {args.rate:g} messages/s; " if args.rate > 0 else "unpaced; ")
              + (f"clock x{args.speed:g}; " if args.speed != 1 else "real clock; ")
              + f"emulator {base} pid {emulator.pid}"
              + (f", pinned to core {min(os.sched_getaffinity(emulator.pid))}, the rest to "
                 f"{sorted(other_cores or [])}" if pinned else ", not pinned"), flush=True)
        if mark != args.rss_mark:
            print(f"  (a short run: the RSS mark is at {n(mark)} messages instead of "
                  f"{n(args.rss_mark)})", flush=True)

        authorization = sender.telesign_headers["Authorization"]
        probe = await start_process([sys.executable, __file__, "--role", "probe", "--url", base,
                                     "--interval", str(args.probe_interval),
                                     "--authorization", authorization],
                                    asyncio.subprocess.PIPE, other_cores)
        procs.append(probe)
        pids = {"emulator": emulator.pid, "load": os.getpid(), "receivers": procs[0].pid,
                "probe": probe.pid}
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        sched_before = sched_seconds(emulator.pid)

        load = Load(started=time.monotonic())
        deadline = load.started + args.max_seconds
        next_index = 0
        stop_polling = asyncio.Event()

        async def worker() -> None:
            nonlocal next_index
            while load.stop_reason is None:
                index = next_index
                if index >= args.messages:
                    return
                if time.monotonic() >= deadline:
                    load.stop_reason = f"--max-seconds {args.max_seconds:g} reached"
                    return
                next_index += 1
                if args.rate > 0:  # open loop: message i leaves at i / rate, late or not
                    delay = load.started + index / args.rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                provider = "telesign" if index % 2 == 0 else "tsg"
                await sender.send(load_session, provider,
                                  receiver_for(index // 2, args.hostile_share), load)
                if load.rss_mark is None and load.accepted >= mark:
                    load.rss_mark = rss_mb(emulator.pid)
                    mark_state = await control.clock()
                    load.pending_mark = mark_state.get("pending_deliveries")

        async def watch() -> None:
            """Progress lines; stops the load when the emulator dies or grows too big."""
            last = (load.started, 0, 0)
            while True:
                await asyncio.sleep(args.progress)
                now = time.monotonic()
                rss = rss_mb(emulator.pid)
                if emulator.returncode is not None:
                    load.stop_reason = f"the emulator exited with {emulator.returncode}"
                elif poller.done():  # the account is lost: stop, and let the error show
                    load.stop_reason = "reading the journal failed"
                elif rss is not None and rss > args.max_rss_mb:
                    load.stop_reason = f"emulator RSS {rss:.0f} MB passed --max-rss-mb"
                attempts = sum(ledger.attempts.values())
                span = now - last[0]
                print(f"  [{now - load.started:6.0f} s] accepted {load.accepted:>9,}  "
                      f"{(load.accepted - last[1]) / span:6.0f} req/s  "
                      f"RSS {rss or 0:6.0f} MB  attempts {(attempts - last[2]) / span:6.0f}/s  "
                      f"open {len(ledger.open):>7,}  errors {sum(load.errors.values())}",
                      flush=True)
                last = (now, load.accepted, attempts)

        poller = asyncio.create_task(reader.run(args.poll_interval, stop_polling))
        watcher = asyncio.create_task(watch())
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        load.ended = time.monotonic()
        cpu_after = {name: cpu_seconds(pid) for name, pid in pids.items()}
        control_cost = (control.calls, control.seconds)
        sched_after = sched_seconds(emulator.pid)
        load_average = os.getloadavg()[1]
        probe.send_signal(signal.SIGTERM)
        probe_out, _ = await asyncio.wait_for(probe.communicate(), START_LIMIT)
        sending = load.ended - load.started
        print(f"  sending ended after {sending:.1f} s"
              + (f": {load.stop_reason}" if load.stop_reason else ""), flush=True)

        # let the last messages reach their final status and every delivery its first attempt
        settle_deadline = time.monotonic() + args.settle_seconds
        while time.monotonic() < settle_deadline and emulator.returncode is None and (
                ledger.expected or ledger.unattempted):
            await asyncio.sleep(0.5)
        stop_polling.set()
        await poller
        watcher.cancel()
        settled = time.monotonic()

        # the account: the emulator's pending count and the journal up to the same seq
        state = await control.clock()
        cursor = state.get("cursor", {})
        await reader.poll(until=int(cursor.get("journal", 0)))
        pending_api = state.get("pending_deliveries")
        if pending_api is None:
            pending_api = (await control.get(base + "/_emulator/health")).get(
                "pending_deliveries")
        newest = int(cursor.get("deliveries", 0))
        sample, _ = await control.pages("/_emulator/deliveries", "deliveries",
                                        {"since": str(max(0, newest - SAMPLE_DELIVERIES))},
                                        SAMPLE_DELIVERIES)
        bad_records = sum(1 for d in sample if not record_ok(d))
        rss_end = rss_mb(emulator.pid)
        rss_peak = rss_mb(emulator.pid, "VmHWM")
        stats = await get_stats(stats_session, origins["stats"])

        missing = len(ledger.expected)
        vanished = (max(0, len(ledger.open) - pending_api) if isinstance(pending_api, int)
                    else 0)
        malformed = (ledger.no_reason + len(ledger.exhausted_unexplained) + ledger.without_next
                     + sum(ledger.odd_states.values()))
        lost = missing + vanished + malformed + bad_records

        exit_seconds, in_flight, exit_line, exit_code = await sigterm(
            args, control, sender, stats_session, origins, emulator, output)

        # -- the report ------------------------------------------------------------------------
        latencies = json.loads(probe_out or b"{}").get("latencies_ms", [])
        probe_errors = json.loads(probe_out or b"{}").get("errors", 0)
        account_span = settled - load.started
        attempts_total = sum(ledger.attempts.values())
        seen_total = sum(s["requests"] for s in stats.values())
        print("results")
        print(f"  sending          {load.accepted:,} messages accepted in {sending:.1f} s: "
              f"{load.accepted / sending:,.0f} req/s"
              + (f"; {sum(load.errors.values()):,} failed: {dict(load.errors.most_common(4))}"
                 if load.errors else ""))
        if latencies:
            print(f"  send latency     p50 {statistics.median(latencies):.1f} ms, "
                  f"p99 {percentile(latencies, 0.99):.1f} ms, max {max(latencies):.0f} ms "
                  f"(probe: {len(latencies):,} Telesign sends, one every "
                  f"{args.probe_interval * 1000:g} ms on its own connection"
                  + (f"; {probe_errors} failed" if probe_errors else "") + ")")
        mark_text = f"{load.rss_mark:,.0f} MB" if load.rss_mark else "not reached"
        print(f"  emulator RSS     {mark_text} at {n(mark)} messages, {rss_end or 0:,.0f} MB at "
              f"the end (peak {rss_peak or 0:,.0f} MB); pending deliveries (never evicted) "
              f"{load.pending_mark} at the mark, {pending_api} at the end")
        print(f"  webhook attempts {attempts_total / account_span:,.0f}/s journaled by the "
              f"emulator, {seen_total / account_span:,.0f}/s reached a receiver "
              f"(over {account_span:.0f} s)")
        print(f"  {'receiver':<9}{'queued':>10}{'attempts':>10}{'reached':>10}{'delivered':>10}"
              f"{'exhausted':>10}{'open':>9}  attempt outcomes")
        open_by = Counter(r.receiver for r in ledger.open.values())
        for kind in RECEIVER_KINDS:
            outcomes = ", ".join(f"{cause} {count:,}" for cause, count
                                 in ledger.causes.get(kind, Counter()).most_common(3))
            print(f"  {kind:<9}{ledger.queued[kind]:>10,}{ledger.attempts[kind]:>10,}"
                  f"{stats[kind]['requests']:>10,}{ledger.delivered[kind]:>10,}"
                  f"{ledger.exhausted[kind]:>10,}{open_by[kind]:>9,}  {outcomes}")
        first = sum(ledger.first_healthy.values())
        failed_first = first - ledger.first_healthy["HTTP 200"]
        print(f"  healthy receiver {failed_first:,} of {first:,} first attempts failed"
              + (f" ({dict(ledger.first_healthy.most_common(3))})" if failed_first else ""))
        print(f"  deliveries       {sum(ledger.queued.values()):,} queued: "
              f"{sum(ledger.delivered.values()):,} delivered, "
              f"{sum(ledger.exhausted.values()):,} exhausted, {len(ledger.open):,} pending with a "
              f"next attempt ({ledger.unattempted:,} not attempted yet); emulator's "
              f"pending_deliveries {pending_api}")
        print(f"  lost             {lost:,} = {missing:,} accepted with no delivery queued + "
              f"{vanished:,} open but no longer pending in the emulator + {malformed:,} ended "
              f"without a reason or next attempt + {bad_records:,} bad of {len(sample):,} "
              "delivery records read"
              + (f"; the journal dropped up to {ledger.overrun:,} entries unread, so this is a "
                 "lower bound" if ledger.overrun else "")
              + (f"; {ledger.unknown_attempts:,} attempts of deliveries never seen queued"
                 if ledger.unknown_attempts else ""))
        print("  exit on SIGTERM  " + (f"{exit_seconds:.2f} s" if exit_seconds is not None
                                        else f"not within {args.exit_limit:g} s (killed)")
              + f" with {in_flight} attempts open on the hanging receiver; exit status "
              f"{exit_code}; its last line: {exit_line or '(none)'}")
        if all(value is not None for value in (*cpu_before.values(), *cpu_after.values())):
            shares = ", ".join(f"{name} {(cpu_after[name] - cpu_before[name]) / sending:.0%}"
                               for name in pids)
            print(f"  CPU while sending (share of one core): {shares}")
        if control_cost[0]:
            reads, seconds = control_cost
            print(f"  journal reads    {reads:,}, {seconds / reads:.2f} s each on average "
                  "(waiting behind the load included)")
        if sched_before and sched_after:
            waited = (sched_after[1] - sched_before[1]) / sending
            print(f"  the emulator waited for a CPU {waited:.0%} of the sending time (load "
                  f"average {load_average:.1f} over 5 min)"
                  + ("; other programs took its CPU, so these figures understate it"
                     if waited > 0.1 else ""))
        errors_text = (output.parent / "emulator.out").read_text(errors="replace")
        tracebacks = errors_text.count("Traceback")
        if tracebacks:
            print(f"  the emulator printed {tracebacks} tracebacks")

        checks = [
            (load.rss_mark is not None and rss_end is not None
             and rss_end <= RSS_GROWTH_LIMIT * load.rss_mark,
             f"RSS at the end {rss_end or 0:,.0f} MB <= {RSS_GROWTH_LIMIT} x RSS at {n(mark)} "
             f"messages ({mark_text})"),
            (lost == 0 and not ledger.overrun,
             f"deliveries lost: {lost:,}" + (" (journal overran: cannot be proved)"
                                             if ledger.overrun else "")),
            (exit_seconds is not None and exit_seconds <= EXIT_PASS_SECONDS,
             "exit on SIGTERM " + (f"{exit_seconds:.2f} s" if exit_seconds is not None
                                   else f"> {args.exit_limit:g} s")
             + f" <= {EXIT_PASS_SECONDS:g} s"),
            (load.accepted == args.messages,
             f"messages sent: {load.accepted:,} of {args.messages:,} accepted"
             + (f" (cut short: {load.stop_reason})" if load.stop_reason else "")),
        ]
        for ok, text in checks:
            print(f"{'PASS' if ok else 'FAIL'}  {text}")
        return 0 if all(ok for ok, _ in checks) else 1


def record_ok(delivery: dict[str, Any]) -> bool:
    """A delivery record as the emulator keeps it is done with a reason, or has a next
    attempt."""
    state = delivery.get("state")
    if state == "delivered":
        return True
    if state == "exhausted":
        return bool(delivery.get("reason"))
    return delivery.get("next_attempt_at") is not None


async def sigterm(args: argparse.Namespace, control: Control, sender: Sender,
                  stats_session: Any, origins: dict[str, str],
                  emulator: asyncio.subprocess.Process, output: Path
                  ) -> tuple[float | None, int, str | None, int | None]:
    """Send a burst to the hanging receiver at the default timeout, SIGTERM the emulator while
    its attempts are open, and time the exit: (seconds or None, attempts open on the hanging
    receiver, the emulator's last line, exit status)."""
    if emulator.returncode is not None:
        return None, 0, None, emulator.returncode
    await control.patch_config({"webhooks": {"timeout_seconds": SHUTDOWN_WEBHOOK_TIMEOUT}})
    before = (await get_stats(stats_session, origins["stats"]))["hang"]["requests"]
    scratch = Load()
    # a fresh session: the load's connections have been idle and the server may have closed them
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)) as s:
        await asyncio.gather(*(sender.send(s, provider, "hang", scratch)
                               for provider in ("telesign", "tsg")
                               for _ in range(args.hang_burst // 2)))
    wait_until = time.monotonic() + 15.0  # Telesign's final status comes 5 s after the send
    in_flight = 0
    while time.monotonic() < wait_until:
        stats = await get_stats(stats_session, origins["stats"])
        in_flight = stats["hang"]["open"]
        if stats["hang"]["requests"] - before >= scratch.accepted:
            break
        await asyncio.sleep(0.1)
    started = time.monotonic()
    emulator.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(emulator.wait(), args.exit_limit)
        seconds: float | None = time.monotonic() - started
    except TimeoutError:
        emulator.kill()
        await emulator.wait()
        seconds = None
    lines = [line for line in output.read_text(errors="replace").splitlines() if line.strip()]
    return seconds, in_flight, (lines[-1].strip() if lines else None), emulator.returncode


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000,
                        help="messages to send, half Telesign, half TSG (default 1,000,000)")
    parser.add_argument("--concurrency", type=int, default=48, help="load requests in flight")
    parser.add_argument("--rate", type=float, default=300.0,
                        help="messages a second, paced (open loop); 0 sends as fast as "
                             "--concurrency allows (default %(default)s)")
    parser.add_argument("--speed", type=float, default=1000.0,
                        help="the emulator's clock speed (serve --speed; default %(default)s, "
                             "so TSG's three days of redelivery take about four minutes)")
    parser.add_argument("--hostile-share", type=float, default=0.25,
                        help="share of callbacks to hostile receivers (default 0.25)")
    parser.add_argument("--timeout", type=float, default=2.0,
                        help="webhooks.timeout_seconds while sending (default 2)")
    parser.add_argument("--probe-interval", type=float, default=0.05,
                        help="seconds between the probe's sends (default 0.05)")
    parser.add_argument("--rss-mark", type=int, default=100_000,
                        help="the message count at which the first RSS is read (default 100,000)")
    parser.add_argument("--max-seconds", type=float, default=4500.0,
                        help="stop sending after this many seconds (default %(default)s)")
    parser.add_argument("--max-rss-mb", type=float, default=None,
                        help="stop sending when the emulator's RSS passes this (default: half "
                        "the memory available at start)")
    parser.add_argument("--settle-seconds", type=float, default=30.0,
                        help="after sending, wait at most this long for the last callbacks' "
                        "first attempts (default 30)")
    parser.add_argument("--exit-limit", type=float, default=30.0,
                        help="kill the emulator if SIGTERM has not stopped it after this long")
    parser.add_argument("--hang-burst", type=int, default=40,
                        help="messages sent to the hanging receiver before SIGTERM (default 40)")
    parser.add_argument("--poll-interval", type=float, default=2.0,
                        help="seconds between journal reads (default 2)")
    parser.add_argument("--progress", type=float, default=10.0,
                        help="seconds between progress lines (default 10)")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the emulator and the load to different cores")
    parser.add_argument("--role", choices=("soak", "receivers", "probe"), default="soak",
                        help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--interval", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--authorization", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "soak":
        if args.messages < 2 or args.concurrency < 1 or not 0 <= args.hostile_share <= 1:
            parser.error("--messages must be at least 2, --concurrency at least 1 and "
                         "--hostile-share between 0 and 1")
        if args.max_rss_mb is None:
            args.max_rss_mb = available_mb() / 2
    return args


def available_mb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 4096.0


def main() -> int:
    args = parse_args()
    if args.role == "receivers":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(receivers_main())
        return 0
    if args.role == "probe":
        probe_main(args.url, args.interval, args.authorization)
        return 0
    return asyncio.run(interruptible(run(args)))


async def interruptible(work: Any) -> int:
    """SIGTERM cancels the run like Ctrl-C does, so the processes it started are ended."""
    task = asyncio.ensure_future(work)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        print("soak: stopped by SIGTERM", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
