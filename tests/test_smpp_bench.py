"""``bench/smpp_bench.py`` runs end to end with tiny numbers: its ESME binds, fills its window
and gets every submit_sm answered ESME_ROK, the REST load runs against the same server, and the
ratio line is printed. ``--settle 0``: the lifecycle wait is real seconds, and beside the point
here."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "smpp_bench.py"
LIMIT = 60.0  # a hung benchmark fails the test instead of hanging it


async def test_the_smpp_bench_runs_and_prints_the_ratios() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(BENCH), "--messages", "200", "--rounds", "1", "--settle", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), LIMIT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = out.decode()
    assert proc.returncode == 0, text + err.decode()
    assert re.search(r"^round 1  SMPP +\d+ msg/s", text, re.M), text
    assert re.search(r"^round 1  HTTP +\d+ msg/s", text, re.M), text
    assert re.search(r"^  ratio SMPP / HTTP +\d+\.\d\d +\d+\.\d\d", text, re.M), text
    assert "200 messages x 1 rounds" in text, text
