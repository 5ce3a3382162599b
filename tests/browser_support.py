"""A real browser for the inbox page's tests: Playwright driving an installed Chromium.

Playwright never downloads a browser here: it launches the executable named by
``SMS_EMULATOR_BROWSER``, else Debian's ``/usr/bin/chromium``, else a ``chromium`` or
``google-chrome`` on the PATH, headless, with a fresh profile (Playwright makes a temporary
user data dir for every launch). Without one the browser tests are skipped, except in CI
(``CI`` set to anything but ``false``/``0``), where a missing browser fails them: CI installs
Debian's package, so a skip there would hide that the page was never tested.

Each story saves a screenshot of its final state under ``.artifacts/screenshots/`` (ignored by
git): look at them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

BROWSER_ENV = "SMS_EMULATOR_BROWSER"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / ".artifacts" / "screenshots"


def browser_path() -> str | None:
    given = os.environ.get(BROWSER_ENV)
    if given:
        return given
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


async def launched_browser() -> AsyncIterator:
    path = browser_path()
    if path is None:
        message = (f"no Chromium found: install Debian's chromium package, or set {BROWSER_ENV} "
                   "to a Chrome or Chromium executable")
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=path, args=ARGS,
                                                   headless=True)
        try:
            yield browser
        finally:
            await browser.close()


async def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(target), full_page=False)
    return target
