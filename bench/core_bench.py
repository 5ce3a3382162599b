"""The emulator's own machinery, measured apart from HTTP load:

- **webhook dispatch**: an emulator as ``serve`` runs it but on a manual clock, with Telesign's
  ``callback_url`` at a sink in this process that answers ``200``. ``count`` messages are sent
  (not timed), then one ``clock/advance`` of 10 s takes them through the default lifecycle
  (203, then 200, whose delivery report is a webhook): callbacks per second is ``count`` over
  that advance's real time, from its request to its answer, which comes once every attempt
  has its answer. The sink must have had every callback, and each delivery be ``delivered``.
  The baseline, measured straight after on the same core and sink: a bare aiohttp client
  (``bench/bare_client.py``) POSTing as many delivery reports, as many at once as the
  dispatcher keeps in flight to one host; what a callback costs beyond it is the emulator's;
- **a manual-clock advance over many due jobs**, in this process: an emulator started as
  ``serve`` starts it (log lines to a file), ``jobs / 2`` messages sent through the provider,
  then one advance runs their 2 status steps each; its CPU seconds, the least of three runs
  (a shared machine's noise only ever adds); the dispatch rate is reported as the median of
  three;
- **the emulator's own work for one message**, from the same runs: the CPU of those sends and
  of that advance, per message (the least of three). It is what a ``POST /v1/messaging``
  costs beyond HTTP, auth, the form, validation and the answer: the message, its journal
  entries and log lines, its two status steps;
- **memory per stored message**, in the same process: how much more memory (tracemalloc) the
  store and the journal hold after those messages and their steps, per message.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
from aiohttp import web
from proc_stats import cpu_seconds
from python_load import load
from servers import on_core, start
from telesign_requests import BODY, basic_headers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulator.app import CONTEXT, PROVIDERS
from emulator.config import Settings
from emulator.core.dispatcher import DEFAULT_CONNECTIONS_PER_HOST
from emulator.embedded import running
from emulator.gc_tuning import tune_for_serving
from emulator.providers.telesign.validation import parse_form, validate_send

BENCH = Path(__file__).resolve().parent
#: real seconds the advance of the dispatch benchmark may take at most
ADVANCE_LIMIT = 120.0


class Sink:
    """A webhook receiver answering 200 to every POST, counting them."""

    def __init__(self) -> None:
        self.received = 0
        self.runner: web.AppRunner | None = None

    async def _receive(self, request: web.Request) -> web.Response:
        await request.read()
        self.received += 1
        return web.Response(text="OK")

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/callbacks", self._receive)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{self.runner.addresses[0][1]}/callbacks"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


async def _call(http: aiohttp.ClientSession, method: str, url: str,
                document: dict[str, Any] | None = None) -> dict[str, Any]:
    async with http.request(method, url, json=document) as response:
        answer = await response.json()
        if response.status != 200:
            raise SystemExit(f"{method} {url}: HTTP {response.status} {answer}")
        return answer


class Dispatch(NamedTuple):
    """What :func:`dispatch_rate` measured."""

    #: callbacks per second, and the emulator's CPU microseconds per callback
    rate: float
    cpu_us: float
    #: the same of a bare aiohttp client POSTing as many to the same sink (the baseline)
    bare_rate: float
    bare_cpu_us: float


async def dispatch_rate(python: str, folder: Path, count: int, core: int | None) -> Dispatch:
    """Callbacks per second to a local sink, and the emulator's CPU microseconds per callback
    over the advance (the lifecycle steps that cause them included); then the same of a bare
    aiohttp client (``bench/bare_client.py``, on the same core, with the dispatcher's
    connections per host) POSTing ``count`` delivery reports to the same sink."""
    sink = Sink()
    sink_url = await sink.start()
    serve = on_core(core, python, "-m", "emulator", "serve", "--clock", "manual", "--port",
                    "0", "--smpp-port", "off", "--seed", "1")
    server, url = await start(folder / "dispatch.log", *serve)
    try:
        async with aiohttp.ClientSession() as http:
            # every callback falls due at one instant: let them all wait for a connection
            await _call(http, "PATCH", f"{url}/_emulator/config",
                        {"telesign": {"callback_url": sink_url},
                         "webhooks": {"max_queued_per_host": count}})
            _, failures = await load(url, count, 32, ADVANCE_LIMIT, basic_headers)
            if failures:
                raise SystemExit(f"dispatch: {failures} of {count} sends failed")
            before, started = cpu_seconds(server.pid), time.perf_counter()
            await _call(http, "POST", f"{url}/_emulator/clock/advance", {"seconds": 10})
            elapsed, after = time.perf_counter() - started, cpu_seconds(server.pid)
            health = await _call(http, "GET", f"{url}/_emulator/health")
        deliveries = health["retention"]["deliveries"]["kept"]
        if sink.received != count or deliveries != count:
            raise SystemExit(f"dispatch: {count} messages, but the sink had {sink.received} "
                             f"callbacks and the emulator {deliveries} deliveries")
        server.terminate()
        await server.wait()
        bare_rate, bare_cpu = await _bare_client(python, sink_url, count, core)
    finally:
        if server.returncode is None:
            server.terminate()
            await server.wait()
        await sink.stop()
    cpu = (after - before) / count * 1e6 if before is not None and after is not None else 0.0
    return Dispatch(count / elapsed, cpu, bare_rate, bare_cpu)


async def _bare_client(python: str, sink_url: str, count: int, core: int | None
                       ) -> tuple[float, float]:
    client = await asyncio.create_subprocess_exec(
        *on_core(core, python, str(BENCH / "bare_client.py"), sink_url, str(count),
                 str(DEFAULT_CONNECTIONS_PER_HOST)), stdout=asyncio.subprocess.PIPE)
    try:
        async with asyncio.timeout(ADVANCE_LIMIT):
            out, _ = await client.communicate()
    finally:
        if client.returncode is None:
            client.kill()
            await client.wait()
    if client.returncode != 0:
        raise SystemExit(f"dispatch: the bare client failed ({client.returncode})")
    rate, cpu = out.split()
    return float(rate), float(cpu)


def _send_all(app: web.Application, count: int) -> None:
    telesign = app[PROVIDERS]["telesign"]
    send = validate_send(parse_form(BODY))
    for _ in range(count):
        telesign.send(send, "basic")


class CoreFigures(NamedTuple):
    """What :func:`advance_and_memory` measured."""

    #: CPU seconds of the advance, the least of the runs
    advance_cpu: float
    #: the due jobs that advance ran
    ran: int
    #: bytes per stored message held by the store and the journal...
    bytes_per_message: float
    #: ...and the journal's estimate of its share
    journal_bytes_per_message: float
    #: CPU microseconds per message of its send and its status steps, the least of the runs
    work_us: float


async def advance_and_memory(folder: Path, jobs: int, runs: int = 3) -> CoreFigures:
    """CPU seconds of an advance over ``jobs`` due status steps (the least of ``runs``, each
    in an emulator of its own: a shared machine's noise only ever adds), the jobs it ran, the
    CPU per message of its send and its steps, and the bytes per stored message held by the
    store and journal (tracemalloc, an emulator with a tenth as many messages, so that tracing
    does not slow the others) and by the journal's share of them."""
    tune_for_serving()
    settings = Settings(clock="manual", port=0, seed=1)
    sends = max(1, jobs // 2)
    cpu = work = float("inf")
    with (folder / "advance.log").open("w") as log:
        for _ in range(runs):
            async with running(settings, None, log) as (app, _):
                started = time.process_time()
                _send_all(app, sends)
                await asyncio.sleep(0.1)  # the log's lines of those sends are written
                sent = time.process_time() - started
                gc.collect()
                started = time.process_time()
                ran = await app[CONTEXT].scheduler.advance(10)
                await asyncio.sleep(0.1)  # the log's lines of those steps are written
                advanced = time.process_time() - started
                cpu, work = min(cpu, advanced), min(work, sent + advanced)
        messages = max(1, jobs // 20)
        async with running(settings, None, log) as (app, _):
            ctx = app[CONTEXT]
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            journal_before = ctx.journal.bytes
            _send_all(app, messages)
            await ctx.scheduler.advance(10)
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
            journal = ctx.journal.bytes - journal_before
    return CoreFigures(cpu, ran, held / messages, journal / messages, work / sends * 1e6)
