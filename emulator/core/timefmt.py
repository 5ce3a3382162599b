"""Timestamp formats the providers put on the wire, and the HTTP date parser auth needs."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime


def iso_micro_z(ts: float) -> str:
    """RFC 3339 UTC with microseconds and a ``Z``: ``2015-10-03T14:51:28.709526Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc1123(ts: float) -> str:
    """HTTP date: ``Tue, 31 Jan 2017 13:36:07 GMT``."""
    return format_datetime(datetime.fromtimestamp(int(ts), UTC), usegmt=True)


def parse_http_date(value: str) -> float | None:
    """Parse an RFC 822/1123 date; ``None`` if it is not one. A date without a zone is UTC."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
