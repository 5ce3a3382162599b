"""Timestamp formats the providers put on the wire, and the HTTP date parser auth needs."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache

#: the emulated times the emulator accepts as a start (``--start``, a reset's ``now``, a
#: scenario's ``start``) and lets its clock reach: 1970 to 9000, which leaves every formatter
#: below room for the longest delays a job can have
EARLIEST = 0.0
LATEST = datetime(9000, 1, 1, tzinfo=UTC).timestamp()
_LAST_FORMATTABLE = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()


def in_range(ts: float) -> bool:
    return EARLIEST <= ts <= LATEST


def _moment(ts: float) -> datetime:
    """``ts`` as a UTC datetime; held within what ``datetime`` can show, so formatting a far
    future job's time never fails."""
    return datetime.fromtimestamp(min(max(ts, EARLIEST), _LAST_FORMATTABLE), UTC)


def iso_micro_z(ts: float) -> str:
    """RFC 3339 UTC with microseconds and a ``Z``: ``2015-10-03T14:51:28.709526Z``."""
    # isoformat, not strftime: the same text in a third of the time (a page of messages
    # formats five timestamps a message); ``[:-6]`` drops the ``+00:00``
    return _moment(ts).isoformat(timespec="microseconds")[:-6] + "Z"


def iso_naive_micro(ts: float) -> str:
    """UTC without a zone, with microseconds: ``2017-09-17T19:12:32.792699`` (TSG Global)."""
    return _moment(ts).isoformat(timespec="microseconds")[:-6]


def iso_naive_seconds(ts: float, *, minute: bool = False) -> str:
    """UTC without a zone or fraction: ``2017-06-01T18:00:05``; ``minute`` zeroes the seconds
    (``2017-06-01T18:00:00``), as TSG's delivery receipt times are."""
    moment = _moment(int(ts))
    if minute:
        moment = moment.replace(second=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def rfc1123(ts: float) -> str:
    """HTTP date: ``Tue, 31 Jan 2017 13:36:07 GMT``."""
    return format_datetime(_moment(int(ts)), usegmt=True)


@lru_cache(maxsize=256)  # a client's Date header repeats for a whole second of requests
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


def parse_iso(value: object) -> float | None:
    """POSIX seconds of an ISO 8601 time with a zone (``Z`` allowed); ``None`` if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.timestamp()
