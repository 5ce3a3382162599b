"""Telesign error codes and the JSON error body (fact sheet §2.2; legacy codes §2.3).

Every error the Telesign endpoints give is ``{"status": {"code", "description", "updated_on"}}``
with the documented HTTP status. Validation errors also carry ``external_id`` (as a real 400
does), and 10008 carries the server's ``signature_string`` so a user can diff it against theirs.
Unknown paths and wrong methods have no documented code in the new format; the emulator uses the
legacy -40004 "Resource not found" and -40005 "Method not allowed".
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from emulator.providers.base import annotate

ERRORS: dict[int, tuple[int, str]] = {
    10000: (500, "System Unavailable, Please try again later."),
    10002: (401, "'x-ts-nonce' header value has been used recently"),
    10003: (401, "'x-ts-nonce' header value is either too long or too short"),
    10004: (401, "'Date' or 'x-ts-date' header is not within tolerable range"),
    10005: (401, "'Date' or 'x-ts-date' header is not RFC822 compliant"),
    10006: (401, "Invalid 'x-ts-auth-method' header."),
    10007: (401, "Missing required 'Date' or 'x-ts-date' header"),
    10008: (401, "Invalid Signature."),
    10009: (401, "Missing required 'Authorization' header"),
    10015: (401, "Invalid Customer ID."),
    10017: (404, "Customer ID / Reference ID not found"),
    10022: (401, "Invalid API Key."),
    10028: (401, "Required 'Authorization' header is not in the correct format"),
    11000: (400, "Invalid value for parameter phone_number."),
    11001: (400, "Invalid country code for parameter phone_number."),
    11003: (400, "Invalid value for parameter account_lifecycle_event."),
    11004: (400, "Invalid value for parameter callback_url."),
    11009: (400, "Invalid value for parameter message."),
    11010: (400, "Invalid value for parameter originating_ip."),
    11011: (400, "Invalid value for parameter reference_id."),
    11013: (400, "Invalid value for parameter sender_id."),
    11016: (400, "Invalid value for parameter external_id."),
    11017: (400, "Invalid value for parameter message_type."),
    12000: (400, "Missing Required Parameter phone_number"),
    12009: (400, "Missing Required Parameter message"),
    12017: (400, "Missing Required Parameter message_type"),
    -40004: (404, "Resource not found"),
    -40005: (405, "Method not allowed"),
    -40006: (400, "Bad Request"),
}

#: what an HTTP error raised by the framework maps to
HTTP_TO_CODE = {400: -40006, 404: -40004, 405: -40005, 413: -40006}


class TelesignError(Exception):
    """Raised inside a handler; the route turns it into the error response. ``reason`` says
    which check failed, for the journal and the log (never sent); ``extra`` goes into the
    body."""

    def __init__(self, code: int, *, reason: str | None = None, **extra: Any) -> None:
        super().__init__(ERRORS[code][1])
        self.code = code
        self.reason = reason
        self.extra = extra


def error_body(code: int, updated_on: str, **extra: Any) -> dict[str, Any]:
    description = ERRORS[code][1]
    body: dict[str, Any] = {}
    if "external_id" in extra:
        body["external_id"] = extra.pop("external_id")
    body["status"] = {"code": code, "description": description, "updated_on": updated_on}
    body.update(extra)
    return body


def error_response(code: int, updated_on: str, http_status: int | None = None,
                   reason: str | None = None, **extra: Any) -> web.Response:
    """The error body with the code's documented HTTP status (or ``http_status`` if given);
    the code and ``reason`` (default: the description) are put on the journal entry."""
    response = web.Response(status=http_status or ERRORS[code][0],
                            text=json.dumps(error_body(code, updated_on, **extra)),
                            content_type="application/json", headers={"Allow": "GET,POST"})
    annotate(response, code=code, reason=reason or ERRORS[code][1])
    return response
