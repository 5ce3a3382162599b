"""The request the messaging benchmarks send: ``POST /v1/messaging`` as the Telesign SDK makes
it, signed with HMAC-SHA256 (a fresh nonce and date each) or with Basic auth."""

from __future__ import annotations

import base64
import sys
import uuid
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulator.providers.telesign import signing
from emulator.providers.telesign.provider import (
    DEFAULT_API_KEY,
    DEFAULT_CUSTOMER_ID,
)

PATH = "/v1/messaging"
BODY = urlencode({"phone_number": "15551234567", "message": "Your code is 123456",
                  "message_type": "OTP"}).encode()
CONTENT_TYPE = "application/x-www-form-urlencoded"
KEY = signing.decode_api_key(DEFAULT_API_KEY)
BASIC = "Basic " + base64.b64encode(f"{DEFAULT_CUSTOMER_ID}:{DEFAULT_API_KEY}".encode()).decode()


def signed_headers() -> dict[str, str]:
    """The headers the Telesign SDK sends for an HMAC-SHA256 POST."""
    date = formatdate(usegmt=True)
    nonce = str(uuid.uuid4())
    text = signing.string_to_sign(method="POST", content_type=CONTENT_TYPE, date=date,
                                  auth_method="HMAC-SHA256", nonce=nonce, x_ts_date=None,
                                  body=BODY, resource=PATH)
    signature = signing.sign(KEY, text)
    return {"Authorization": f"TSA {DEFAULT_CUSTOMER_ID}:{signature}", "Date": date,
            "Content-Type": CONTENT_TYPE, "x-ts-auth-method": "HMAC-SHA256", "x-ts-nonce": nonce}


def basic_headers() -> dict[str, str]:
    """The headers of a Basic-auth POST (the same for every request)."""
    return {"Authorization": BASIC, "Content-Type": CONTENT_TYPE}


HEADERS = {"hmac": signed_headers, "basic": basic_headers}


def raw_request(host: str, headers: dict[str, str]) -> bytes:
    """The whole HTTP/1.1 request, as a load generator writes it to the socket."""
    lines = [f"POST {PATH} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(BODY)}",
             *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + BODY
