"""Benchmark: ``POST /v1/messaging`` with HMAC auth, emulator against a bare aiohttp baseline.

The servers run as separate processes on loopback, started by this script: the emulator exactly
as ``sms-emulator serve`` runs it (real clock, so lifecycles and their jobs run too) with its
event lines on, its standard output going to a file as a server's log would; the same emulator
with ``--quiet``, to show what the lines cost; and ``bench/bare_app.py``, which answers the same
JSON and does nothing else. The load generator sends the same HMAC-signed form requests (fresh
nonce and date each, as the SDK does) to all, with a fixed number of concurrent connections.
Rounds alternate baseline / emulator / quiet emulator so that noise on a shared machine hits all
alike; the medians and ratios are printed. Throughput on a shared two-core machine swings with
whatever else runs, so the servers' own CPU time per request (from ``/proc``, on Linux) is
printed too: it is a steadier measure of the work the emulator, and its log, add. The log's
share is small enough to drown in that noise, so it is also measured in this process: the cost
of one event line (format and write to a file), set against the emulator's CPU per request.

Bounded: a fixed request count per round, a time limit per round, loopback only.

    python bench/messaging_bench.py [--requests 3000] [--concurrency 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from proc_stats import cpu_seconds  # noqa: E402  (beside this script)

from emulator.core.clock import ManualClock  # noqa: E402
from emulator.core.journal import Journal  # noqa: E402
from emulator.log import StreamLog  # noqa: E402
from emulator.providers.telesign import signing  # noqa: E402
from emulator.providers.telesign.provider import (  # noqa: E402
    DEFAULT_API_KEY,
    DEFAULT_CUSTOMER_ID,
)

BODY = urlencode({"phone_number": "15551234567", "message": "Your code is 123456",
                  "message_type": "OTP"}).encode()
CONTENT_TYPE = "application/x-www-form-urlencoded"
KEY = signing.decode_api_key(DEFAULT_API_KEY)
START_LIMIT = 15.0
REQUEST_TIMEOUT = 30.0  # a request that takes longer means the server is stuck: fail loudly


def signed_headers() -> dict[str, str]:
    """The headers the Telesign SDK sends for an HMAC-SHA256 POST."""
    date = formatdate(usegmt=True)
    nonce = str(uuid.uuid4())
    text = signing.string_to_sign(method="POST", content_type=CONTENT_TYPE, date=date,
                                  auth_method="HMAC-SHA256", nonce=nonce, x_ts_date=None,
                                  body=BODY, resource="/v1/messaging")
    signature = signing.sign(KEY, text)
    return {"Authorization": f"TSA {DEFAULT_CUSTOMER_ID}:{signature}", "Date": date,
            "Content-Type": CONTENT_TYPE, "x-ts-auth-method": "HMAC-SHA256", "x-ts-nonce": nonce}


async def start(output: Path, *command: str) -> tuple[asyncio.subprocess.Process, str]:
    """Start ``command`` with its standard output in the file ``output``; its URL, once the
    file says where it listens."""
    with output.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(*command, stdout=out,
                                                    stderr=asyncio.subprocess.DEVNULL)
    deadline = time.monotonic() + START_LIMIT
    while time.monotonic() < deadline and proc.returncode is None:
        found = re.search(rb"listening on (http://\S+)", output.read_bytes())
        if found:
            return proc, found.group(1).decode()
        await asyncio.sleep(0.05)  # a benchmark, not a test: poll the file for the banner
    proc.kill()
    raise SystemExit(f"{command[-1]} did not start")



async def load(url: str, requests: int, concurrency: int, limit: float) -> tuple[float, int]:
    """Send ``requests`` POSTs over ``concurrency`` connections; requests per second and the
    number of answers that were not HTTP 200."""
    remaining = requests
    failures = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        deadline = time.monotonic() + limit

        async def worker() -> int:
            nonlocal remaining, failures
            done = 0
            while remaining > 0 and time.monotonic() < deadline:
                remaining -= 1
                async with session.post(f"{url}/v1/messaging", data=BODY,
                                        headers=signed_headers()) as response:
                    await response.read()
                    failures += response.status != 200
                done += 1
            return done

        started = time.perf_counter()
        try:
            counts = await asyncio.wait_for(
                asyncio.gather(*(worker() for _ in range(concurrency))), limit + REQUEST_TIMEOUT)
        except TimeoutError:
            raise SystemExit(f"{url}: no progress within {limit + REQUEST_TIMEOUT:g} s") from None
        elapsed = time.perf_counter() - started
    return sum(counts) / elapsed, failures


async def line_cost(folder: Path, entries: int = 20000, burst: int = 20) -> float:
    """Microseconds per ``api_call`` entry to format its line and write it to a file, ``burst``
    entries a turn of the event loop, as ``serve`` does: the time to record entries with the
    log on, less the time with no subscriber, each the best of five runs. A steadier figure
    than the difference of two servers' CPU on a shared machine."""
    detail = dict(method="POST", path="/v1/messaging", query="", content_type=CONTENT_TYPE,
                  body=BODY, status=200, response=b"{}", latency_ms=1.234, code=290,
                  message_ids=["0123456789ABCDEF0123456789ABCDEF"])
    loop = asyncio.get_running_loop()

    async def run(with_log: bool) -> float:
        journal = Journal(ManualClock(1_767_225_600.0))
        with (folder / "line-cost.log").open("w", encoding="utf-8") as out:
            if with_log:
                journal.subscribe(StreamLog(out, interval=0))  # a write every turn: the worst
            started = time.perf_counter()
            for n in range(entries):
                journal.record("api_call", "telesign", **detail)
                if n % burst == burst - 1:
                    turn = loop.create_future()  # queued after the log's write
                    loop.call_soon(turn.set_result, None)
                    await turn
            elapsed = time.perf_counter() - started
        return elapsed

    with_log = min([await run(True) for _ in range(5)])
    without = min([await run(False) for _ in range(5)])
    return (with_log - without) / entries * 1e6


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per round")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent connections")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per server, alternating")
    parser.add_argument("--round-limit", type=float, default=30.0,
                        help="real seconds a round may take at most")
    args = parser.parse_args()

    python = sys.executable
    serve = (python, "-m", "emulator", "serve", "--port", "0", "--seed", "1")
    folder = Path(tempfile.mkdtemp(prefix="sms-emulator-bench-"))
    log_file = folder / "emulator.log"
    emulator, emulator_url = await start(log_file, *serve)
    quiet, quiet_url = await start(folder / "quiet.log", *serve, "--quiet")
    bare, bare_url = await start(folder / "bare.log", python, str(ROOT / "bench" / "bare_app.py"))
    servers = {"baseline": (bare, bare_url), "emulator": (emulator, emulator_url),
               "quiet": (quiet, quiet_url)}
    results: dict[str, list[float]] = {name: [] for name in servers}
    cpu: dict[str, list[float]] = {name: [] for name in servers}
    pids = {name: proc.pid for name, (proc, _) in servers.items()}
    try:
        for _, url in servers.values():  # warm-up, not counted
            await load(url, min(300, args.requests), args.concurrency, args.round_limit)
        for round_number in range(1, args.rounds + 1):
            for name, (_, url) in servers.items():
                before = cpu_seconds(pids[name])
                rate, failures = await load(url, args.requests, args.concurrency,
                                            args.round_limit)
                after = cpu_seconds(pids[name])
                if before is not None and after is not None:
                    cpu[name].append((after - before) / args.requests * 1e6)
                if failures:
                    raise SystemExit(f"{name}: {failures} answers were not HTTP 200; "
                                     "the benchmark would measure an error path")
                results[name].append(rate)
                print(f"round {round_number}  {name:<8}  {rate:8.0f} req/s", flush=True)
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            await proc.wait()

    baseline, measured, silent = (statistics.median(results[name])
                                  for name in ("baseline", "emulator", "quiet"))
    with log_file.open("rb") as log:  # event lines start with their time; the banner does not
        log_lines = sum(1 for line in log if line[:1].isdigit())
    log_size = log_file.stat().st_size
    per_line = await line_cost(folder)
    shutil.rmtree(folder)
    requests = (args.rounds * args.requests + min(300, args.requests))
    print(f"POST /v1/messaging, HMAC-SHA256, {args.concurrency} connections, "
          f"{args.requests} requests x {args.rounds} rounds (medians)")
    print(f"  bare aiohttp baseline        {baseline:8.0f} req/s")
    print(f"  sms-emulator, event lines on {measured:8.0f} req/s  ({log_lines} lines, "
          f"{log_size / 1e6:.1f} MB, written to a file)")
    print(f"  sms-emulator --quiet         {silent:8.0f} req/s")
    print(f"  ratio (lines on / baseline)  {measured / baseline:8.2f}")
    print(f"  ratio (lines on / --quiet)   {measured / silent:8.2f}")
    if all(cpu.values()):
        bare_cpu, emulator_cpu, quiet_cpu = (statistics.median(cpu[name])
                                             for name in ("baseline", "emulator", "quiet"))
        print(f"  server CPU per request: baseline {bare_cpu:.0f} us, emulator "
              f"{emulator_cpu:.0f} us, ratio {bare_cpu / emulator_cpu:.2f}; --quiet "
              f"{quiet_cpu:.0f} us, so lines on minus --quiet {emulator_cpu - quiet_cpu:+.0f} us "
              f"({(emulator_cpu / quiet_cpu - 1) * 100:+.1f} %; noisy on a shared machine)")
    lines_per_request = log_lines / requests
    print(f"  one event line, in process: {per_line:.1f} us to format and write; "
          f"{lines_per_request:.2f} lines per request here", end="")
    if all(cpu.values()):
        print(f", {per_line * lines_per_request / emulator_cpu * 100:.1f} % of the emulator's "
              "CPU per request")
    else:
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
