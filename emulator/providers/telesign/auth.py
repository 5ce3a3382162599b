"""Verifies Telesign REST authentication: Basic, and ``TSA`` HMAC over the raw body.

Checks follow the order a client's mistakes are easiest to read in: the Authorization header
(10009, 10028), the customer id (10015), for Basic the key (10022); for HMAC the auth method
(10006), the date (10007, 10005, 10004), the nonce's length (10003), the signature (10008, with
the server's ``signature_string``) and last the nonce replay (10002).

A body that the signature does not cover is never acted on: the SDKs' string-to-sign has a body
line only when the request has a Content-Type, so a signed request with a body and no
Content-Type gets 10008 "Invalid Signature." (Telesign documents no finer code; the journal's
``reason`` says why), rather than a 200 for a body nobody signed.

The Date skew is measured against the wall clock, not the emulated clock: clients sign with
their own real clock, and a manual clock advanced by three days must not lock the SDK out.

Several canonicalisations that real clients use are accepted (fact sheet §1.5): the SDKs' own,
``x-ts-date`` with the Date line as sent or blank (legacy SDKs), and the path with its query
string (the official sample's). The ``signature_string`` shown on 10008 is the SDKs' form.

Every refusal carries a ``reason`` naming the check that failed (``signature mismatch``,
``Date 3700 s off``), which reaches the journal and the log, never the answer.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from emulator.core.timefmt import parse_http_date
from emulator.providers.telesign import signing
from emulator.providers.telesign.errors import TelesignError
from emulator.schema_messages import show

MAX_NONCE_LENGTH = 64
#: the most nonces remembered at once (about 200 bytes each)
MAX_NONCES = 200_000


@dataclass(frozen=True)
class Account:
    customer_id: str
    api_key: str


class NonceCache:
    """Nonces of accepted HMAC requests, each kept until a replay of its request could no
    longer pass the Date check: until ``max(first seen + window, its Date + skew)`` on the
    wall clock. (Forgetting it a fixed time after it was first seen let a request dated 19 s
    ahead, within a 20 s skew, be replayed 21 s later.)

    Memory is bounded: at most :data:`MAX_NONCES` are kept; beyond that the one that would
    expire soonest is forgotten first and counted in :attr:`evicted` (only a client sending
    more signed requests than that within one skew window could see a replay accepted)."""

    def __init__(self, limit: int = MAX_NONCES) -> None:
        self._until: dict[str, float] = {}
        self._expiry: list[tuple[float, str]] = []  # a heap; stale pairs are skipped
        self.limit = limit
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._until)

    def _pop_soonest(self) -> tuple[float, str]:
        while True:
            until, nonce = heapq.heappop(self._expiry)
            if self._until.get(nonce) == until:
                return until, nonce

    def _expire(self, now: float) -> None:
        while self._expiry and self._expiry[0][0] < now:
            until, nonce = heapq.heappop(self._expiry)
            if self._until.get(nonce) == until:
                del self._until[nonce]

    def seen(self, nonce: str, now: float) -> bool:
        self._expire(now)
        return nonce in self._until

    def add(self, nonce: str, until: float) -> None:
        """Remember ``nonce`` until the wall-clock time ``until``."""
        until = max(until, self._until.get(nonce, until))
        if nonce not in self._until and len(self._until) >= self.limit:
            _, oldest = self._pop_soonest()
            del self._until[oldest]
            self.evicted += 1
        self._until[nonce] = until
        heapq.heappush(self._expiry, (until, nonce))
        if len(self._expiry) > 2 * self.limit + 16:  # drop the stale pairs now and then
            self._expiry = [(u, n) for u, n in self._expiry if self._until.get(n) == u]
            heapq.heapify(self._expiry)

    def clear(self) -> None:
        self._until.clear()
        self._expiry.clear()


class Verifier:
    def __init__(self, account: Callable[[], Account], settings: Callable[[], dict],
                 wall_clock: Callable[[], float] = time.time) -> None:
        self._account = account
        self._settings = settings
        self._wall = wall_clock
        self.nonces = NonceCache()

    def verify(self, request: web.Request, body: bytes) -> str:
        """Raise :class:`TelesignError` unless the request is authentic; return the method used."""
        header = request.headers.get("Authorization")
        if header is None or not header.strip():
            raise TelesignError(10009, reason="no Authorization header")
        scheme, _, credentials = header.strip().partition(" ")
        credentials = credentials.strip()
        if scheme.lower() == "basic":
            self._verify_basic(credentials)
            return "Basic"
        if scheme == "TSA" and ":" in credentials:
            customer_id, _, signature = credentials.partition(":")
            return self._verify_hmac(request, body, customer_id, signature)
        if scheme == "TSA":
            raise TelesignError(10028, reason="TSA credentials have no ':' between customer id "
                                              "and signature")
        raise TelesignError(10028, reason=f"Authorization scheme {show(scheme, 20)} is neither "
                                          "'Basic' nor 'TSA'")

    def _check_customer(self, customer_id: str) -> Account:
        account = self._account()
        if customer_id.strip().lower() != account.customer_id.lower():
            raise TelesignError(10015, reason=f"customer id {show(customer_id.strip(), 64)} is "
                                              "not the configured one")
        return account

    def _verify_basic(self, credentials: str) -> None:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise TelesignError(10028, reason="Basic credentials are not base64") from None
        customer_id, sep, api_key = decoded.partition(":")
        if not sep:
            raise TelesignError(10028, reason="Basic credentials have no ':' between customer "
                                              "id and api key")
        account = self._check_customer(customer_id)
        if not hmac.compare_digest(signing.raw(api_key), signing.raw(account.api_key)):
            raise TelesignError(10022, reason="Basic api key is not the configured one")

    def _verify_hmac(self, request: web.Request, body: bytes, customer_id: str,
                     signature: str) -> str:
        account = self._check_customer(customer_id)
        settings = self._settings()
        headers = request.headers
        auth_method = headers.get("x-ts-auth-method", "")
        if auth_method.upper() not in signing.DIGESTS:
            raise TelesignError(10006, reason=(
                f"x-ts-auth-method {show(auth_method, 30)} is not HMAC-SHA256 or HMAC-SHA1"
                if auth_method else "no x-ts-auth-method header"))

        date_header = headers.get("Date")
        x_ts_date = headers.get("x-ts-date")
        used_date = x_ts_date or date_header
        if not used_date:
            raise TelesignError(10007, reason="no Date or x-ts-date header")
        date_name = "x-ts-date" if x_ts_date else "Date"
        sent_at = parse_http_date(used_date)
        if sent_at is None:
            raise TelesignError(10005, reason=f"{date_name} {show(used_date, 40)} is not an "
                                              "RFC 1123 date")
        now = self._wall()
        # bounded by the schema (at most ten years), so float() cannot overflow
        skew = float(settings["date_skew_seconds"])
        window = float(settings["nonce_window_seconds"])
        if abs(now - sent_at) > skew:
            when = "in the past" if sent_at < now else "in the future"
            raise TelesignError(10004, reason=f"{date_name} {abs(now - sent_at):.0f} s off, "
                                              f"{when} (limit {skew:g} s)")

        nonce = headers.get("x-ts-nonce")
        if nonce is not None and not 1 <= len(nonce) <= MAX_NONCE_LENGTH:
            raise TelesignError(10003, reason=f"x-ts-nonce is {len(nonce)} characters "
                                              f"(1 to {MAX_NONCE_LENGTH})")

        key = signing.decode_api_key(account.api_key)
        content_type = headers.get("Content-Type", "")
        if body and not content_type:
            # the string-to-sign has a body line only with a Content-Type: a signature that
            # passed here would vouch for an empty body while the handler read this one
            raise TelesignError(10008, reason=f"a body of {len(body)} bytes came without a "
                                              "Content-Type, so the signature does not cover "
                                              "it (send Content-Type: "
                                              "application/x-www-form-urlencoded)")
        path = request.rel_url.raw_path
        candidates = [
            dict(date=date_header or "", resource=path),
        ]
        if x_ts_date:
            candidates.append(dict(date="", resource=path))
        if request.rel_url.raw_query_string:
            candidates += [dict(c, resource=f"{path}?{request.rel_url.raw_query_string}")
                           for c in list(candidates)]
        strings = [
            signing.string_to_sign(method=request.method, content_type=content_type,
                                   auth_method=auth_method, nonce=nonce, x_ts_date=x_ts_date,
                                   body=body, **candidate)
            for candidate in candidates
        ]
        given = signing.raw(signature.strip())
        if not any(hmac.compare_digest(signing.sign(key, s, auth_method).encode(), given)
                   for s in strings):
            raise TelesignError(10008, reason=f"signature mismatch ({auth_method.upper()}; see "
                                              "signature_string in the answer)",
                                signature_string=strings[0].decode("utf-8", "replace"))

        if nonce is not None:
            if self.nonces.seen(nonce, now):
                raise TelesignError(10002, reason="x-ts-nonce used again within "
                                                  f"{window:g} s, or before its Date left the "
                                                  f"{skew:g} s skew window")
            self.nonces.add(nonce, max(now + window, sent_at + skew))
        return auth_method.upper()
