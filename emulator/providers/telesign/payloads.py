"""Builds the JSON bodies Telesign sends: the POST and GET answers and the delivery callback.

Timestamps are RFC 3339 with microseconds (``2015-10-03T14:51:28.709526Z``) by default, the form
of the POST example and the callback schema. The GET example shows RFC 1123 dates instead
(``Tue, 31 Jan 2017 13:36:07 GMT``); ``telesign.timestamp_format: rfc1123`` switches every
Telesign timestamp to that form.
"""

from __future__ import annotations

from typing import Any

from emulator.core.store import Message
from emulator.core.timefmt import iso_micro_z, rfc1123


def timestamp(ts: float, style: str) -> str:
    return rfc1123(ts) if style == "rfc1123" else iso_micro_z(ts)


def status_object(message: Message, style: str) -> dict[str, Any]:
    return {"code": message.status, "description": message.status_description,
            "updated_on": timestamp(message.updated_at, style)}


def send_response(message: Message, style: str) -> dict[str, Any]:
    return {
        "reference_id": message.id,
        "external_id": message.details.get("external_id"),
        "status": status_object(message, style),
    }


def status_response(message: Message, style: str) -> dict[str, Any]:
    return {
        "reference_id": message.id,
        "external_id": message.details.get("external_id"),
        "submit_timestamp": timestamp(message.created_at, style),
        "status": status_object(message, style),
    }


def delivery_callback(message: Message, style: str) -> dict[str, Any]:
    return {
        "reference_id": message.id,
        "status": status_object(message, style),
        "submit_timestamp": timestamp(message.created_at, style),
        "external_id": message.details.get("external_id"),
        "errors": [],
        "sub_resource": "sms",
    }
