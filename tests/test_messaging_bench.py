"""``bench/messaging_bench.py`` (``make bench``) runs end to end with tiny numbers, from its
Python client (CI has no wrk), and prints every figure with its aim; and what it reads of a
wrk report is what wrk printed. ``--settle 0``: the lifecycle wait is real seconds, and beside
the point here."""

from __future__ import annotations

import asyncio
import math
import re
import shutil
import subprocess
import sys

import pytest
from aiohttp import web

from tests.bench_support import BENCH, bench_module, run_bench

LIMIT = 90.0  # a hung benchmark fails the test instead of hanging it

#: a report of wrk 4.1 with --latency and the bench's script, as it printed it here
WRK_REPORT = """\
Running 5s test @ http://127.0.0.1:41003/v1/messaging
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    15.07ms    8.33ms 131.02ms   93.58%
    Req/Sec     3.32k   468.43     3.98k    78.00%
  Latency Distribution
     50%   13.96ms
     75%   15.87ms
     90%   18.71ms
     99%   35.90ms
  16522 requests in 5.00s, 5.65MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   3303.81
Transfer/sec:      1.13MB
started over: 0
"""


def test_a_wrk_report_is_read_as_wrk_printed_it() -> None:
    wrk_load = bench_module("wrk_load")
    report = wrk_load.parse(WRK_REPORT)
    assert (report.requests, report.seconds, report.rate) == (16522, 5.0, 3303.81)
    assert (report.p50_ms, report.p99_ms) == (13.96, 35.9)
    assert (report.failures, report.started_over) == (4 + 3, 0)
    assert wrk_load.parse(WRK_REPORT.replace("   35.90ms", "    1.20s")).p99_ms == 1200.0


async def test_the_messaging_bench_runs_and_sets_every_figure_against_its_aim() -> None:
    text = await run_bench(
        "messaging_bench.py", "--python-client", "--seconds", "0.3", "--warm-up", "0",
        "--settle", "0", "--rounds", "1", "--connections", "4", "--startup-runs", "1",
        "--dispatch", "20", "--jobs", "200", limit=LIMIT)
    assert "CLIENT-BOUND" in text, text
    for auth in ("hmac", "basic"):
        for server in ("bare", "emulator"):
            assert re.search(rf"^round 1  {auth} +{server} +\d+ req/s", text, re.M), text
        assert re.search(rf"^  {auth} ratio +\d+\.\d\d +\d+\.\d\d +\d+\.\d\d +\d+\.\d\d",
                         text, re.M), text
    assert re.search(r"^start-up to the first answer \(median of 1\): emulator \d\.\d+ s, "
                     r"bare app \d\.\d+ s; (meets|MISSES)", text, re.M), text
    assert re.search(r"20 delivery reports to a local 200 sink \(median of 3\): \d+ "
                     r"callbacks/s", text), text
    assert re.search(r"a bare aiohttp client POSTing as many to the same sink, 64 at once "
                     r"\(the baseline\): \d+/s, \d+ us CPU each; ratio \d+\.\d\d", text), text
    assert re.search(r"advance over 200 due status steps: \d\.\d\d s CPU", text), text
    assert re.search(r"memory per stored message .*: \d+\.\d\d KiB", text), text
    assert re.search(r"own work for one message, without HTTP .*: \d+ us CPU; CPU per "
                     r"request <= 1.5 x leaves \d+ us above the bare app's \d+ us", text), text


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed here")
async def test_a_paced_wrk_run_offers_the_rate_its_pace_sets(aiohttp_server, tmp_path) -> None:
    """4 connections, each waiting 20 ms on average after an answer: about 200 requests a
    second, where the same connections unpaced send thousands."""
    wrk_load = bench_module("wrk_load")

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="{}", content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/messaging", answer)
    url = str((await aiohttp_server(app)).make_url("/v1/messaging"))
    requests = tmp_path / "requests.bin"
    wrk_load.write_requests(requests, [b"POST /v1/messaging HTTP/1.1\r\nHost: x\r\n"
                                       b"Content-Length: 2\r\n\r\nhi"])
    wrk = shutil.which("wrk")
    paced = await asyncio.to_thread(wrk_load.run, wrk, url, requests, tmp_path / "paced.lua",
                                    1.0, 4, None, 20.0)
    unpaced = await asyncio.to_thread(wrk_load.run, wrk, url, requests, tmp_path / "fast.lua",
                                      1.0, 4, None)
    assert paced.failures == unpaced.failures == 0
    assert 120 < paced.rate < 260, paced
    assert unpaced.rate > 4 * paced.rate, (paced, unpaced)


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed here")
def test_with_wrk_a_fractional_run_length_is_refused_before_anything_starts() -> None:
    """wrk takes whole seconds only (``-d0.5s`` prints its usage): the bench says so."""
    done = subprocess.run([sys.executable, str(BENCH / "messaging_bench.py"), "--seconds", "0.5"],
                          capture_output=True, text=True, timeout=LIMIT)
    assert done.returncode == 2, done
    assert "wrk runs for whole seconds" in done.stderr and "servers on core" not in done.stdout


def test_a_ratio_is_the_median_of_the_rounds_own_ratios() -> None:
    """A machine twice as slow in round 2 slows both of its runs: the pairs' ratios agree where
    the ratio of the medians would not."""
    messaging_bench = bench_module("messaging_bench")
    assert messaging_bench.round_ratio([100.0, 50.0, 90.0], [30.0, 15.0, 27.0]) == 0.3
    assert math.isnan(messaging_bench.round_ratio([100.0, 50.0], [30.0]))  # a figure missing
