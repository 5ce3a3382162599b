"""Parses and validates the JSON bodies of TSG's endpoints into requests the provider runs.

The shape is checked by the JSON Schemas (``tsg/send-request``, ``tsg/number-webhook-request``);
the first problem becomes a 422 naming its field. Then what a schema cannot say:

- numbers lose their ``+`` (the wire form), recipients are de-duplicated in order;
- the encoding: ``force_encoding`` is used as given and the body must fit it; ``encoding`` is a
  preference, used when the body fits it; otherwise Latin-1 (3) when the body fits it and UCS-2
  (8) when not, as TSG documents. A lone surrogate fits no encoding;
- the body must fit the segment table's maximum number of parts (TSG does not say what happens
  beyond it; the emulator refuses with a 422 on ``body`` rather than truncate silently);
- ``deliver_at`` and ``expires_at`` are UTC (a zone, if given, is converted): ``deliver_at`` in
  the past sends at once, more than two years ahead is refused; ``expires_at`` must be later than
  the time the message is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from emulator import schemas
from emulator.core import strictjson
from emulator.core.strictjson import NotStandardJson, TooDeep
from emulator.providers.tsg.errors import TsgError, invalid
from emulator.schema_messages import show
from emulator.sms.encoding import NAMES, Unencodable, choose, unencodable
from emulator.sms.segmentation import Segmented, SegmentTable, TooManyParts, split

MAX_SCHEDULE_SECONDS = 2 * 366 * 86400  # "up to 2 years in advance"


@dataclass(frozen=True)
class SendRequest:
    sender: str
    recipients: tuple[str, ...]
    segmented: Segmented
    registered_delivery: int
    deliver_at: float | None
    expires_at: float | None
    requested_encoding: int | None
    force_encoding: int | None

    @property
    def body(self) -> str:
        return self.segmented.text


@dataclass(frozen=True)
class NumberWebhook:
    did: str
    webhook_url: str | None
    webhook_type: str
    x_api_key: str | None


def parse_json(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a 422 ``invalid_json``."""
    if not raw.strip():
        raise TsgError(422, "(request body): is empty; send a JSON object", "invalid_json")
    try:
        document = strictjson.loads(raw)
    except TooDeep as exc:
        raise TsgError(422, f"(request body): is not valid JSON ({exc.field}: {exc})",
                       "invalid_json") from None
    except NotStandardJson as exc:
        if exc.field is not None:
            raise invalid(exc.field, str(exc)) from None
        raise TsgError(422, f"(request body): is not valid JSON ({exc})", "invalid_json") from None
    except (ValueError, RecursionError) as exc:
        raise TsgError(422, f"(request body): is not valid JSON ({type(exc).__name__})",
                       "invalid_json") from None
    if not isinstance(document, dict):
        raise TsgError(422, "(request body): must be a JSON object", "invalid_json")
    return document


def check_schema(name: str, document: dict[str, Any]) -> None:
    found = schemas.problems(name, document)
    if found:
        raise invalid(found[0].field(), found[0].message)


def wire_number(text: str) -> str:
    """A number as TSG puts it on the wire: digits, no ``+``."""
    return text.strip().removeprefix("+")


def check_text(field: str, text: str) -> None:
    if unencodable(text, 8, limit=1):  # only a lone surrogate is beyond UCS-2
        raise invalid(field, "contains a lone UTF-16 surrogate, which no SMS encoding can carry")


def segment(text: str, requested: int | None, forced: int | None,
            table: SegmentTable) -> Segmented:
    """``text`` in the encoding TSG would pick, cut into parts; :class:`ValueError` subclasses
    (:class:`Unencodable`, :class:`TooManyParts`) when that cannot be done."""
    encoding = forced if forced is not None else choose(text, requested)
    return split(text, encoding, table)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _time(field: str, value: str) -> float:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise invalid(field, f"{show(value)} is not a UTC date and time such as "
                             "2017-08-04T08:00:00") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:  # it must come back out too: 9999-12-31T23:59:59.999999 rounds to the year 10000
        stamp = parsed.timestamp()
        datetime.fromtimestamp(stamp, UTC)
    except (OverflowError, ValueError, OSError):
        raise invalid(field, f"{show(value)} is out of range") from None
    return stamp


def validate_send(document: dict[str, Any], now: float, table: SegmentTable) -> SendRequest:
    check_schema("tsg/send-request", document)
    body: str = document["body"]
    check_text("body", body)
    # JSON may spell an integer 3.0; the wire shows 3
    forced = _int_or_none(document.get("force_encoding"))
    requested = _int_or_none(document.get("encoding"))
    try:
        segmented = segment(body, requested, forced, table)
    except Unencodable as exc:
        shown = ", ".join(repr(c) for c in exc.characters)
        raise invalid("body", f"cannot be sent with force_encoding {forced}: "
                              f"{NAMES[exc.encoding]} cannot represent {shown}") from None
    except TooManyParts as exc:
        raise invalid("body", str(exc)) from None

    deliver_at = None
    if document.get("deliver_at") is not None:
        deliver_at = _time("deliver_at", document["deliver_at"])
        if deliver_at > now + MAX_SCHEDULE_SECONDS:
            raise invalid("deliver_at", "is more than two years ahead")
        deliver_at = max(deliver_at, now)
    expires_at = None
    if document.get("expires_at") is not None:
        expires_at = _time("expires_at", document["expires_at"])
        if expires_at <= (deliver_at or now):
            raise invalid("expires_at", "must be later than deliver_at" if deliver_at
                          else "must be in the future")

    recipients = tuple(dict.fromkeys(wire_number(to) for to in document["to"]))
    return SendRequest(
        sender=wire_number(document["from"]) if document["from"].strip("+").isdigit()
        else document["from"],
        recipients=recipients, segmented=segmented,
        registered_delivery=_int_or_none(document.get("registered_delivery")) or 0,
        deliver_at=deliver_at, expires_at=expires_at,
        requested_encoding=requested, force_encoding=forced,
    )


def validate_number_webhook(document: dict[str, Any]) -> NumberWebhook:
    """``POST /v1/sms/webhook``: a blank or missing ``webhook_url`` makes the number SMPP."""
    check_schema("tsg/number-webhook-request", document)
    url = (document.get("webhook_url") or "").strip() or None
    webhook_type = document.get("webhook_type") or "postv2"
    if url is None:
        webhook_type = "smpp"
    return NumberWebhook(did=wire_number(document["did"]), webhook_url=url,
                         webhook_type=webhook_type,
                         x_api_key=document.get("x_api_key_header") or None)
