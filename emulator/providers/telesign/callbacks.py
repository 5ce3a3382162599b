"""Signs and queues Telesign callbacks with Telesign's retry policy.

Documented policy: only HTTP 200 counts; after a failed attempt wait 10 s and retry, after a
second failure wait 30 s and make the final attempt (three tries). ``telesign.callbacks.success:
2xx`` also accepts 201-299, for handlers that answer 204.

Headers: ``Authorization: TSA {customer_id}:{signature}`` and ``X-TS-Authorization: {signature}``
(the bare signature, which Telesign's webhook sample and the SDK's
``verify_telesign_callback_signature`` compare against); ``telesign.callbacks.x_ts_authorization:
tsa`` sends the full ``TSA cid:sig`` form in both. The signature is base64 HMAC-SHA256 of the body
keyed by the base64-decoded api key.

``Date`` is the wall-clock time the attempt is made, not the emulated time: a receiver may check
it against its own clock, as the emulator checks the Dates it receives, and on a manual clock
the emulated time can be months away. The payload's timestamps stay emulated.
"""

from __future__ import annotations

import json
import time
from typing import Any

from emulator import __version__
from emulator.core.context import Context
from emulator.core.dispatcher import Delivery, RetryPolicy
from emulator.core.timefmt import rfc1123
from emulator.providers.telesign.signing import callback_signature

RETRY_DELAYS = (10.0, 30.0)
POLICY_200 = RetryPolicy("telesign", RETRY_DELAYS)
POLICY_2XX = RetryPolicy("telesign-2xx", RETRY_DELAYS, success=lambda status: 200 <= status < 300)


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(", ", ": ")).encode("utf-8")


def signed_headers(*, customer_id: str, api_key: str, body: bytes, at: float,
                   x_ts_authorization: str = "signature") -> dict[str, str]:
    """The headers of a callback carrying ``body``, with ``Date`` at Unix time ``at``."""
    signature = callback_signature(api_key, body)
    tsa = f"TSA {customer_id}:{signature}"
    return {
        "Content-Type": "application/json",
        "Authorization": tsa,
        "X-TS-Authorization": tsa if x_ts_authorization == "tsa" else signature,
        "Date": rfc1123(at),
        "User-Agent": f"sms-emulator/{__version__} (Telesign callback)",
    }


def send(ctx: Context, *, kind: str, url: str, payload: dict[str, Any],
         message_id: str | None, cause: str | None = None) -> Delivery:
    section = ctx.config.section("telesign")
    policy = POLICY_2XX if section["callbacks"]["success"] == "2xx" else POLICY_200

    def headers(body: bytes, _emulated: float) -> dict[str, str]:
        current = ctx.config.section("telesign")
        return signed_headers(customer_id=current["customer_id"], api_key=current["api_key"],
                              body=body, at=time.time(),
                              x_ts_authorization=current["callbacks"]["x_ts_authorization"])

    return ctx.dispatcher.submit(provider="telesign", kind=kind, url=url, body=encode(payload),
                                 policy=policy, headers=headers, message_id=message_id,
                                 cause=cause)
