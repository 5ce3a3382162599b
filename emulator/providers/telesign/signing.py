"""Telesign's HMAC signing: the REST string-to-sign and the callback body signature.

Fact sheet §1.4 (requests) and §3.4 (callbacks). The api key is base64 and is decoded leniently,
as the SDKs do: characters outside the base64 alphabet are dropped (the documented example keys
contain ``----``) and missing padding is added.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from functools import lru_cache

_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")

DIGESTS = {"HMAC-SHA256": hashlib.sha256, "HMAC-SHA1": hashlib.sha1}


def raw(text: str) -> bytes:
    """A header value as the bytes that came over the wire (aiohttp keeps bytes that are not
    UTF-8 as surrogates), so that a signature over any header can be checked, never crash."""
    return text.encode("utf-8", "surrogateescape")


@lru_cache(maxsize=64)  # decoded on every signed request; an account has one key
def decode_api_key(api_key: str) -> bytes:
    """The HMAC key behind a Telesign api key, decoded leniently."""
    cleaned = _NOT_BASE64.sub(b"", api_key.encode("ascii", "ignore"))
    cleaned = cleaned[: len(cleaned) - len(cleaned) % 4] if len(cleaned) % 4 == 1 else cleaned
    cleaned += b"=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned)
    except binascii.Error as exc:  # pragma: no cover - cleaned input always decodes
        raise ValueError(f"api key is not base64: {exc}") from exc


def is_base64_key(api_key: str) -> bool:
    """Whether a key decodes to something usable as an HMAC key."""
    try:
        return len(decode_api_key(api_key)) > 0
    except ValueError:
        return False


def sign(key: bytes, message: bytes, method: str = "HMAC-SHA256") -> str:
    """Base64 of the HMAC digest of ``message``."""
    digest = hmac.new(key, message, DIGESTS[method.upper()]).digest()
    return base64.b64encode(digest).decode("ascii")


def string_to_sign(*, method: str, content_type: str, date: str, auth_method: str,
                   nonce: str | None, x_ts_date: str | None, body: bytes, resource: str) -> bytes:
    """The canonical string the SDKs sign, as bytes (the body is used exactly as received).

    ``METHOD\\nContent-Type\\nDate\\nx-ts-auth-method:M[\\nx-ts-date:D][\\nx-ts-nonce:N]
    [\\nbody]\\nresource``; the body line only when there is a content type and a body.
    """
    head = [method.upper(), content_type, date, f"x-ts-auth-method:{auth_method}"]
    if x_ts_date:
        head.append(f"x-ts-date:{x_ts_date}")
    if nonce is not None:
        head.append(f"x-ts-nonce:{nonce}")
    parts = [raw("\n".join(head))]
    if content_type and body:
        parts.append(body)
    parts.append(raw(resource))
    return b"\n".join(parts)


def callback_signature(api_key: str, body: bytes) -> str:
    """The signature Telesign puts on a callback: HMAC-SHA256 of the body alone."""
    return sign(decode_api_key(api_key), body)
