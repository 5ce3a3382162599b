"""How long a page of the control API's lists takes with 100,000 messages stored.

In process, over loopback HTTP: an emulator on a manual clock gets 100,000 TSG messages (100
sends of 1,000 recipients, each stepped to ``delivered``), then each kind of page is fetched
several times and the best and median wall times are printed, with the CPU time of the round
trip (client and server share the process, so it counts both: steadier than wall time on a
busy machine), the answer's size and the process's RSS. Every message has an end user of its
own, so every message is a conversation of its own (the most threads to group) unless
``--end-users N`` spreads the messages over N end users.
Run: ``.venv/bin/python bench/paging_bench.py [--messages N] [--end-users N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import time

from aiohttp import ClientSession, web

from emulator.app import CONTEXT, build_app
from emulator.config import Settings

KEY = "sms-emulator-tsg-key"


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--end-users", type=int, default=0,
                        help="spread the messages over this many end users (0: one each)")
    args = parser.parse_args()
    app = build_app(Settings(clock="manual", seed=1, start=1_767_225_600.0, port=0))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    before = rss_mb()
    async with ClientSession() as http:
        started = time.perf_counter()
        # a send lists each recipient once: with few end users, more and smaller sends
        size = min(1000, args.end_users or 1000)
        for batch in range(args.messages // size):
            to = [f"1555{batch:03d}{n:04d}" for n in range(1000)]
            if args.end_users:
                to = [f"1556{(batch * size + n) % args.end_users:07d}" for n in range(size)]
            async with http.post(f"{url}/messages", json={"from": "15550555055", "to": to,
                                                          "body": "hello"},
                                 headers={"Authorization": f"Bearer {KEY}"}) as response:
                assert response.status == 200, await response.text()
        async with http.post(f"{url}/_emulator/clock/advance", json={"seconds": 5}) as r:
            assert r.status == 200
        stored = len(app[CONTEXT].store)
        print(f"stored {stored} messages in {time.perf_counter() - started:.1f} s; "
              f"RSS {before:.0f} -> {rss_mb():.0f} MB; journal {len(app[CONTEXT].journal)} "
              f"entries, ~{app[CONTEXT].journal.bytes / 2**20:.0f} MiB estimated")

        async def timed(path: str) -> tuple[float, float, float, int]:
            times, cpu, size = [], [], 0
            for _ in range(args.rounds):
                t, c = time.perf_counter(), time.process_time()
                async with http.get(url + path) as response:
                    body = await response.read()
                    assert response.status == 200, body
                times.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)
                size = len(body)
            return min(times), statistics.median(times), min(cpu), size

        async with http.get(f"{url}/_emulator/messages?limit=1000") as response:
            deep = (await response.json())["next"]
        for _ in range(40):  # 41 pages in: a cursor deep in the store (or the last page)
            async with http.get(url + deep) as response:
                following = (await response.json())["next"]
            if following is None:
                break
            deep = following
        for label, path in [
            ("first page, default limit 100", "/_emulator/messages"),
            ("first page, limit 1000", "/_emulator/messages?limit=1000"),
            ("a deep page of 1000 (page 42 or last)", deep),
            ("filter matching nothing (scan budget)", "/_emulator/messages?to=1"),
            ("q matching nothing (scan budget)", "/_emulator/messages?q=nothing"),
            ("thread= of one end user", "/_emulator/messages?thread=tsg%7C15550555055%7C"
                                        + ("15560000001" if args.end_users else "15550000001")),
            ("conversations, first page of 100", "/_emulator/conversations"),
            ("conversations, limit 1000", "/_emulator/conversations?limit=1000"),
            ("conversations, q matching nothing", "/_emulator/conversations?q=nothing"),
            ("conversations, status=delivered", "/_emulator/conversations?status=delivered"),
            ("deliveries (none)", "/_emulator/deliveries"),
            ("journal, since 0, limit 100", "/_emulator/journal"),
            ("health", "/_emulator/health"),
        ]:
            best, median, cpu, size = await timed(path)
            print(f"{label:38s} best {best:6.1f} ms  median {median:6.1f} ms  "
                  f"CPU {cpu:6.1f} ms  {size / 1024:7.1f} KiB")
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
