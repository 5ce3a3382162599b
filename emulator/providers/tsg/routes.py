"""HTTP handlers of TSG Global's APIs: ``POST /messages`` and ``GET /messages/{id}`` (the SMS
API, ``sms.tsgglobal.world``) and ``POST /v1/sms/webhook`` (number configuration,
``api-service.tsgglobal.world``). Point both base URLs at the emulator.

Every answer is JSON with an ``X-Request-Id`` header, as TSG documents; every request needs
``Authorization: Bearer <api_key>``. The send answer is HTTP 200 (the document shows no status).
The message ids of an answer, and an error's id and reason, go on the journal's ``api_call``
entry (:func:`~emulator.providers.base.annotate`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from emulator.config import ConfigError
from emulator.providers.base import annotate
from emulator.providers.tsg import errors, payloads, validation
from emulator.providers.tsg.auth import check_bearer
from emulator.providers.tsg.errors import TsgError

if TYPE_CHECKING:
    from emulator.providers.tsg.provider import TsgProvider


def build_routes(provider: TsgProvider) -> list[web.AbstractRouteDef]:
    ctx = provider.ctx

    def answer(body: dict[str, Any]) -> web.Response:
        return web.Response(text=json.dumps(body), content_type="application/json",
                            headers={"X-Request-Id": provider.request_id()})

    def fail(error: TsgError, request: web.Request) -> web.Response:
        ctx.journal.record("request_rejected", provider.name, method=request.method,
                           path=request.path, status=error.status, id=error.id,
                           message=error.message)
        return errors.response(error, provider.request_id())

    async def send_messages(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            check_bearer(request, provider.section["api_key"])
            document = validation.parse_json(raw)
            send = validation.validate_send(document, ctx.clock.now(), provider.table)
        except TsgError as error:
            return fail(error, request)
        messages = provider.send(send)
        return annotate(answer(payloads.send_response(messages, provider.style)),
                        message_ids=tuple(m.id for m in messages))

    async def get_message(request: web.Request) -> web.Response:
        try:
            check_bearer(request, provider.section["api_key"])
            message, part = provider.find(request.match_info["id"])
        except TsgError as error:
            return fail(error, request)
        return annotate(answer(payloads.message_object(message, provider.style, part)),
                        message_ids=(message.id,))

    async def number_webhook(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            check_bearer(request, provider.section["api_key"])
            setting = validation.validate_number_webhook(validation.parse_json(raw))
            try:
                number = provider.configure_number(setting)
            except ConfigError as exc:  # the schemas agree, so this is a safety net
                raise errors.invalid("webhook_url", exc.summary(280)) from None
        except TsgError as error:
            return fail(error, request)
        return answer(payloads.number_webhook(setting.did, number))

    return [
        web.post("/messages", send_messages),
        web.get("/messages/{id}", get_message),
        web.post("/v1/sms/webhook", number_webhook),
    ]
