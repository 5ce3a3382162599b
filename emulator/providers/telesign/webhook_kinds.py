"""The webhooks Telesign sends, described for the fuzzer (see :mod:`emulator.providers.webhooks`).

Seven kinds: the SMS delivery report and the inbound (MO) callbacks of every Messaging channel.
All are signed alike (fact sheet §3.4): ``Authorization: TSA customer_id:signature`` and
``X-TS-Authorization: signature``, the signature being base64 HMAC-SHA256 of the body keyed by
the base64-decoded api key; :func:`callbacks.signed_headers` builds them for the emulator and
for the fuzzer alike.

Forged variants (a correct handler refuses each): no signature headers; malformed ones; a
genuine signature of another body (replayed onto this one); a signature made with another key.
The signature covers the body only (no date, no nonce), so a byte-identical duplicate is not a
forgery: it is what a Telesign retry looks like, and a handler must accept it.

Bias values: every status code of the status table plus the other codes the documents list for
delivery reports (§5); the stop/help/start keywords (§4.1); timestamps as RFC 3339 with
microseconds, RFC 3339 whole seconds and RFC 1123 (§3.2).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from emulator.core.timefmt import iso_micro_z, rfc1123
from emulator.providers.telesign import callbacks, signing, statuses
from emulator.providers.telesign.inbound import KEYWORDS, MO_STATUS_DESCRIPTION
from emulator.providers.webhooks import Bias, Credential, Credentials, ForgeryFn, WebhookKind
from emulator.sms.keywords import detect

#: codes the documents list for delivery reports beyond the emulator's lifecycle table (§5)
OTHER_DOCUMENTED_CODES: dict[int, str] = {
    229: "Message blocked by your request",
    233: "Message blocked due to high risk score.",
    251: "Message successfully sent out for delivery, however final confirmation of delivery "
         "to handset was not received",
    501: "Not authorized",
    517: "DLT not supported",
    518: "High SIM-swap risk",
    519: "SIM-swap check failed",
    520: "Content sent is not allowed",
    521: "Requested Sender ID is not allowed for destination",
    10000: "System Unavailable",
    10030: "Insufficient funds in prepaid wallet",
    10031: "Message blocked by customer request",
    10032: "Message blocked by Telesign",
    11000: "Invalid value for parameter phone_number",
}
DESCRIPTIONS: dict[int, str] = {code: s.description for code, s in statuses.STATUSES.items()}
DESCRIPTIONS.update(OTHER_DOCUMENTED_CODES)
FINAL_CODES = frozenset(code for code in DESCRIPTIONS
                        if code not in statuses.STATUSES or statuses.STATUSES[code].final)

COUNTRIES = ("US", "CA", "GB", "FR", "DE", "RS", "IN", "BR", "MX", "IL", "SA", "JP", "CN", "NG")
MO_DESCRIPTIONS = (MO_STATUS_DESCRIPTION, "Delivered")  # the MsgStatus example / §4.2 text
URL = r"https://[a-z]{3,10}(-[a-z]{2,4})?\.example\.com/[a-z0-9]{1,12}/[0-9A-F]{32}(\?Expires=[0-9]{10})?"
EMAIL = r"[a-z0-9][a-z0-9._+-]{0,15}@[a-z0-9-]{1,12}\.(com|net|org)"
MIME_TYPES = ("image/jpeg", "image/png", "image/gif", "video/mp4", "audio/ogg", "audio/mpeg",
              "application/pdf")
#: an end user's number: E.164 digits, which never start with 0 (the schema allows it)
PHONE = {"phone_number": r"[1-9][0-9]{6,14}", "user_response.phone_number": r"[1-9][0-9]{6,14}"}
LATITUDE, LONGITUDE = (-90.0, 90.0), (-180.0, 180.0)


def _iso_seconds(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


TIMESTAMP_FORMATS = (iso_micro_z, _iso_seconds, rfc1123)


# -- signing and forgeries -----------------------------------------------------------------

def _headers(body: bytes, creds: Credentials, at: float) -> dict[str, str]:
    return callbacks.signed_headers(customer_id=creds["customer_id"], api_key=creds["api_key"],
                                    body=body, at=at)


def _unsigned(body: bytes, creds: Credentials, at: float, other: bytes) -> dict[str, str]:
    headers = _headers(body, creds, at)
    del headers["Authorization"], headers["X-TS-Authorization"]
    return headers


def _malformed(body: bytes, creds: Credentials, at: float, other: bytes) -> dict[str, str]:
    headers = _headers(body, creds, at)
    headers["Authorization"] = f"TSA {creds['customer_id']}"  # no ':signature' part
    headers["X-TS-Authorization"] = "not a signature"
    return headers


def _replayed(body: bytes, creds: Credentials, at: float, other: bytes) -> dict[str, str]:
    # a genuine signature, but of another body: what an attacker who captured one callback has
    stale = _headers(other, creds, at)
    headers = _headers(body, creds, at)
    headers["Authorization"] = stale["Authorization"]
    headers["X-TS-Authorization"] = stale["X-TS-Authorization"]
    return headers


def _wrong_key(body: bytes, creds: Credentials, at: float, other: bytes) -> dict[str, str]:
    # well formed, right customer id, but keyed by a key that is not the account's
    forged_key = hashlib.sha256(b"forged:" + signing.decode_api_key(creds["api_key"])).digest()
    fake = dict(creds, api_key=base64.b64encode(forged_key).decode("ascii"))
    return _headers(body, fake, at)


FORGERIES: dict[str, ForgeryFn] = {
    "missing_signature": _unsigned,
    "malformed_signature": _malformed,
    "stale_signature": _replayed,
    "forged_signature": _wrong_key,
}


def _check_api_key(value: str) -> str | None:
    return None if signing.is_base64_key(value) else "must be base64 (the HMAC key is decoded)"


def _check_customer_id(value: str) -> str | None:
    if not value or any(c.isspace() or c == ":" for c in value):
        return "must be non-empty, without spaces or ':'"
    return None


# -- cross-field rules ---------------------------------------------------------------------

def _describe_status(payload: dict[str, Any]) -> dict[str, Any]:
    status = payload["status"]
    status["description"] = DESCRIPTIONS.get(status["code"], status["description"])
    return payload


def _out_of_order(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The final report first, then the intermediate 203 for the same message."""
    final = _describe_status(dict(payload, status=dict(payload["status"])))
    if final["status"]["code"] not in FINAL_CODES:
        final["status"].update(code=200, description=DESCRIPTIONS[200])
    earlier = final["status"]["updated_on"]
    if "submit_timestamp" in final:
        earlier = final["submit_timestamp"]
    intermediate = dict(final, status={**final["status"], "code": 203,
                                       "description": DESCRIPTIONS[203], "updated_on": earlier})
    return [final, intermediate]


def _keyword_action(text: str | None, drawn_action: str) -> tuple[str, str | None]:
    """The action and keyword Telesign reports for ``text`` (exact match, the default), in the
    letter case of the drawn action (the schemas allow ``stop`` and ``STOP``)."""
    match = detect(text or "", KEYWORDS)
    action = match.action.upper() if drawn_action.isupper() else match.action
    return action, match.keyword


def _mo_sms(payload: dict[str, Any]) -> dict[str, Any]:
    response = payload["user_response"]
    action, keyword = _keyword_action(response["mo_message"], response["action"])
    response["action"] = action
    response.pop("keyword", None)
    if keyword is not None:
        response["keyword"] = keyword
    return payload


def _end_user_action(action: dict[str, Any]) -> None:
    found, keyword = _keyword_action(action.get("text"), action["action"])
    action["action"] = found
    action.pop("keyword", None)
    if keyword is not None:
        action["keyword"] = keyword


def _mo_rcs(payload: dict[str, Any]) -> dict[str, Any]:
    if "end_user_action" in payload["content"]:
        _end_user_action(payload["content"]["end_user_action"])
    return payload


def _mo_mms(payload: dict[str, Any]) -> dict[str, Any]:
    # numbered parts run 1, 2, 3 ... as Telesign numbers them
    content = payload["content"]
    renamed: dict[str, Any] = {}
    for prefix in ("text_", "url_image_", "url_video_", "url_audio_"):
        parts = [content[key] for key in content
                 if key.startswith(prefix) and key[len(prefix):].isdigit()]
        renamed.update({f"{prefix}{n}": value for n, value in enumerate(parts, 1)})
    if "subject" in content:
        renamed["subject"] = content["subject"]
    payload["content"] = renamed
    return payload


def _mo_viber(payload: dict[str, Any]) -> dict[str, Any]:
    payload.pop("sub_resource", None)  # the document's example has none; nor has the emulator
    if "media" not in payload["content"]:
        payload["content"].pop("file_name", None)
    return payload


WHATSAPP_MEDIA = {"image": (), "video": (), "audio": ("voice",), "sticker": ("animated",),
                  "document": ("filename",)}


def _mo_whatsapp(payload: dict[str, Any]) -> dict[str, Any]:
    payload.pop("sub_resource", None)
    content = payload["content"]
    if "end_user_action" in content:
        _end_user_action(content["end_user_action"])
        return payload
    fields, kind = content["content"], content["type"]
    if kind in WHATSAPP_MEDIA and "url" in fields:
        keep = {"url", "mime_type", "sha256", "body", *WHATSAPP_MEDIA[kind]}
    elif "latitude" in fields and "longitude" in fields:
        kind, keep = "location", {"latitude", "longitude", "name", "address"}
    elif kind == "unsupported":
        keep = set()
    else:
        kind, keep = "text", {"body"}
        fields.setdefault("body", "")
    content["type"] = kind
    content["content"] = {key: value for key, value in fields.items() if key in keep}
    return payload


# -- the kinds -----------------------------------------------------------------------------

MO_TIMES = ("status.updated_on",)
MO_STATUS = {"status.description": MO_DESCRIPTIONS}
EUA = "content.end_user_action"
END_USER_ACTION: Mapping[str, tuple[Any, ...]] = {
    f"{EUA}.iso_country_code": (*COUNTRIES, None),
}
EUA_PATTERNS = {f"{EUA}.original_reference_id": r"[0-9A-F]{32}",
                f"{EUA}.postback_data": r"[a-z_]{1,12}(:[a-z0-9]{1,8})?"}


def kinds(customer_id: str, api_key: str) -> tuple[WebhookKind, ...]:
    """Telesign's webhook kinds; the defaults are the emulator's default credentials."""
    credentials = (
        Credential("customer_id", customer_id, "the customer id in Authorization: TSA id:sig",
                   _check_customer_id),
        Credential("api_key", api_key, "the base64 api key the handler verifies signatures with",
                   _check_api_key),
    )

    def kind(short: str, schema: str, summary: str, bias: Bias,
             finish: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
             out_of_order: Callable[[dict[str, Any]], list[dict[str, Any]]] | None = None,
             ) -> WebhookKind:
        return WebhookKind(name=f"telesign.{short}", provider="telesign",
                           schema=f"telesign/{schema}", summary=summary,
                           credentials=credentials, headers=_headers, forgeries=FORGERIES,
                           encode=callbacks.encode,
                           bias=dataclasses.replace(bias, patterns={**PHONE, **bias.patterns}),
                           finish=finish,
                           out_of_order=out_of_order)

    keywords = tuple(word for words in KEYWORDS.values() for word in words)
    return (
        kind("delivery_report", "delivery-callback", "SMS delivery report (sub_resource sms)",
             Bias(timestamps=("submit_timestamp", "status.updated_on"),
                  timestamp_formats=TIMESTAMP_FORMATS,
                  choices={"status.code": tuple(DESCRIPTIONS),
                           "errors": ([], [{"code": -90001,
                                            "description": "Transaction not attempted"}]),
                           "additional_info.currency": ("USD", "EUR", "GBP"),
                           "additional_info.message_parts_count": (1, 2, 3, "2")},
                  patterns={"additional_info.mcc": r"[0-9]{3}",
                            "additional_info.mnc": r"[0-9]{2,3}",
                            "additional_info.price": r"0\.[0-9]{2,4}",
                            "additional_info.message_parts_reference_ids":
                                r"[0-9A-F]{32}(,[0-9A-F]{32}){0,2}",
                            "additional_info.sender_id": r"[0-9]{3,15}|[A-Za-z][A-Za-z0-9]{0,10}",
                            "additional_info.cleansed_phone_number": r"[1-9][0-9]{6,14}"}),
             _describe_status, _out_of_order),
        kind("mo_sms", "mo-sms", "inbound SMS (sub_resource mo_sms) with keyword actions",
             Bias(texts=("user_response.mo_message",), keywords=keywords,
                  timestamps=("submit_timestamp", "status.updated_on"),
                  timestamp_formats=TIMESTAMP_FORMATS,
                  choices={**MO_STATUS, "errors": ([], {}),
                           "user_response.iso_country_code": COUNTRIES},
                  patterns={"user_response.sender_id": r"[0-9]{3,15}",
                            "user_response.price": r"0\.[0-9]{2,4}"}),
             _mo_sms),
        kind("mo_email", "mo-email", "Messaging inbound email (mo_email)",
             Bias(timestamps=MO_TIMES, timestamp_formats=TIMESTAMP_FORMATS,
                  choices={**MO_STATUS, "content.end_user_action.template": ("text", "html")},
                  patterns={"email": EMAIL})),
        kind("mo_mms", "mo-mms", "Messaging inbound MMS (mo_mms)",
             Bias(texts=("content.text_*", "content.subject"), keywords=keywords,
                  timestamps=MO_TIMES, timestamp_formats=TIMESTAMP_FORMATS,
                  choices=MO_STATUS, patterns={"content.url_*": URL}),
             _mo_mms),
        kind("mo_rcs", "mo-rcs", "Messaging inbound RCS (mo_rcs)",
             Bias(texts=("content.text", f"{EUA}.text"), keywords=keywords,
                  timestamps=MO_TIMES, timestamp_formats=TIMESTAMP_FORMATS,
                  choices={**MO_STATUS, **END_USER_ACTION,
                           "content.file.payload.mime_type": MIME_TYPES},
                  patterns={**EUA_PATTERNS, "rcs_sender_id": r"([a-z][a-z0-9_]{0,23})?",
                            "content.file.payload.name": r"[a-z0-9_-]{1,16}\.(jpg|png|pdf|mp4)",
                            "content.file.payload.uri": URL},
                  ranges={"content.location.latitude": LATITUDE,
                          "content.location.longitude": LONGITUDE,
                          "content.file.payload.size_bytes": (0, 100_000_000)},
                  exclusive={"content": ("text", "end_user_action", "file", "location")}),
             _mo_rcs),
        kind("mo_viber", "mo-viber", "Messaging inbound Viber",
             Bias(texts=("content.text",), keywords=keywords,
                  timestamps=MO_TIMES, timestamp_formats=TIMESTAMP_FORMATS, choices=MO_STATUS,
                  patterns={"content.media": URL,
                            "content.file_name": r"[a-z0-9_-]{1,16}\.(jpg|png|pdf|mp4)",
                            "content.original_reference_id": r"[0-9A-F]{32}",
                            "content.tracking_data": r"[A-Za-z0-9_=-]{0,24}"}),
             _mo_viber),
        kind("mo_whatsapp", "mo-whatsapp", "Messaging inbound WhatsApp",
             Bias(texts=("content.content.body", f"{EUA}.text"), keywords=keywords,
                  timestamps=MO_TIMES, timestamp_formats=TIMESTAMP_FORMATS,
                  choices={**MO_STATUS, **END_USER_ACTION,
                           "content.content.mime_type": MIME_TYPES},
                  patterns={**EUA_PATTERNS, "waba_phone_number": r"[1-9][0-9]{6,14}",
                            "content.content.url": URL,
                            "content.content.sha256": r"[0-9a-f]{64}",
                            "content.content.filename": r"[a-z0-9_-]{1,16}\.(pdf|docx|txt)",
                            "content.content.name": r"[A-Z][a-z]{2,12}( [A-Z][a-z]{2,12})?",
                            "content.content.address": r"[0-9]{1,4} [A-Z][a-z]{3,10} St"},
                  ranges={"content.content.latitude": LATITUDE,
                          "content.content.longitude": LONGITUDE}),
             _mo_whatsapp),
    )
