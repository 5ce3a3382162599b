"""Runs the emulator inside another program's event loop: ``serve``, ``replay`` (when it starts
its own emulator) and the pytest plugin all start it this way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from emulator.app import CONTEXT, build_app
from emulator.config import Settings


@asynccontextmanager
async def running(settings: Settings, document: dict[str, Any] | None = None
                  ) -> AsyncIterator[tuple[web.Application, str]]:
    """The application listening on ``settings.host``/``port`` (0: a free port) and its base
    URL; stopped cleanly on exit. Raises ``OSError`` if it cannot listen."""
    app = build_app(settings, document)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.port).start()
        port = runner.addresses[0][1]
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        url = f"http://{host}:{port}"
        app[CONTEXT].base_url = url
        yield app, url
    finally:
        await runner.cleanup()
