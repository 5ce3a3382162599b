"""HTTP load from Python (aiohttp), for where ``wrk`` is missing and for the benchmarks that
need no more: ``requests`` POSTs over a fixed number of connections. A Python client costs
about as much CPU per request as the server it measures, so its throughput is client-bound."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable

import aiohttp
from telesign_requests import BODY, PATH, signed_headers

REQUEST_TIMEOUT = 30.0  # a request that takes longer means the server is stuck: fail loudly


async def load(url: str, requests: int, concurrency: int, limit: float,
               headers: Callable[[], dict[str, str]] = signed_headers,
               latencies: list[float] | None = None) -> tuple[float, int]:
    """Send ``requests`` POSTs over ``concurrency`` connections, for at most ``limit`` real
    seconds; requests per second and the number of answers that were not HTTP 200. Each
    request's milliseconds go to ``latencies`` when given."""
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
                sent = time.perf_counter()
                async with session.post(f"{url}{PATH}", data=BODY,
                                        headers=headers()) as response:
                    await response.read()
                    failures += response.status != 200
                if latencies is not None:
                    latencies.append((time.perf_counter() - sent) * 1e3)
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


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (0.99 for p99) of ``values``."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=1000, method="inclusive")[round(share * 1000) - 1]
