"""Routes of the web inbox: the page at ``/`` and its files under ``/_inbox/``.

The page is plain HTML, CSS and JavaScript modules shipped inside the package (no build step, no
CDN, nothing fetched from the network). Everything it shows comes from the control API and its
live event stream, the same JSON tests read, so it keeps no state of its own on the server.

- ``GET /`` answers the page to a browser (an ``Accept`` that names ``text/html``); any other
  client gets a small JSON index of where things are, so ``curl localhost:8025/`` still answers
  JSON as every other path of the emulator does.
- ``GET /_inbox/<file>`` answers one of the shipped files; the set is read once at start-up, so
  no request can name anything else (no path traversal, no directory listing).

Every answer carries a Content-Security-Policy that allows scripts, styles and connections from
the emulator itself only and no inline script or style, so that even a rendering bug could not
run a script that came in a message's text (the page renders every value as text anyway).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from aiohttp import web

from emulator import __version__

#: where the page's files are served
ASSET_PREFIX = "/_inbox"

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
])

_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css",
          ".svg": "image/svg+xml", ".png": "image/png"}


def _security_headers() -> dict[str, str]:
    return {"Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            # the page changes with the package; a stale cached copy would call old APIs
            "Cache-Control": "no-cache"}


def _load_files() -> dict[str, tuple[bytes, str]]:
    """Every shipped file by name, with its content type."""
    files: dict[str, tuple[bytes, str]] = {}
    for item in resources.files(__package__).joinpath("static").iterdir():
        suffix = item.name[item.name.rfind("."):]
        if item.is_file() and suffix in _TYPES:
            files[item.name] = (item.read_bytes(), _TYPES[suffix])
    return files


def _wants_html(request: web.Request) -> bool:
    return "text/html" in request.headers.get("Accept", "")


def build_routes() -> list[web.AbstractRouteDef]:
    files = _load_files()
    page, _ = files["index.html"]

    async def index(request: web.Request) -> web.Response:
        if _wants_html(request):
            return web.Response(body=page, content_type="text/html", charset="utf-8",
                                headers=_security_headers())
        where: dict[str, Any] = {"name": "sms-emulator", "version": __version__,
                                 "inbox": "open this address in a browser",
                                 "control_api": "/_emulator", "health": "/_emulator/health",
                                 "events": "/_emulator/events"}
        return web.json_response(where)

    async def asset(request: web.Request) -> web.Response:
        found = files.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound()
        body, content_type = found
        return web.Response(body=body, content_type=content_type,
                            charset="utf-8" if content_type.startswith("text/") else None,
                            headers=_security_headers())

    return [web.get("/", index), web.get(ASSET_PREFIX + "/{name}", asset)]
