"""Runs the emulator inside another program's event loop: ``serve``, ``replay`` (when it starts
its own emulator) and the pytest plugin all start it this way.

Event lines (:mod:`emulator.log`) go to ``log_stream`` when one is given (``serve``: standard
output), in ``settings.log_format``; otherwise to Python :mod:`logging` (``sms_emulator.events``
at INFO), which prints nothing unless the host program shows INFO records: so ``replay`` and
the pytest plugin keep the output quiet.

Connections are :mod:`emulator.server`'s: capped, with header, body and idle timeouts. Stopping
takes a few seconds at most whatever is in flight, in this order: stop accepting; close the
idle connections (and let no open one start another request); stop the scheduler, which cancels
webhook work (so a ``clock/advance`` waiting on a receiver that never answers can finish);
end the live event streams (``GET /_emulator/events``); answer ``503`` to requests still
waiting for their body; give the other requests ``shutdown_timeout`` seconds, then cancel
them; then aiohttp's cleanup (connections closed) and the application's (scheduler and webhook
client closed), and the last log lines.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TextIO

from aiohttp import web

from emulator.app import CONTEXT, build_app
from emulator.config import Settings
from emulator.control.events import EVENT_STREAMS
from emulator.log import StreamLog, attach
from emulator.server import Limits, Listener, accept_errors_throttled


@asynccontextmanager
async def running(settings: Settings, document: dict[str, Any] | None = None,
                  log_stream: TextIO | None = None
                  ) -> AsyncIterator[tuple[web.Application, str]]:
    """The application listening on ``settings.host``/``port`` (0: a free port) and its base
    URL; stopped cleanly on exit (the last log lines written). Raises ``OSError`` if it cannot
    listen."""
    app = build_app(settings, document)
    sink = attach(app[CONTEXT].journal, log_stream, settings.log_format)
    listener = Listener(Limits(max_connections=settings.max_connections,
                               header_timeout=settings.header_timeout,
                               body_timeout=settings.body_timeout))
    app.middlewares.insert(0, listener.middleware)  # outermost: before any body is read
    # shutdown_timeout only backs up Listener.drain, which has already ended every request
    runner = web.AppRunner(app, access_log=None, handle_signals=False, logger=listener.log,
                           keepalive_timeout=settings.keepalive_timeout,
                           shutdown_timeout=settings.shutdown_timeout)
    await runner.setup()
    try:
        with accept_errors_throttled():
            assert runner.server is not None
            port = await listener.start(runner.server, settings.host, settings.port)
            host = f"[{settings.host}]" if ":" in settings.host else settings.host
            url = f"http://{host}:{port}"
            app[CONTEXT].base_url = url
            try:
                yield app, url
            finally:
                listener.stop_accepting()
                # aiohttp's own first step of runner.cleanup(), taken early: idle connections
                # end now, busy ones after their answer, and none starts another request
                runner.server.pre_shutdown()
                # the application's cleanup stops it again, which is then a no-op
                await app[CONTEXT].scheduler.stop()
                # event streams never end by themselves: end them before waiting for requests
                # (the application's on_shutdown does it again, a no-op)
                await app[EVENT_STREAMS].close()
                await listener.drain(settings.shutdown_timeout)
    finally:
        await runner.cleanup()
        if isinstance(sink, StreamLog):
            sink.flush()
