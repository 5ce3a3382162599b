"""``bench/smpp_bench.py`` runs end to end with tiny numbers: its ESME binds, fills its window
and gets every submit_sm answered ESME_ROK, the REST load runs against the same server, and the
ratio line is printed. ``--settle 0``: the lifecycle wait is real seconds, and beside the point
here."""

from __future__ import annotations

import re

from tests.bench_support import run_bench

LIMIT = 60.0  # a hung benchmark fails the test instead of hanging it


async def test_the_smpp_bench_runs_and_prints_the_ratios() -> None:
    text = await run_bench("smpp_bench.py", "--messages", "200", "--rounds", "1", "--settle",
                           "0", limit=LIMIT)
    assert re.search(r"^round 1  SMPP +\d+ msg/s", text, re.M), text
    assert re.search(r"^round 1  HTTP +\d+ msg/s", text, re.M), text
    assert re.search(r"^  ratio SMPP / HTTP +\d+\.\d\d +\d+\.\d\d", text, re.M), text
    assert "200 messages x 1 rounds" in text, text
