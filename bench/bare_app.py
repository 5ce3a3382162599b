"""The benchmark's baseline: a bare aiohttp app that answers ``POST /v1/messaging`` with the same
JSON the emulator sends, doing nothing else (no auth, no validation, no state).

Run as ``python bench/bare_app.py [PORT]`` (default: a free port); it prints
``listening on http://127.0.0.1:PORT`` once ready.
"""

from __future__ import annotations

import json
import sys

from aiohttp import web

ANSWER = json.dumps({
    "reference_id": "0123456789ABCDEF0123456789ABCDEF",
    "external_id": None,
    "status": {"code": 290, "description": "Message in progress",
               "updated_on": "2026-01-01T00:00:00.000000Z"},
})


async def send_message(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(text=ANSWER, content_type="application/json",
                        headers={"Allow": "GET,POST"})


async def main() -> None:
    import asyncio

    app = web.Application()
    app.router.add_post("/v1/messaging", send_message)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    print(f"listening on http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    import asyncio
    import contextlib

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
