"""Benchmark: the emulator against a bare aiohttp app, on throughput, tail latency, CPU per
request and start-up; then its webhook dispatch rate, a manual-clock advance over many due jobs
and its memory per stored message (:mod:`core_bench`).

**Load.** ``POST /v1/messaging`` as the Telesign SDK sends it, HMAC-SHA256 (a fresh nonce each)
and Basic, from ``wrk`` (one thread, ``--connections`` connections) pinned to one core, the
servers pinned to the other. The servers are processes on loopback started here: the emulator
exactly as ``sms-emulator serve`` runs it (real clock, default lifecycle, event lines written
to a file as a server's log would be) and ``bench/bare_app.py``, which answers the same JSON
and does nothing else, on the same event loop. Rounds alternate bare / emulator. Each of the
emulator's measured runs comes straight after ``--warm-up`` seconds of the same load, so that
it measures the steady state with the lifecycle running: the status steps of earlier requests
(2 and 5 s after each) fall due during it, as they do in a long load test. After it the
emulator gets :data:`SETTLE` seconds to finish those steps, so that they do not run during the
bare app's next round. Per server and auth, the medians of: requests per second, p50 and p99
(wrk's), server CPU per request (``/proc``, all its work in the measured run, lifecycle steps
included) and RSS at the end; then the ratios emulator / bare, each the median of the rounds'
own ratios (a bare run and the emulator's next), so that drift between rounds cancels. wrk's
connections send as fast as they are answered, so under this load the slower server's p50 and
p99 grow with its lower rate. Then, per auth, ``--paced-rounds`` rounds of a **paced** run of
each server at the same offered rate (``--paced-share`` of the emulator's: both keep up), whose
p99s compare the tails at the same load (:mod:`wrk_load`); their ratio too is the median of
the rounds' own. Where ``wrk`` is missing (and cannot be installed) the load comes from Python,
the figures are the client's more than the servers', and there are no paced runs.

**Start-up**: real seconds from launching ``sms-emulator serve`` (and the bare app) to its first
HTTP answer, the median of five.

**The emulator's own work for one message** (:mod:`core_bench`) is printed beside the CPU that
the aim of CPU per request leaves above the bare app's: what a send costs without HTTP, auth,
the form, validation and the answer, against what all of those and it may cost together.

Bounded: every run has a fixed length, every server a time limit to start; loopback only.

    python bench/messaging_bench.py [--seconds 5] [--warm-up 5] [--rounds 2] [--connections 50]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import shutil
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import core_bench
import python_load
import telesign_requests
import wrk_load
from proc_stats import cpu_seconds, rss_megabytes
from servers import on_core, pin, start, startup_seconds

ROOT = Path(__file__).resolve().parent.parent
#: real seconds after an emulator run for its messages' lifecycle steps (5 s) to end
SETTLE = 5.5
#: the bare app's warm-up before each run (imports and caches; it has no lifecycle)
BARE_WARM_UP = 1.0
#: HMAC requests made for an emulator run, per second of the bare app's rate, for headroom
HMAC_HEADROOM = 1.3
STARTUP_RUNS = 5
#: the paced runs' offered rate, as a share of the emulator's rate at full load
PACED_SHARE = 0.5
#: paced rounds (a bare run, then the emulator's) per auth: one run's p99 is noisy
PACED_ROUNDS = 3
SERVERS = ("bare", "emulator")
AUTHS = ("hmac", "basic")
#: the aims set for the emulator
AIMS = {"throughput": 0.7, "cpu": 1.5, "p99": 3.0, "startup": 0.5, "dispatch": 2000.0,
        "advance": 1.0}


class Load:
    """Runs of one auth method's requests against a server, by wrk or (without it) Python."""

    def __init__(self, wrk: str | None, folder: Path, connections: int,
                 core: int | None) -> None:
        self.wrk = wrk
        self.folder = folder
        self.connections = connections
        self.core = core
        self._runs = 0

    def _requests_file(self, url: str, auth: str, count: int) -> Path:
        self._runs += 1
        host = url.split("//", 1)[1]
        make = telesign_requests.HEADERS[auth]
        path = self.folder / f"requests-{self._runs}.bin"
        wrk_load.write_requests(path, [telesign_requests.raw_request(host, make())
                                       for _ in range(count if auth == "hmac" else 1)])
        return path

    async def run(self, url: str, auth: str, seconds: float,
                  expected_rate: float, pace_ms: float = 0.0) -> wrk_load.Report:
        if self.wrk is None:
            return await self._python(url, auth, seconds)
        count = math.ceil(expected_rate * HMAC_HEADROOM * seconds) + 1000
        requests = self._requests_file(url, auth, count)
        script = self.folder / ("paced.lua" if pace_ms > 0 else "requests.lua")
        report = await asyncio.to_thread(
            wrk_load.run, self.wrk, url + telesign_requests.PATH, requests, script, seconds,
            self.connections, self.core, pace_ms)
        requests.unlink()
        return report

    async def _python(self, url: str, auth: str, seconds: float) -> wrk_load.Report:
        latencies: list[float] = []
        rate, failures = await python_load.load(
            url, 10**9, self.connections, seconds, telesign_requests.HEADERS[auth], latencies)
        return wrk_load.Report(
            requests=len(latencies), seconds=seconds, rate=rate,
            p50_ms=python_load.percentile(latencies, 0.5),
            p99_ms=python_load.percentile(latencies, 0.99), failures=failures, started_over=0)


def check(name: str, auth: str, report: wrk_load.Report) -> None:
    if report.failures:
        hint = (" (nonces used again: the run outgrew its requests)" if report.started_over
                else "")
        raise SystemExit(f"{name}, {auth}: {report.failures} of {report.requests} answers were "
                         f"not HTTP 200{hint}; the benchmark would measure an error path")


async def measure_load(args: argparse.Namespace, load: Load, urls: dict[str, str],
                       pids: dict[str, int]) -> dict[tuple[str, str], dict[str, list[float]]]:
    figures: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for auth in args.auth:
        bare_rate = 0.0
        for round_number in range(1, args.rounds + 1):
            for name in SERVERS:
                warm_up = min(BARE_WARM_UP, args.warm_up) if name == "bare" else args.warm_up
                if warm_up > 0:
                    check(name, auth, await load.run(urls[name], auth, warm_up, bare_rate))
                before = cpu_seconds(pids[name])
                report = await load.run(urls[name], auth, args.seconds, bare_rate)
                after = cpu_seconds(pids[name])
                check(name, auth, report)
                if name == "bare":
                    bare_rate = max(bare_rate, report.rate)
                else:
                    await asyncio.sleep(args.settle)  # a benchmark: the lifecycle is real time
                row = figures[name, auth]
                row["rate"].append(report.rate)
                row["p50"].append(report.p50_ms)
                row["p99"].append(report.p99_ms)
                if before is not None and after is not None and report.requests:
                    row["cpu"].append((after - before) / report.requests * 1e6)
                print(f"round {round_number}  {auth:<5}  {name:<8}  {report.rate:7.0f} req/s  "
                      f"p50 {report.p50_ms:7.2f} ms  p99 {report.p99_ms:7.2f} ms"
                      + (f"  {row['cpu'][-1]:5.0f} us CPU/req" if row["cpu"] else ""),
                      flush=True)
    return figures


async def measure_paced(args: argparse.Namespace, load: Load, urls: dict[str, str],
                        figures: dict[tuple[str, str], dict[str, list[float]]]
                        ) -> dict[str, dict[str, list[wrk_load.Report]]]:
    """Per auth, ``--paced-rounds`` rounds of a paced run of each server at the same offered
    rate: ``--paced-share`` of the emulator's median rate (so that both keep up; the bare app
    is idle most of the time)."""
    paced: dict[str, dict[str, list[wrk_load.Report]]] = {}
    for auth in args.auth:
        rate = args.paced_share * median(figures["emulator", auth]["rate"])
        pace_ms = args.connections / rate * 1000
        paced[auth] = {name: [] for name in SERVERS}
        for number in range(1, args.paced_rounds + 1):
            for name in SERVERS:
                report = await load.run(urls[name], auth, args.seconds, rate, pace_ms)
                check(name, auth, report)
                paced[auth][name].append(report)
                print(f"paced {number}  {auth:<5}  {name:<8}  {report.rate:7.0f} req/s  "
                      f"p50 {report.p50_ms:7.2f} ms  p99 {report.p99_ms:7.2f} ms", flush=True)
                if name == "emulator":
                    await asyncio.sleep(args.settle)
    return paced


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def round_ratio(bare: list[float], emulator: list[float]) -> float:
    """The median of each round's emulator / bare: a round's two runs are seconds apart, so
    the machine's drift between rounds (a shared machine's other work) mostly cancels. Not a
    number where a figure is missing from some round (no ``/proc``)."""
    if len(bare) != len(emulator):
        return math.nan
    return median([e / b for b, e in zip(bare, emulator, strict=True) if b > 0])


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of a measured run")
    parser.add_argument("--warm-up", type=float, default=5.0,
                        help="seconds of load just before each of the emulator's runs")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per auth method")
    parser.add_argument("--connections", type=int, default=50, help="concurrent connections")
    parser.add_argument("--auth", nargs="+", choices=AUTHS, default=list(AUTHS))
    parser.add_argument("--dispatch", type=int, default=5000,
                        help="callbacks of the dispatch benchmark (0: skip it)")
    parser.add_argument("--jobs", type=int, default=100_000,
                        help="due jobs of the manual-clock advance (0: skip it)")
    parser.add_argument("--python-client", action="store_true",
                        help="load from Python even where wrk is installed")
    parser.add_argument("--settle", type=float, default=SETTLE,
                        help="real seconds after each emulator run for its lifecycle steps "
                             f"(default {SETTLE:g})")
    parser.add_argument("--paced-share", type=float, default=PACED_SHARE,
                        help="offered rate of the paced runs, as a share of the emulator's "
                             f"(default {PACED_SHARE:g}; 0: skip them)")
    parser.add_argument("--paced-rounds", type=int, default=PACED_ROUNDS,
                        help=f"rounds of paced runs per auth (default {PACED_ROUNDS})")
    parser.add_argument("--startup-runs", type=int, default=STARTUP_RUNS,
                        help=f"launches timed per server (default {STARTUP_RUNS})")
    args = parser.parse_args()
    if (args.seconds <= 0 or args.warm_up < 0 or args.settle < 0 or args.rounds < 1
            or args.connections < 1 or args.startup_runs < 1 or args.paced_rounds < 1
            or not 0 <= args.paced_share < 1):
        parser.error("--seconds must be above 0, --warm-up and --settle at least 0, --rounds, "
                     "--connections, --startup-runs and --paced-rounds at least 1, "
                     "--paced-share in [0, 1)")

    cores = pin()
    server_core, load_core = cores if cores else (None, None)
    wrk = None if args.python_client else wrk_load.find()
    if wrk and not (args.seconds.is_integer() and args.warm_up.is_integer()):
        parser.error("wrk runs for whole seconds: give --seconds and --warm-up as whole "
                     "numbers, or pass --python-client")
    python = sys.executable
    folder = Path(tempfile.mkdtemp(prefix="sms-emulator-bench-"))
    print(f"servers on core {server_core}, load on core {load_core}; load from "
          + (f"wrk, {args.connections} connections" if wrk else
             f"Python, {args.connections} connections (CLIENT-BOUND: install wrk)"), flush=True)
    procs = {}
    try:
        procs["bare"], bare_url = await start(
            folder / "bare.log", *on_core(server_core, python, str(ROOT / "bench" / "bare_app.py")))
        procs["emulator"], emulator_url = await start(
            folder / "emulator.log", *on_core(server_core, python, "-m", "emulator", "serve",
                                              "--port", "0", "--smpp-port", "off", "--seed", "1"))
        urls = {"bare": bare_url, "emulator": emulator_url}
        pids = {name: proc.pid for name, proc in procs.items()}
        load = Load(wrk, folder, args.connections, load_core)
        figures = await measure_load(args, load, urls, pids)
        paced = (await measure_paced(args, load, urls, figures)
                 if wrk and args.paced_share > 0 else {})
        rss = {name: rss_megabytes(pid) for name, pid in pids.items()}
    finally:
        for proc in procs.values():
            proc.terminate()
            await proc.wait()

    emulator_command = [str(Path(python).parent / "sms-emulator"), "serve", "--port", "{port}",
                        "--smpp-port", "0"]
    if not Path(emulator_command[0]).exists():
        emulator_command[:1] = [python, "-m", "emulator"]
    startup = {
        "bare": median([startup_seconds([python, str(ROOT / "bench" / "bare_app.py"), "{port}"],
                                        "/v1/messaging") for _ in range(args.startup_runs)]),
        "emulator": median([startup_seconds(emulator_command, "/_emulator/health")
                            for _ in range(args.startup_runs)])}
    dispatch = None
    if args.dispatch:  # the median of three
        runs = sorted([await core_bench.dispatch_rate(python, folder, args.dispatch, server_core)
                       for _ in range(3)])
        dispatch = runs[1]
    advance = await core_bench.advance_and_memory(folder, args.jobs) if args.jobs else None
    shutil.rmtree(folder)

    print()
    print(f"POST /v1/messaging, {args.connections} connections, {args.rounds} rounds of "
          f"{args.seconds:g} s per server and auth (medians)"
          + ("" if wrk else "; Python client: CLIENT-BOUND figures"))
    print(f"  {'':<17}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU/req':>10}{'RSS MB':>8}")
    ok = True
    for auth in args.auth:
        rows = {name: {key: median(values) for key, values in figures[name, auth].items()}
                for name in SERVERS}
        for name in SERVERS:
            row = rows[name]
            print(f"  {auth + ' ' + name:<17}{row['rate']:9.0f}{row['p50']:9.2f}"
                  f"{row['p99']:9.2f}{row.get('cpu', math.nan):8.0f}us{rss[name] or 0:8.0f}")
        ratio = {key: round_ratio(figures["bare", auth].get(key, []),
                                  figures["emulator", auth].get(key, []))
                 for key in ("rate", "p50", "p99", "cpu")}
        throughput, cpu, p99 = ratio["rate"], ratio["cpu"], ratio["p99"]
        ok &= throughput >= AIMS["throughput"] and cpu <= AIMS["cpu"] and p99 <= AIMS["p99"]
        print(f"  {auth + ' ratio':<17}{throughput:9.2f}{ratio['p50']:9.2f}"
              f"{p99:9.2f}{cpu:10.2f}   (emulator / bare, the rounds' median)")
        print(f"    throughput {verdict(throughput >= AIMS['throughput'])} >= 0.7, "
              f"CPU per request {verdict(cpu <= AIMS['cpu'])} <= 1.5, "
              f"p99 {verdict(p99 <= AIMS['p99'])} <= 3")
        if auth in paced:
            rates = {name: median([r.rate for r in runs]) for name, runs in paced[auth].items()}
            p99s = {name: [r.p99_ms for r in runs] for name, runs in paced[auth].items()}
            same = round_ratio(p99s["bare"], p99s["emulator"])
            print(f"    at the same offered load, {rates['emulator']:.0f} req/s (bare "
                  f"{rates['bare']:.0f}; {args.paced_share:g} of the emulator's full "
                  f"rate, paced): p99 emulator {median(p99s['emulator']):.2f} ms, bare "
                  f"{median(p99s['bare']):.2f} ms, ratio {same:.2f} (the median of "
                  f"{args.paced_rounds} rounds' ratios), {verdict(same <= AIMS['p99'])} <= 3")
    print(f"start-up to the first answer (median of {args.startup_runs}): emulator "
          f"{startup['emulator']:.3f} s, bare app {startup['bare']:.3f} s; "
          f"{verdict(startup['emulator'] <= AIMS['startup'])} <= 0.5 s")
    ok &= startup["emulator"] <= AIMS["startup"]
    if dispatch is not None:
        print(f"webhook dispatch, manual clock, {args.dispatch} delivery reports to a local "
              f"200 sink (median of 3): {dispatch.rate:.0f} callbacks/s, "
              f"{dispatch.cpu_us:.0f} us emulator CPU each (lifecycle steps included); "
              f"{verdict(dispatch.rate >= AIMS['dispatch'])} >= 2,000/s")
        print(f"    a bare aiohttp client POSTing as many to the same sink, "
              f"{core_bench.DEFAULT_CONNECTIONS_PER_HOST} at once (the baseline): "
              f"{dispatch.bare_rate:.0f}/s, {dispatch.bare_cpu_us:.0f} us CPU each; ratio "
              f"{dispatch.rate / dispatch.bare_rate:.2f} (emulator / bare)")
        ok &= dispatch.rate >= AIMS["dispatch"]
    if advance is not None:
        print(f"manual-clock advance over {advance.ran} due status steps: "
              f"{advance.advance_cpu:.2f} s CPU (least of 3); "
              f"{verdict(advance.advance_cpu < AIMS['advance'])} < 1 s")
        print(f"memory per stored message (store and journal, tracemalloc, after its "
              f"lifecycle): {advance.bytes_per_message / 1024:.2f} KiB, of which the "
              f"journal's estimate {advance.journal_bytes_per_message / 1024:.2f} KiB")
        ok &= advance.advance_cpu < AIMS["advance"]
        bare_cpu = median([cpu for auth in args.auth
                           for cpu in figures["bare", auth].get("cpu", [])])
        print(f"the emulator's own work for one message, without HTTP (its send through the "
              f"provider and its 2 status steps, with their journal entries and log lines; "
              f"least of 3): {advance.work_us:.0f} us CPU; CPU per request <= "
              f"{AIMS['cpu']:g} x leaves {(AIMS['cpu'] - 1) * bare_cpu:.0f} us above the bare "
              f"app's {bare_cpu:.0f} us for it and for auth, the form, validation, the API "
              f"call's entry and line and the answer")
    print("all aims met" if ok else "some aims missed")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
