"""TSG Global authentication: ``Authorization: Bearer <api_key>`` with the configured key.

A missing header, another scheme or a wrong key all get the same 401 ``unauthenticated``; TSG
documents no finer distinction (the journal's ``reason`` says which it was). The key is compared
in constant time.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from emulator.providers.tsg.errors import unauthenticated
from emulator.schema_messages import show


def check_bearer(request: web.Request, api_key: str) -> None:
    """Raise the 401 :class:`~emulator.providers.tsg.errors.TsgError` unless the key matches."""
    header = request.headers.get("Authorization", "").strip()
    if not header:
        raise unauthenticated("no Authorization header")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        raise unauthenticated(f"Authorization scheme {show(scheme, 20)} is not Bearer")
    # bytes as received (aiohttp keeps non-UTF-8 bytes as surrogates): any token compares
    given = token.strip().encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(given, api_key.encode()):
        raise unauthenticated("Bearer token is not the configured api_key")
