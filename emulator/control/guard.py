"""Who may drive the emulator's own pages and the ``/_emulator`` control API.

The control API can fire correctly signed webhooks at the developer's system (an inbound
``STOP``), wipe state, move the clock and read both providers' API keys, so a web page the
developer happens to visit must not reach it through their browser. Four checks, in this order,
each refusal answered in the control API's error format (``{"error", "field"}``) and journaled
as ``control_refused`` with its reason:

1. **Host** (every path that is not a provider API: ``/_emulator/*`` and the emulator's own
   pages). A DNS-rebinding page reaches the emulator under the attacker's host name, so the
   ``Host`` header must be an address the emulator serves: any IP literal (``127.0.0.1``,
   ``[::1]``, a container's address; a rebinding attack needs a name), ``localhost`` and
   ``*.localhost`` (which browsers resolve to loopback themselves), the name given to
   ``--host``, and the names of :attr:`~emulator.config.Settings.allow_hosts`
   (``--allow-host``, ``SMS_EMULATOR_ALLOW_HOSTS``), e.g. a docker-compose service name; ``*``
   there allows any name. The port is not compared (a port mapping changes it). A request
   without ``Host`` (HTTP/1.0) passes: browsers always send one. 403, field ``Host``.
2. **Origin** (``/_emulator/*``, every method). Browsers send ``Origin`` on every cross-origin
   ``POST``, with or without a body, and on WebSocket handshakes, so a request whose ``Origin``
   is present and is not the emulator's own (``http://`` or ``https://`` plus the request's
   ``Host``) is refused, whatever its method: no legitimate caller sends a foreign one, since
   the emulator answers no CORS preflight and a page could not read the answer anyway.
   ``Origin: null`` (a sandboxed frame, a ``file:`` page) is foreign. Tools (curl, SDKs, the
   pytest plugin, ``replay``) send no ``Origin``. 403, field ``Origin``.
3. **Control token** (``/_emulator/*``), when one is set (``--control-token``,
   ``SMS_EMULATOR_CONTROL_TOKEN``): ``Authorization: Bearer <token>``, compared in constant
   time. 401, field ``Authorization``.
4. **Content-Type** (``/_emulator/*``): a request that has a body must say
   ``application/json`` (or a ``+json`` type), so that a page cannot pass a "simple"
   ``text/plain`` request off as JSON. A request with no body needs no Content-Type, so
   ``curl -X POST .../reset`` works. 415, field ``Content-Type``.

Provider APIs (``/v1/...``, ``/messages``) get none of these: SDKs and systems under test reach
them by whatever name they are configured with, and every one of their calls needs an
``Authorization`` header, which a page can only send after a CORS preflight the emulator never
grants.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from emulator.media_type import media_type
from emulator.schema_messages import show

#: host names that are loopback wherever they are resolved (RFC 6761; browsers hard-code them)
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost",
                            "ip6-loopback"})
#: Content-Types a control API body may have
JSON_TYPES = ("application/json",)


@dataclass(frozen=True)
class Refusal:
    status: int
    field: str
    message: str
    #: why, for the journal (may name the offending value)
    reason: str


def host_and_port(value: str) -> tuple[str, int | None]:
    """A ``Host`` header or an origin's netloc as ``(host, port)``: the host lower case without
    brackets or a trailing dot, the port ``None`` when absent. ``[::1]:8025`` ->
    ``("::1", 8025)``, ``Example.test.`` -> ``("example.test", None)``."""
    value = value.strip().lower()
    port = ""
    if value.startswith("["):
        end = value.find("]")
        host = value[1:end] if end >= 0 else value[1:]
        rest = value[end + 1:] if end >= 0 else ""
        port = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
    else:  # a name, or a bare IPv6 address (not valid in a Host header, but harmless)
        host = value
    return host.rstrip("."), int(port) if port.isdigit() else None


def split_host(value: str) -> str:
    """The host part of :func:`host_and_port`."""
    return host_and_port(value)[0]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])  # an IPv6 zone id (%eth0) is not part of it
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or name to listen on) is reachable only from this machine."""
    name = split_host(host)
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _origin_key(netloc: str, scheme: str) -> tuple[str, int | None]:
    host, port = host_and_port(netloc)
    return host, port if port is not None else {"http": 80, "https": 443}.get(scheme)


class Guard:
    """The checks above for one application; built from the settings."""

    def __init__(self, *, bound_host: str, allow_hosts: tuple[str, ...] = (),
                 token: str | None = None) -> None:
        names = {split_host(name) for name in allow_hosts if name.strip()}
        self.any_host = "*" in names
        bound = split_host(bound_host)
        if bound and not _is_ip(bound):
            names.add(bound)
        self.names = frozenset(names - {"*"})
        self.token = token or None

    def host_allowed(self, header: str | None) -> bool:
        if header is None or self.any_host:
            return True
        host = split_host(header)
        return (_is_ip(host) or host in LOOPBACK_NAMES or host.endswith(".localhost")
                or host in self.names)

    def check_host(self, request: web.Request) -> Refusal | None:
        header = request.headers.get("Host")
        if self.host_allowed(header):
            return None
        return Refusal(403, "Host", f"Host {show(header, 60)} is not an address this emulator "
                       "serves; start it with --allow-host NAME (or SMS_EMULATOR_ALLOW_HOSTS) to "
                       "add a name", f"Host {show(header, 60)} not allowed")

    def check_control(self, request: web.Request) -> Refusal | None:
        """Origin, token and Content-Type of a ``/_emulator`` request (Host is checked first
        with :meth:`check_host`)."""
        origin = request.headers.get("Origin")
        if origin is not None and not self._same_origin(origin, request.headers.get("Host")):
            return Refusal(403, "Origin", f"Origin {show(origin, 60)} is not this emulator's; "
                           "the control API refuses cross-origin requests (a web page cannot "
                           "drive it)", f"cross-origin request from {show(origin, 60)}")
        if self.token is not None and not self._token_matches(request):
            return Refusal(401, "Authorization", "the control API needs Authorization: Bearer "
                           "<control token> (set by --control-token or "
                           "SMS_EMULATOR_CONTROL_TOKEN)", "no or wrong control token")
        if request.body_exists and not _is_json_type(request):
            given = request.headers.get("Content-Type")
            what = f"Content-Type {show(given, 60)}" if given else "no Content-Type"
            return Refusal(415, "Content-Type", f"a control API body must be application/json; "
                           f"the request has {what}", f"body with {what}")
        return None

    @staticmethod
    def _same_origin(origin: str, host_header: str | None) -> bool:
        if host_header is None:
            return False
        try:
            parts = urlsplit(origin.strip())
            netloc = parts.netloc
        except ValueError:
            return False
        scheme = parts.scheme.lower()
        # https too: the emulator may sit behind a TLS-terminating proxy that keeps the Host
        if scheme not in ("http", "https") or not netloc or parts.path not in ("", "/"):
            return False
        return _origin_key(netloc, scheme) == _origin_key(host_header, scheme)

    def _token_matches(self, request: web.Request) -> bool:
        scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or self.token is None:
            return False
        return hmac.compare_digest(given.strip().encode("utf-8", "surrogateescape"),
                                   self.token.encode("utf-8", "surrogateescape"))


def _is_json_type(request: web.Request) -> bool:
    if "Content-Type" not in request.headers:
        return False
    mimetype = media_type(request)  # lower case, parameters (charset) dropped
    return mimetype in JSON_TYPES or (mimetype.startswith("application/")
                                      and mimetype.endswith("+json"))
