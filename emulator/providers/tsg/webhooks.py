"""Sends TSG webhooks (``sms`` and ``sms_dlr`` objects) to a number's webhook URL.

Per number, from ``tsg.numbers`` (which ``POST /v1/sms/webhook`` also writes): ``webhook_url``
and ``x_api_key``, sent as the ``x-api-key`` header (read at each attempt, so a change applies
to the next retry). A number that is not configured, has no URL (SMPP) or a ``webhook_type``
other than ``postv2`` gets no webhook; the journal records ``webhook_skipped`` and why.

Redelivery, as documented: anything but HTTP 200 (another status, a refused connection, a
timeout) is retried "up to 17 times over 2-3 days (with exponential backoff)". The emulator waits
1 minute after the first failure and doubles the wait each time up to 7 hours, so the 18th and
last attempt comes 2 days 16 h 31 min (232,260 s) after the first; then the delivery is
``exhausted``.
"""

from __future__ import annotations

import json
from typing import Any

from emulator import __version__
from emulator.core.context import Context
from emulator.core.dispatcher import Delivery, ResponseHook, RetryPolicy

REDELIVERIES = 17
FIRST_DELAY = 60.0
MAX_DELAY = 7 * 3600.0
RETRY_DELAYS = tuple(min(FIRST_DELAY * 2**i, MAX_DELAY) for i in range(REDELIVERIES))
POLICY = RetryPolicy("tsg", RETRY_DELAYS)


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def skip_reason(number: dict[str, Any] | None, did: str) -> str | None:
    if number is None:
        return f"number {did} is not configured (tsg.numbers or POST /v1/sms/webhook)"
    webhook_type = number.get("webhook_type", "postv2")
    if webhook_type != "postv2":
        return f"number {did} has webhook_type {webhook_type}; only postv2 is emulated"
    if not number["webhook_url"]:
        return f"number {did} has no webhook_url (it is set up for SMPP)"
    return None


def webhook_headers(x_api_key: str | None) -> dict[str, str]:
    """The headers of a TSG webhook: ``x-api-key`` only when the number has one."""
    found = {"Content-Type": "application/json",
             "User-Agent": f"sms-emulator/{__version__} (TSG Global webhook)"}
    if x_api_key:
        found["x-api-key"] = x_api_key
    return found


def send(ctx: Context, *, kind: str, did: str, payload: dict[str, Any], message_id: str,
         on_response: ResponseHook | None = None, cause: str | None = None) -> Delivery | None:
    """Queue ``payload`` for ``did``'s webhook; ``None`` (and a journal entry) if it has none."""
    number = ctx.config.section("tsg")["numbers"].get(did)
    reason = skip_reason(number, did)
    if reason is not None or number is None:
        ctx.journal.record("webhook_skipped", "tsg", message_id=message_id, webhook=kind,
                           cause=cause, reason=reason)
        return None

    def headers(body: bytes, at: float) -> dict[str, str]:
        current = ctx.config.section("tsg")["numbers"].get(did) or {}
        return webhook_headers(current.get("x_api_key"))

    return ctx.dispatcher.submit(provider="tsg", kind=kind, url=number["webhook_url"],
                                 body=encode(payload), policy=POLICY, headers=headers,
                                 message_id=message_id, on_response=on_response, cause=cause)
