"""Runs a script of ``bench/`` as ``make`` would, for the tests that check it end to end."""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parent.parent / "bench"


def bench_module(name: str) -> ModuleType:
    """A module of ``bench/`` (which imports its siblings by plain name), imported here."""
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCH))


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
