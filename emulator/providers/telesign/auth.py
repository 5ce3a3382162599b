"""Verifies Telesign REST authentication: Basic, and ``TSA`` HMAC over the raw body.

Checks follow the order a client's mistakes are easiest to read in: the Authorization header
(10009, 10028), the customer id (10015), for Basic the key (10022); for HMAC the auth method
(10006), the date (10007, 10005, 10004), the nonce's length (10003), the signature (10008, with
the server's ``signature_string``) and last the nonce replay (10002).

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
import hmac
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from emulator.core.timefmt import parse_http_date
from emulator.providers.telesign import signing
from emulator.providers.telesign.errors import TelesignError
from emulator.schema_messages import show

MAX_NONCE_LENGTH = 64


@dataclass(frozen=True)
class Account:
    customer_id: str
    api_key: str


class NonceCache:
    """Nonces seen within the replay window (wall-clock seconds)."""

    def __init__(self) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()

    def seen(self, nonce: str, now: float, window: float) -> bool:
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at <= window:
                break
            self._seen.pop(oldest)
        return nonce in self._seen

    def add(self, nonce: str, now: float) -> None:
        self._seen[nonce] = now

    def clear(self) -> None:
        self._seen.clear()


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
        skew = float(settings["date_skew_seconds"])
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
            if self.nonces.seen(nonce, now, float(settings["nonce_window_seconds"])):
                raise TelesignError(10002, reason="x-ts-nonce used again within "
                                                  f"{settings['nonce_window_seconds']} s")
            self.nonces.add(nonce, now)
        return auth_method.upper()
