"""Runs the emulator inside another program's event loop: ``serve``, ``replay`` (when it starts
its own emulator) and the pytest plugin all start it this way.

Event lines (:mod:`emulator.log`) go to ``log_stream`` when one is given (``serve``: standard
output), in ``settings.log_format``; otherwise to Python :mod:`logging` (``sms_emulator.events``
at INFO), which prints nothing unless the host program shows INFO records: so ``replay`` and
the pytest plugin keep the output quiet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TextIO

from aiohttp import web

from emulator.app import CONTEXT, build_app
from emulator.config import Settings
from emulator.log import StreamLog, attach


@asynccontextmanager
async def running(settings: Settings, document: dict[str, Any] | None = None,
                  log_stream: TextIO | None = None
                  ) -> AsyncIterator[tuple[web.Application, str]]:
    """The application listening on ``settings.host``/``port`` (0: a free port) and its base
    URL; stopped cleanly on exit (the last log lines written). Raises ``OSError`` if it cannot
    listen."""
    app = build_app(settings, document)
    sink = attach(app[CONTEXT].journal, log_stream, settings.log_format)
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
        if isinstance(sink, StreamLog):
            sink.flush()
