"""Runs a script of ``bench/`` as ``make`` would, for the tests that check it end to end."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


async def run_bench(script: str, *args: str, limit: float) -> str:
    """Its standard output; fails with both outputs unless it exits 0 within ``limit`` real
    seconds (a hung benchmark fails the test instead of hanging it)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(BENCH / script), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), limit)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = out.decode()
    assert proc.returncode == 0, text + err.decode()
    return text
