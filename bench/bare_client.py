"""The dispatch benchmark's baseline: a bare aiohttp client POSTing JSON to a webhook sink, as
many at once as the emulator's dispatcher keeps in flight to one host, doing nothing else (no
lifecycle, no signing, no journal, no retries).

Run as ``python bench/bare_client.py URL COUNT CONNECTIONS``; after one POST to warm up it
makes ``COUNT`` more and prints ``POSTs/s`` and its CPU microseconds per POST, space-separated.
Every answer must be 200 (else it exits with status 1).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import aiohttp

#: a Telesign delivery report, as the emulator sends it
BODY = json.dumps({
    "reference_id": "0123456789ABCDEF0123456789ABCDEF",
    "status": {"code": 200, "description": "Delivered to handset",
               "updated_on": "2026-01-01T00:00:05.000000Z"},
    "submit_timestamp": "2026-01-01T00:00:00.000000Z",
    "external_id": None, "errors": [], "sub_resource": "sms",
}).encode()


async def post_all(url: str, count: int, connections: int) -> tuple[float, float]:
    failed = 0
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def post() -> None:
            nonlocal failed
            async with http.post(url, data=BODY,
                                 headers={"Content-Type": "application/json"}) as answer:
                await answer.read()
                failed += answer.status != 200

        await post()
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(post() for _ in range(count)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if failed:
        raise SystemExit(f"{failed} of {count + 1} POSTs were not answered 200")
    return count / elapsed, cpu / count * 1e6


if __name__ == "__main__":
    rate, cpu_us = asyncio.run(post_all(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
    print(f"{rate:.1f} {cpu_us:.1f}")
