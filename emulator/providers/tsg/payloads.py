"""Builds TSG Global's JSON objects: the Message object (a whole message or one of its parts),
the send answer keyed by recipient, and the ``sms_dlr`` delivery receipt.

Formats as the document shows them: numbers without ``+``; timestamps in UTC without a zone,
with microseconds (``2017-09-17T19:12:32.792699``); receipt times ``submitted_at``/``done_at``
with minute accuracy (``2017-06-01T18:00:00``). Where the document's examples disagree, the
default follows one and a setting gives the other:

- ``udh_style``: ``full`` (default) puts ``udh`` on every object, all nulls on a single SMS, as
  the webhook example does; ``compact`` leaves it off a single SMS and shows ``{ref_num, count}``
  on a multipart one, as the GET examples do. A part always has ``{ref_num, count, seq_num}``;
- ``delivery_receipt_format``: ``text`` (default; ``"no"`` as in the GET example, then
  ``always``/``on_success``/``on_error``) or ``number`` (``0``-``3`` as in the send example);
- ``dlr_time_precision``: ``minute`` (default, as the field's description says) or ``second``
  (one example shows ``18:00:05``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emulator.core.store import Message
from emulator.core.timefmt import iso_naive_micro, iso_naive_seconds
from emulator.providers.tsg import statuses


@dataclass(frozen=True)
class WireStyle:
    udh_style: str = "full"
    delivery_receipt_format: str = "text"
    dlr_time_precision: str = "minute"

    @classmethod
    def of(cls, section: Mapping[str, Any]) -> WireStyle:
        return cls(section["udh_style"], section["delivery_receipt_format"],
                   section["dlr_time_precision"])


def delivery_receipt(registered_delivery: int, style: WireStyle) -> str | int:
    if style.delivery_receipt_format == "number":
        return registered_delivery
    return statuses.RECEIPT_NAMES[registered_delivery]


def message_object(message: Message, style: WireStyle,
                   part: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The Message object of ``message``, or of one of its ``details["parts"]``."""
    details = message.details
    obj: dict[str, Any] = {"id": part["id"] if part else message.id}
    udh = details.get("udh")
    if part is not None:
        obj["udh"] = {**udh, "seq_num": part["seq_num"]}
    elif udh is not None:
        obj["udh"] = dict(udh) if style.udh_style == "compact" else {**udh, "seq_num": None}
        obj["parts"] = [{"id": p["id"]} for p in details["parts"]]
    elif style.udh_style == "full":
        obj["udh"] = {"ref_num": None, "count": None, "seq_num": None}
    obj.update({
        "type": message.direction,
        "from": message.from_,
        "to": message.to,
        "object": "sms",
        "body": part["body"] if part else message.text,
        "encoding": details["encoding"],
        "delivery_receipt": delivery_receipt(details["registered_delivery"], style),
        "status": message.status,
        "location": None,
        "inserted_at": iso_naive_micro(message.created_at),
        "updated_at": iso_naive_micro(message.updated_at),
        "scheduled_at": details["scheduled_at"],
        "processed_at": details["processed_at"],
        "delivered_at": details["delivered_at"],
        "expires_at": details["expires_at"],
    })
    return obj


def send_response(messages: list[Message], style: WireStyle) -> dict[str, Any]:
    return {message.to: message_object(message, style) for message in messages}


def sms_dlr(message: Message, *, dlr_id: str, status: str, at: float, submitted_at: float,
            error_code: str, style: WireStyle) -> dict[str, Any]:
    minute = style.dlr_time_precision == "minute"
    return {
        "id": dlr_id,
        "type": "inbound",
        "from": message.from_,
        "to": message.to,
        "object": "sms_dlr",
        "delivery_status": status,
        "delivery_error_code": error_code,
        "inserted_at": iso_naive_micro(at),
        "updated_at": iso_naive_micro(at),
        "submitted_at": iso_naive_seconds(submitted_at, minute=minute),
        "done_at": iso_naive_seconds(at, minute=minute),
        "sms": {"id": message.id},
    }


def number_webhook(did: str, number: Mapping[str, Any]) -> dict[str, Any]:
    """The answer to ``POST /v1/sms/webhook`` (undocumented: the configuration as stored)."""
    return {"did": did, "webhook_url": number["webhook_url"],
            "webhook_type": number.get("webhook_type", "postv2"),
            "x_api_key_header": number["x_api_key"]}
