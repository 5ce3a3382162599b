"""Sends one request to the target, synchronously, and says what came back.

``http.client`` rather than aiohttp: the fuzzer runs inside Hypothesis's (synchronous) test
function, it must send the exact bytes and headers given, follow no redirect and use no proxy
from the environment, so traffic goes where ``--target`` says and nowhere else. A new connection
per request keeps one request's failure (a reset, a timeout) from leaking into the next.

Targets are loopback only (127.0.0.0/8, ::1, ``localhost``) unless ``allow_remote`` is set.
"""

from __future__ import annotations

import http.client
import ipaddress
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from emulator.fuzz.cases import Request
from emulator.fuzz.options import UsageError

EXCERPT_BYTES = 500

@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    path: str  # with its query string


@dataclass(frozen=True)
class Response:
    status: int | None
    body: bytes = b""
    #: ``timeout`` or ``connection`` when no answer came
    failure: str | None = None
    error: str | None = None
    elapsed_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status,
                "body_excerpt": self.body[:EXCERPT_BYTES].decode("utf-8", "replace"),
                "error": self.error, "elapsed_ms": round(self.elapsed_ms, 3)}


def is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_target(url: str, *, allow_remote: bool = False) -> Target:
    """Check ``url``; :class:`UsageError` says what is wrong with it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"--target {url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--target {url!r} must be an http:// or https:// URL with a host, "
                         "e.g. http://127.0.0.1:9000/telesign/callback")
    if not allow_remote and not is_loopback(parts.hostname):
        raise UsageError(f"--target host {parts.hostname!r} is not a loopback address "
                         "(127.0.0.0/8, ::1, localhost); the fuzzer sends hostile traffic, so "
                         "pass --allow-remote to aim it at another host you own")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default = 443 if parts.scheme == "https" else 80
    return Target(url, parts.scheme, parts.hostname, port or default, path)


def send(target: Target, request: Request, timeout: float) -> Response:
    """Send ``request`` (its URL is ``target``'s) and wait at most ``timeout`` seconds per
    socket operation."""
    if target.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    started = time.perf_counter()

    def elapsed() -> float:
        return (time.perf_counter() - started) * 1000

    try:
        conn.putrequest(request.method, target.path, skip_accept_encoding=True)
        for name, value in request.headers.items():
            conn.putheader(name, value.encode("utf-8"))
        conn.putheader("Content-Length", str(len(request.body)))
        conn.endheaders(request.body)
        answer = conn.getresponse()
        body = answer.read()
        return Response(answer.status, body, elapsed_ms=elapsed())
    except TimeoutError:
        return Response(None, failure="timeout",
                        error=f"timeout: no answer within {timeout:g} s", elapsed_ms=elapsed())
    except (OSError, http.client.HTTPException) as exc:
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return Response(None, failure="connection", error=f"connection failed: {detail}",
                        elapsed_ms=elapsed())
    finally:
        conn.close()
