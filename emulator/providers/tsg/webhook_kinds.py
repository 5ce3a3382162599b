"""The webhooks TSG Global sends, described for the fuzzer (see
:mod:`emulator.providers.webhooks`): ``sms`` (an end user's message to your number) and
``sms_dlr`` (a delivery receipt), both POSTed as JSON to the number's webhook (fact sheet
§1.5-1.7).

TSG signs nothing. When the number has an ``x_api_key_header`` configured, every webhook carries
it as ``x-api-key``; that is the only thing a handler can check, so the forgeries are a missing,
empty or wrong ``x-api-key``, and without a key (the default) there is nothing to forge.

Formed as TSG forms them: an inbound ``sms`` is a Message object with status ``new``, no receipt
asked, null schedule times, its encoding chosen from its text (Latin-1 when it fits, else UCS-2)
and, when the text is long, UDH ``udh`` and ``parts``, cut by TSG's segment table; timestamps are
UTC without a zone (``2022-04-06T21:49:29.926166``), receipt times to the minute or, as one
example shows, the second. Keywords: TSG acts on none itself; the list is the US carriers'
standard opt-out, help and opt-in words a handler is expected to honour.
"""

from __future__ import annotations

import uuid
from typing import Any

from emulator.core.timefmt import iso_naive_micro, iso_naive_seconds
from emulator.providers.tsg import statuses
from emulator.providers.tsg.webhooks import encode, webhook_headers
from emulator.providers.webhooks import Bias, Credential, Credentials, ForgeryFn, WebhookKind
from emulator.sms.encoding import Unencodable, choose
from emulator.sms.segmentation import TABLES, TooManyParts, split

KEYWORDS = ("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "help", "info", "start",
            "unstop")
DID = r"1[2-9][0-9]{2}[2-9][0-9]{6}"  # a North American number, 11 digits without +
END_USER = r"[1-9][0-9]{9,14}"
#: 000, or an upstream code in TSG's three-character hex form (0x3EC, 0x456, 0x004 ...)
ERROR_CODE = r"000|00[1-4]|0[0-9A-F]{2}|3E[C-F]|4[4-9A-C][0-9A-F]"
#: names TSG's examples use for its uuids; the fuzzer derives part and receipt ids from them
_IDS = uuid.UUID("5f0e8d7a-6c0b-4b8e-9d51-7f1f3c2a9e10")


def headers(body: bytes, creds: Credentials, at: float) -> dict[str, str]:
    """The headers the emulator sends (:func:`webhooks.webhook_headers`)."""
    return webhook_headers(creds.get("x_api_key"))


def _without_key(body: bytes, creds: Credentials, at: float, other: bytes) -> dict[str, str]:
    return headers(body, {}, at)


def _empty_key(body: bytes, creds: Credentials, at: float, other: bytes) -> dict[str, str]:
    return {**headers(body, {}, at), "x-api-key": ""}


def _wrong_key(body: bytes, creds: Credentials, at: float, other: bytes) -> dict[str, str]:
    key = creds["x_api_key"]
    return headers(body, {"x_api_key": key[::-1] if key[::-1] != key else key + "x"}, at)


FORGERIES: dict[str, ForgeryFn] = {
    "missing_api_key": _without_key,
    "empty_api_key": _empty_key,
    "wrong_api_key": _wrong_key,
}


def _check_key(value: str) -> str | None:
    if any(ord(c) < 0x20 or ord(c) == 0x7F or ord(c) > 0x7E for c in value):
        return "must be printable ASCII (it is sent as the x-api-key header)"
    return None


def _derived_id(*parts: object) -> str:
    return str(uuid.uuid5(_IDS, "/".join(map(str, parts))))


def _fit(text: str) -> tuple[str, Any]:
    """``text`` cut down until TSG's segment table can send it, and its segmentation."""
    while True:
        try:
            return text, split(text, choose(text), TABLES["tsg"])
        except TooManyParts:
            text = text[: len(text) * 3 // 4]


def _sms(payload: dict[str, Any]) -> dict[str, Any]:
    try:
        payload["body"], segmented = _fit(payload["body"])
    except Unencodable:  # a lone surrogate: not something TSG could have received
        return payload
    payload["encoding"] = segmented.encoding
    if segmented.multipart:
        drawn = payload.get("udh", {}).get("ref_num")
        payload["udh"] = {"ref_num": drawn if isinstance(drawn, int) else 0,
                          "count": segmented.count, "seq_num": None}
        payload["parts"] = [{"id": _derived_id(payload["id"], n)}
                            for n in range(1, segmented.count + 1)]
    else:
        payload.pop("parts", None)
        if "udh" in payload:  # all nulls, as the webhook example; absent in the compact style
            payload["udh"] = {"ref_num": None, "count": None, "seq_num": None}
    return payload


def _dlr(payload: dict[str, Any]) -> dict[str, Any]:
    status = payload["delivery_status"]
    if status not in statuses.ERROR:
        payload["delivery_error_code"] = "000"
    elif payload["delivery_error_code"] == "000":
        payload["delivery_error_code"] = statuses.ERROR_CODES[status]
    payload["updated_at"] = payload["inserted_at"]
    return payload


def _dlr_out_of_order(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The final receipt, then an ``enroute`` one for the same message, stamped earlier."""
    final = dict(payload)
    if final["delivery_status"] not in statuses.FINAL:
        final.update(delivery_status="delivered", delivery_error_code="000")
    earlier = dict(final, id=_derived_id(final["id"], "enroute"), delivery_status="enroute",
                   delivery_error_code="000", done_at=final["submitted_at"])
    return [final, earlier]


def _minutes(ts: float) -> str:
    return iso_naive_seconds(ts, minute=True)


def kinds() -> tuple[WebhookKind, ...]:
    credentials = (Credential("x_api_key", "", "the number's x_api_key_header, sent as x-api-key "
                              "(default: none, so TSG sends no key)", _check_key),)

    def kind(short: str, schema: str, summary: str, bias: Bias, finish: Any,
             out_of_order: Any = None) -> WebhookKind:
        return WebhookKind(name=f"tsg.{short}", provider="tsg", schema=f"tsg/{schema}",
                           summary=summary, credentials=credentials, headers=headers,
                           forgeries=FORGERIES, encode=encode, bias=bias, finish=finish,
                           out_of_order=out_of_order,
                           authenticated=lambda creds: bool(creds.get("x_api_key")))

    return (
        kind("sms", "sms-webhook", "inbound message (object sms), UDH parts when long",
             Bias(texts=("body",), keywords=KEYWORDS,
                  timestamps=("inserted_at", "updated_at"), timestamp_formats=(iso_naive_micro,),
                  choices={"status": ("new",), "delivery_receipt": ("no", 0),
                           "location": (None,), "scheduled_at": (None,),
                           "processed_at": (None,), "delivered_at": (None,),
                           "expires_at": (None,)},
                  patterns={"from": END_USER, "to": DID}),
             _sms),
        kind("sms_dlr", "sms-dlr", "delivery receipt (object sms_dlr)",
             Bias(timestamps=("submitted_at", "done_at", "inserted_at", "updated_at"),
                  timestamp_formats=(iso_naive_micro,),
                  choices={"delivery_status": statuses.DELIVERY_STATUSES},
                  timestamp_field_formats={"submitted_at": (_minutes, iso_naive_seconds),
                                           "done_at": (_minutes, iso_naive_seconds)},
                  patterns={"from": DID, "to": END_USER, "delivery_error_code": ERROR_CODE}),
             _dlr, _dlr_out_of_order),
    )
