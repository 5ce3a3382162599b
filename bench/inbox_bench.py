"""How fast the inbox page is, in a real headless Chromium against ``sms-emulator serve``.

The emulator runs as ``serve`` runs it (its own process, manual clock, quiet) and gets
``--messages`` TSG messages, each to an end user of its own (10,000 by default: as many
conversations as messages). Then, with Playwright driving Chromium as the browser tests do
(``SMS_EMULATOR_BROWSER``, else Debian's ``/usr/bin/chromium``):

- **usable**: from asking for ``/`` to the first page of conversations shown, and to the live
  stream connected, over ``--rounds`` fresh tabs (best and median);
- **search**: from typing part of a number into Search to the list narrowed to its matches;
- **live**: from sending ``POST /_emulator/inbound`` (a new end user each time) to its
  conversation showing in the open page, without a reload, ``--live`` times (median, p90 and
  max). The page refreshes at most every 100 ms, or as long as its last refresh took.

Wall times on a shared machine: run it twice before believing a figure.
Run: ``.venv/bin/python bench/inbox_bench.py [--messages N] [--rounds N] [--live N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from servers import start  # beside this script

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.browser_support import ARGS, browser_path

KEY = "sms-emulator-tsg-key"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


async def fill(url: str, messages: int) -> None:
    async with aiohttp.ClientSession() as http:
        for batch in range(0, messages, 1000):
            to = [f"1555{batch // 1000:02d}{n:05d}" for n in range(min(1000, messages - batch))]
            async with http.post(f"{url}/messages", json={"from": "15550555055", "to": to,
                                                          "body": f"Batch {batch // 1000}"},
                                 headers={"Authorization": f"Bearer {KEY}"}) as response:
                assert response.status == 200, await response.text()


# Playwright's waits poll at growing intervals (up to 500 ms), too coarse to time the page
# with: an observer in the page notes the moment (Date.now(), the clock Python's time.time()
# reads too) when an element matching a selector and a pattern first exists.
WATCH = """([name, selector, pattern]) => {
  const test = () => [...document.querySelectorAll(selector)].some(
    (element) => new RegExp(pattern).test(element.textContent));
  window[name] = new Promise((resolve) => {
    if (test()) { resolve(Date.now()); return; }
    const observer = new MutationObserver(() => {
      if (test()) { observer.disconnect(); resolve(Date.now()); }
    });
    observer.observe(document, { subtree: true, childList: true, characterData: true });
  });
}"""
# the same from the start of each page load: the first thread listed, the live badge lit
ON_LOAD = (f"({WATCH})({json.dumps(['__shown', '.thread', '.'])});"
           f"({WATCH})({json.dumps(['__live', '#live', '^live$'])});")


async def watch(page, name: str, selector: str, pattern: str) -> None:
    await page.evaluate(WATCH, [name, selector, pattern])


async def seen(page, name: str) -> float:
    """When the watched element appeared, in seconds since the epoch."""
    return await page.evaluate(f"() => window.{name}") / 1000


def summary(times: list[float]) -> str:
    times = sorted(times)
    return (f"median {ms(statistics.median(times))}, p90 {ms(times[int(len(times) * 0.9) - 1])}, "
            f"max {ms(times[-1])}")


async def measure(url: str, browser, args: argparse.Namespace) -> None:
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    await context.add_init_script(ON_LOAD)
    shown, live = [], []
    for _ in range(args.rounds):
        page = await context.new_page()
        await page.goto(url + "/")
        began = await page.evaluate("() => performance.timeOrigin") / 1000
        shown.append(await seen(page, "__shown") - began)
        live.append(await seen(page, "__live") - began)
        await page.close()
    print(f"  usable      from navigation to the first page of conversations: {summary(shown)}; "
          f"to the live stream connected: median {ms(statistics.median(live))} "
          f"({args.rounds} tabs)")

    page = await context.new_page()
    await page.goto(url + "/")
    await page.locator("#live.live-live").wait_for()
    everything = f"^{args.messages:,} conversations"
    searches = []
    for round_ in range(args.rounds):
        await watch(page, "__cleared", "#thread-total", everything)
        await page.get_by_label("Search").fill("")
        await seen(page, "__cleared")
        await watch(page, "__narrowed", "#thread-total", f"^(?!{args.messages:,} )[0-9,]+ conv")
        started = time.time()
        await page.get_by_label("Search").fill(f"15550{round_ % 10}")
        searches.append(await seen(page, "__narrowed") - started)
    found = (await page.locator("#thread-total").text_content() or "").split(" ")[0]
    await page.get_by_label("Search").fill("")
    print(f"  search      from typing to {found} of {args.messages:,} shown: {summary(searches)} "
          f"(of which 200 ms is the box waiting for typing to stop)")

    lives = []
    async with aiohttp.ClientSession() as http:
        for n in range(args.live):
            number = f"1999{n:07d}"
            await watch(page, "__arrived", ".thread", number)
            started = time.time()
            async with http.post(f"{url}/_emulator/inbound", json={
                    "provider": "tsg", "from": number, "to": "15550555055",
                    "text": f"live {n}"}) as response:
                assert response.status == 201, await response.text()
            lives.append(await seen(page, "__arrived") - started)
            if args.pause:
                await asyncio.sleep(args.pause)
    print(f"  live        from sending an inbound message to its conversation shown: "
          f"{summary(lives)} ({args.live} messages, {args.pause} s apart)")
    await context.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--live", type=int, default=20)
    parser.add_argument("--pause", type=float, default=0.5,
                        help="seconds between live messages (0: each as the last one shows)")
    args = parser.parse_args()
    path = browser_path()
    if path is None:
        raise SystemExit("no Chromium: install Debian's chromium, or set SMS_EMULATOR_BROWSER")
    from playwright.async_api import async_playwright

    folder = Path(tempfile.mkdtemp(prefix="sms-emulator-inbox-bench-"))
    serve = str(Path(sys.executable).with_name("sms-emulator"))
    proc, url = await start(folder / "serve.out", serve, "serve", "--port", "0", "--quiet",
                            "--clock", "manual")
    try:
        started = time.perf_counter()
        await fill(url, args.messages)
        print(f"inbox bench: {args.messages:,} TSG messages stored in "
              f"{time.perf_counter() - started:.1f} s; Chromium {path}")
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=path, args=ARGS,
                                                       headless=True)
            try:
                await measure(url, browser, args)
            finally:
                await browser.close()
    finally:
        proc.terminate()
        await proc.wait()


if __name__ == "__main__":
    asyncio.run(main())
