"""Three small webhook handlers of a system under test, for the fuzzer's tests. Telesign's
webhooks go to ``/telesign/...``, TSG Global's to ``/tsg/...``.

- :func:`correct_handler`: checks Telesign's two signature headers with the official SDK's
  helper and TSG's ``x-api-key``, reads every kind defensively, is idempotent, answers 200;
- :func:`crashing_handler`: the same, with one bug in ``mo_sms``: it assumes an ASCII message
  (``non_ascii``) or an optional field that is sometimes absent (``missing_price``);
- :func:`trusting_handler`: correct, but never checks a signature or key.

They are written the way integrators write them, independently of the emulator's own code.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web
from telesign.util import verify_telesign_callback_signature

Check = Callable[[web.Request, bytes], bool]


@dataclass
class Store:
    """What a handler keeps: final statuses by reference id, inbound texts, every body seen."""

    statuses: dict[str, int] = field(default_factory=dict)
    inbound: dict[str, str] = field(default_factory=dict)
    opted_out: set[str] = field(default_factory=set)
    bodies: list[bytes] = field(default_factory=list)


def signature_check(customer_id: str, api_key: str) -> Check:
    def check(request: web.Request, body: bytes) -> bool:
        signature = request.headers.get("X-TS-Authorization", "")
        if request.headers.get("Authorization") != f"TSA {customer_id}:{signature}":
            return False
        return verify_telesign_callback_signature(api_key, signature,
                                                  body.decode("utf-8", "replace"))
    return check


def api_key_check(key: str) -> Check:
    def check(request: web.Request, body: bytes) -> bool:
        return hmac.compare_digest(request.headers.get("x-api-key", "").encode(), key.encode())
    return check


def _text_of(payload: dict[str, Any]) -> str:
    content = payload.get("content") or {}
    action = content.get("end_user_action") or {}
    inner = content.get("content") or {}
    user = payload.get("user_response") or {}
    for candidate in (user.get("mo_message"), content.get("text"), action.get("text"),
                      inner.get("body"), content.get("text_1")):
        if isinstance(candidate, str):
            return candidate
    return ""


def _handle_tsg(store: Store, payload: dict[str, Any]) -> None:
    if payload.get("object") == "sms_dlr":
        message_id = str((payload.get("sms") or {}).get("id", ""))
        if store.statuses.get(message_id) in (None, "accepted", "enroute"):
            store.statuses[message_id] = payload["delivery_status"]
    else:
        store.inbound[str(payload.get("id", ""))] = str(payload.get("body", ""))


def _handle(store: Store, payload: dict[str, Any], bug: str | None) -> None:
    reference_id = str(payload.get("reference_id", ""))
    if payload.get("sub_resource") == "sms":  # a delivery report
        code = payload["status"]["code"]
        if store.statuses.get(reference_id) not in (None, 203, 290, 291, 292, 295):
            return  # already final: a late intermediate status changes nothing
        store.statuses[reference_id] = code
        return
    user = payload.get("user_response")
    if isinstance(user, dict):  # mo_sms
        text = user["mo_message"]
        if bug == "non_ascii":
            text.encode("ascii")  # the bug: the message is assumed to be ASCII
        if bug == "missing_price":
            Decimal(user["price"])  # the bug: price is optional
        if user.get("action") == "stop":
            store.opted_out.add(user["phone_number"])
        store.inbound[reference_id] = text
        return
    store.inbound[reference_id] = _text_of(payload)


def make_handler(telesign: Check | None, tsg: Check | None, bug: str | None = None,
                 ) -> tuple[web.Application, Store]:
    store = Store()

    def endpoint(check: Check | None, handle_payload: Callable[[dict[str, Any]], None]):
        async def handle(request: web.Request) -> web.Response:
            body = await request.read()
            store.bodies.append(body)
            if check is not None and not check(request, body):
                return web.json_response({"error": "bad signature"}, status=401)
            try:
                payload = json.loads(body)
            except ValueError:
                return web.json_response({"error": "not JSON"}, status=400)
            if not isinstance(payload, dict):
                return web.json_response({"error": "not an object"}, status=400)
            handle_payload(payload)
            return web.Response(text="OK")
        return handle

    app = web.Application()
    app.router.add_post("/telesign/{tail:.*}",
                        endpoint(telesign, lambda payload: _handle(store, payload, bug)))
    app.router.add_post("/tsg/{tail:.*}", endpoint(tsg, lambda payload: _handle_tsg(store,
                                                                                  payload)))
    return app, store


TSG_KEY = "tsg-webhook-secret"


def correct_handler(customer_id: str, api_key: str,
                    tsg_key: str = TSG_KEY) -> tuple[web.Application, Store]:
    return make_handler(signature_check(customer_id, api_key), api_key_check(tsg_key))


def crashing_handler(customer_id: str, api_key: str,
                     bug: str) -> tuple[web.Application, Store]:
    return make_handler(signature_check(customer_id, api_key), api_key_check(TSG_KEY), bug)


def trusting_handler() -> tuple[web.Application, Store]:
    return make_handler(None, None)

