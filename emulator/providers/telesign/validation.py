"""Parses and validates the form body of ``POST /v1/messaging`` (fact sheet §2.5).

The body is parsed from the raw bytes (never re-encoded; auth already used them). A parameter
that is not valid UTF-8 gets that parameter's "invalid value" code. Unknown parameters are kept
and tolerated, as the SDKs pass extra keyword arguments straight through.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import unquote_to_bytes, urlsplit

import phonenumbers

from emulator.providers.telesign.errors import TelesignError

MAX_MESSAGE_CHARS = 1600
MESSAGE_TYPES = ("OTP", "ARN", "MKT")
LIFECYCLE_EVENTS = ("create", "sign-in", "transact", "update", "delete")
MAX_SENDER_ID = 20
MAX_EXTERNAL_ID = 100

_INVALID_CODE = {
    "phone_number": 11000,
    "message": 11009,
    "message_type": 11017,
    "callback_url": 11004,
    "account_lifecycle_event": 11003,
    "originating_ip": 11010,
    "sender_id": 11013,
    "external_id": 11016,
}
_SENDER_ID = re.compile(r"^[A-Za-z0-9 ._+-]{1,20}$")


@dataclass
class SendRequest:
    phone_number: str
    message: str
    message_type: str
    callback_url: str | None = None
    account_lifecycle_event: str | None = None
    sender_id: str | None = None
    originating_ip: str | None = None
    external_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def parse_form(body: bytes) -> dict[str, str]:
    """``application/x-www-form-urlencoded`` into a dict (first value of a repeated key wins)."""
    params: dict[str, str] = {}
    for pair in body.split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        name_bytes = unquote_to_bytes(raw_name.replace(b"+", b" "))
        name = name_bytes.decode("utf-8", "replace")
        try:
            value = unquote_to_bytes(raw_value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            raise TelesignError(_INVALID_CODE.get(name, 11009)) from None
        params.setdefault(name, value)
    return params


def sender_id_problem(value: str) -> bool:
    """Whether ``value`` is not a ``sender_id`` Telesign accepts."""
    return not _SENDER_ID.match(value)


@lru_cache(maxsize=4096)
def phone_number_problem(value: str) -> int | None:
    """The error code for a bad ``phone_number``, or ``None``. Cached: a test suite sends to
    the same few numbers over and over, and parsing is the dearest check of a send."""
    if not value.isascii() or not value.isdigit():
        return 11000
    try:
        parsed = phonenumbers.parse("+" + value, None)
    except phonenumbers.NumberParseException as exc:
        unknown = exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE
        return 11001 if unknown else 11000  # too short or too long
    if phonenumbers.region_code_for_country_code(parsed.country_code) == "ZZ":
        return 11001
    if not phonenumbers.is_possible_number(parsed):
        return 11000
    return None


def _check_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def validate_send(params: dict[str, str]) -> SendRequest:
    """The request, or :class:`TelesignError` with the documented code of the first problem."""
    external_id = params.get("external_id") or None
    problem: dict[str, str | None] = {"external_id": external_id}
    phone = params.get("phone_number", "").strip()
    message = params.get("message", "")
    message_type = params.get("message_type", "").strip()
    if not phone:
        raise TelesignError(12000, **problem)
    _check_phone_number_with(phone, problem)
    if message == "":
        raise TelesignError(12009, **problem)
    if len(message) > MAX_MESSAGE_CHARS:
        raise TelesignError(11009, **problem)
    if not message_type:
        raise TelesignError(12017, **problem)
    if message_type not in MESSAGE_TYPES:
        raise TelesignError(11017, **problem)

    optional = {name: params.get(name) or None for name in (
        "callback_url", "account_lifecycle_event", "sender_id", "originating_ip")}
    checks = {
        "callback_url": _check_url,
        "account_lifecycle_event": lambda v: v in LIFECYCLE_EVENTS,
        "sender_id": lambda v: not sender_id_problem(v),
        "originating_ip": _is_ip,
        "external_id": lambda v: len(v) <= MAX_EXTERNAL_ID,
    }
    for name, check in checks.items():
        value = external_id if name == "external_id" else optional[name]
        if value is not None and not check(value):
            raise TelesignError(_INVALID_CODE[name], **problem)
    known = {"phone_number", "message", "message_type", "external_id", *optional}
    return SendRequest(
        phone_number=phone, message=message, message_type=message_type,
        external_id=external_id, extra={k: v for k, v in params.items() if k not in known},
        **optional,
    )


def _check_phone_number_with(phone: str, problem: dict[str, str | None]) -> None:
    code = phone_number_problem(phone)
    if code is not None:
        raise TelesignError(code, **problem)


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


REFERENCE_ID = re.compile(r"^[0-9A-Fa-f]{32}$")


def check_reference_id(value: str) -> str:
    if not REFERENCE_ID.match(value):
        raise TelesignError(11011)
    return value.upper()
