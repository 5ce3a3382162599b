"""Telesign inbound (MO) payloads for every channel, built exactly as seeds 000 and 001 show.

- ``mo_sms``: ``user_response{action, keyword (start/stop/help only), iso_country_code,
  sender_id, phone_number, mo_message, price (a setting; null leaves it out)}``.
- ``mo_email``: ``email`` and ``content.end_user_action{template, event}``.
- ``mo_mms``: ``content{text_1.., subject, url_image_1.., url_video_1.., url_audio_1..}``.
- ``mo_rcs``: ``rcs_sender_id`` and ``content`` holding ``text``, ``file.payload``,
  ``location`` or, for a keyword or a tapped suggestion, ``end_user_action``.
- Viber: ``content{text, media, file_name, ...}``; WhatsApp: ``waba_phone_number`` and
  ``content{type, content{...}}`` or ``content.end_user_action`` for a keyword. The documents'
  Viber and WhatsApp examples carry no ``sub_resource``, so neither does the emulator.

RCS and WhatsApp keyword actions are reported in lower case, as the examples show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emulator import schemas
from emulator.core.fakes import FakeData
from emulator.providers.base import InboundError
from emulator.schema_messages import show
from emulator.sms import numbers
from emulator.sms.keywords import KeywordMatch, detect

MO_STATUS_CODE = 1500
MO_STATUS_DESCRIPTION = "Delivered to customer"

KEYWORDS: dict[str, tuple[str, ...]] = {
    "stop": ("arrêt", "arret", "cancel", "end", "quit", "stop", "unsubscribe"),
    "help": ("aide", "contact", "help", "info"),
    "start": ("start",),
}
PHONE_CHANNELS = ("sms", "mms", "rcs", "viber", "whatsapp")
CHANNELS = (*PHONE_CHANNELS, "email")
SUB_RESOURCES = {"sms": "mo_sms", "email": "mo_email", "mms": "mo_mms", "rcs": "mo_rcs"}


@dataclass
class Inbound:
    """A validated end-user message."""

    channel: str
    sender: str  # the end user: a phone number (digits) or, for email, an address
    to: str  # your short/long code, RCS sender, WhatsApp number; "" where none applies
    text: str
    document: dict[str, Any]
    country: str | None = None
    match: KeywordMatch = field(default_factory=lambda: KeywordMatch("generic", None))


def parse(document: dict[str, Any], keyword_mode: str) -> Inbound:
    """Validate ``POST /_emulator/inbound`` for Telesign; :class:`InboundError` names the field."""
    channel = document.get("channel", "sms")
    if channel not in CHANNELS:
        raise InboundError("channel", f"unknown channel {show(channel)} for telesign (one of: "
                           + ", ".join(CHANNELS) + ")")
    found = schemas.problems("telesign/inbound-request", document)
    if found:
        raise InboundError(found[0].field(), found[0].message)
    sender = document["from"]
    country = None
    if channel in PHONE_CHANNELS:
        try:
            parsed = numbers.parse_international(sender)
        except numbers.NotANumber as exc:
            raise InboundError("from", str(exc)) from None
        sender = numbers.digits_of(parsed)
        country = numbers.iso_country_code(parsed)
    to = str(document.get("to", "")).strip()
    if channel in ("sms", "whatsapp"):
        if not to.lstrip("+").isdigit() or not 3 <= len(to.lstrip("+")) <= 15:
            raise InboundError("to", f"{show(to)} is not a short or long code: use 3 to 15 digits")
        to = to.lstrip("+")
    text = document.get("text", "")
    inbound = Inbound(channel, sender, to, text, document, country)
    if text and channel in ("sms", "rcs", "whatsapp"):
        inbound.match = detect(text, KEYWORDS, keyword_mode)
    return inbound


def _status(updated_on: str) -> dict[str, Any]:
    return {"code": MO_STATUS_CODE, "description": MO_STATUS_DESCRIPTION, "updated_on": updated_on}


def _end_user_action(inbound: Inbound) -> dict[str, Any]:
    action: dict[str, Any] = {"action": inbound.match.action,
                              "iso_country_code": inbound.country}
    if inbound.match.keyword is not None:
        action["keyword"] = inbound.match.keyword
    action["text"] = inbound.text
    if "postback_data" in inbound.document:
        action["postback_data"] = inbound.document["postback_data"]
    if "original_reference_id" in inbound.document:
        action["original_reference_id"] = inbound.document["original_reference_id"]
    return action


def build(inbound: Inbound, reference_id: str, timestamp: str, *, price: str | None,
          fakes: FakeData) -> dict[str, Any]:
    """The callback body for ``inbound``."""
    builder = {"sms": _sms, "email": _email, "mms": _mms, "rcs": _rcs, "viber": _viber,
               "whatsapp": _whatsapp}[inbound.channel]
    return builder(inbound, reference_id, timestamp, price=price, fakes=fakes)


def _sms(inbound: Inbound, reference_id: str, ts: str, *, price: str | None,
         fakes: FakeData) -> dict[str, Any]:
    response: dict[str, Any] = {"action": inbound.match.action,
                                "iso_country_code": inbound.country}
    if inbound.match.keyword is not None:
        response["keyword"] = inbound.match.keyword
    response.update(sender_id=inbound.to, phone_number=inbound.sender)
    if price is not None:
        response["price"] = price
    response["mo_message"] = inbound.text
    return {"sub_resource": "mo_sms", "submit_timestamp": ts, "reference_id": reference_id,
            "status": _status(ts), "errors": [], "user_response": response}


def _email(inbound: Inbound, reference_id: str, ts: str, **_: Any) -> dict[str, Any]:
    action = {"template": inbound.document.get("template", "text"),
              "event": inbound.document.get("event", "unsubscribe")}
    return {"reference_id": reference_id, "status": _status(ts), "email": inbound.sender,
            "content": {"end_user_action": action}, "sub_resource": "mo_email"}


def _media_urls(value: Any, kind: str, fakes: FakeData) -> list[str]:
    if isinstance(value, list):
        return value
    return [fakes.media(kind)["url"] for _ in range(int(value or 0))]


def _mms(inbound: Inbound, reference_id: str, ts: str, *, fakes: FakeData,
         **_: Any) -> dict[str, Any]:
    texts = list(inbound.document.get("texts", []))
    if inbound.text:
        texts.insert(0, inbound.text)
    content: dict[str, Any] = {f"text_{n}": text for n, text in enumerate(texts, 1)}
    for key, kind in (("images", "image"), ("videos", "video"), ("audios", "audio")):
        for n, url in enumerate(_media_urls(inbound.document.get(key), kind, fakes), 1):
            content[f"url_{kind}_{n}"] = url
    content["subject"] = inbound.document.get("subject", "")
    return {"content": content, "reference_id": reference_id, "phone_number": inbound.sender,
            "sub_resource": "mo_mms", "status": _status(ts)}


def _location(value: Any, fakes: FakeData) -> dict[str, Any]:
    return fakes.location() if value is True else dict(value)


def _rcs(inbound: Inbound, reference_id: str, ts: str, *, fakes: FakeData,
         **_: Any) -> dict[str, Any]:
    document = inbound.document
    content: dict[str, Any] = {}
    if inbound.match.keyword is not None or "postback_data" in document:
        content["end_user_action"] = _end_user_action(inbound)
    elif inbound.text:
        content["text"] = inbound.text
    if "file" in document:
        given = document["file"]
        if given is True:
            media = fakes.media("image", "rcs-user-content.example.com")
            given = {"name": media["name"], "mime_type": media["mime_type"],
                     "uri": media["url"], "size_bytes": media["size_bytes"]}
        content["file"] = {"payload": given}
    if "location" in document:
        place = _location(document["location"], fakes)
        content["location"] = {"latitude": place["latitude"], "longitude": place["longitude"]}
    return {"rcs_sender_id": inbound.to, "phone_number": inbound.sender, "status": _status(ts),
            "reference_id": reference_id, "content": content, "sub_resource": "mo_rcs"}


def _viber(inbound: Inbound, reference_id: str, ts: str, *, fakes: FakeData,
           **_: Any) -> dict[str, Any]:
    document = inbound.document
    content: dict[str, Any] = {}
    if inbound.text:
        content["text"] = inbound.text
    if "media" in document:
        media = fakes.media("image", "viber-media.example.com")
        content["media"] = media["url"] if document["media"] is True else document["media"]
        content["file_name"] = document.get("file_name", media["name"])
    for key in ("original_reference_id", "tracking_data"):
        if key in document:
            content[key] = document[key]
    return {"content": content, "phone_number": inbound.sender, "status": _status(ts),
            "reference_id": reference_id}


def _whatsapp(inbound: Inbound, reference_id: str, ts: str, *, fakes: FakeData,
              **_: Any) -> dict[str, Any]:
    document = inbound.document
    if inbound.match.keyword is not None or "postback_data" in document:
        content: dict[str, Any] = {"end_user_action": _end_user_action(inbound)}
    else:
        content = {"content": _whatsapp_content(inbound, fakes),
                   "type": _whatsapp_type(document)}
    return {"status": _status(ts), "content": content, "phone_number": inbound.sender,
            "reference_id": reference_id, "waba_phone_number": inbound.to}


def _whatsapp_type(document: dict[str, Any]) -> str:
    if "type" in document:
        return document["type"]
    if "location" in document:
        return "location"
    if "media" in document:
        return "image"
    return "text"


def _whatsapp_content(inbound: Inbound, fakes: FakeData) -> dict[str, Any]:
    document = inbound.document
    kind = _whatsapp_type(document)
    content: dict[str, Any] = {}
    if kind == "location":
        content.update(_location(document.get("location", True), fakes))
    elif kind in ("image", "audio", "video", "document", "sticker"):
        media = fakes.media(kind, "whatsapp-media.example.com")
        url = document.get("media")
        content.update(url=url if isinstance(url, str) else media["url"],
                       mime_type=media["mime_type"], sha256=media["sha256"])
        if kind == "document":
            content["filename"] = document.get("file_name", media["name"])
        if kind == "audio":
            content["voice"] = bool(document.get("voice", False))
        if kind == "sticker":
            content["animated"] = bool(document.get("animated", False))
    if inbound.text:
        content["body"] = inbound.text
    return content
