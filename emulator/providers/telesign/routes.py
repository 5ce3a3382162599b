"""HTTP handlers of Telesign's Standard Messaging API: ``POST /v1/messaging`` and
``GET /v1/messaging/{reference_id}``.

Every answer is JSON with ``Allow: GET,POST``, as the document shows, errors included: the SDK
never raises, so users read the body.

Each answer carries its status code, the reference id and, for an error, which check failed to
the journal's ``api_call`` entry (:func:`~emulator.providers.base.annotate`). A POST whose body
is JSON, a common mistake, is answered exactly as Telesign would (it finds no parameters) and
the entry's ``note`` says why.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from emulator.core.timefmt import iso_micro_z
from emulator.media_type import media_type
from emulator.providers.base import annotate
from emulator.providers.telesign import payloads
from emulator.providers.telesign.errors import TelesignError, error_response
from emulator.providers.telesign.validation import check_reference_id, parse_form, validate_send

if TYPE_CHECKING:
    from emulator.providers.telesign.provider import TelesignProvider


JSON_BODY_NOTE = "body is JSON; Telesign expects application/x-www-form-urlencoded"


def _json(body: dict[str, Any]) -> web.Response:
    return web.Response(text=json.dumps(body), content_type="application/json",
                        headers={"Allow": "GET,POST"})


def _looks_like_json(request: web.Request, body: bytes) -> bool:
    return media_type(request) == "application/json" or body.lstrip()[:1] in (b"{", b"[")


def build_routes(provider: TelesignProvider) -> list[web.AbstractRouteDef]:
    ctx = provider.ctx

    def fail(error: TelesignError, path: str) -> web.Response:
        ctx.journal.record("request_rejected", provider.name, path=path, code=error.code,
                           description=str(error))
        return error_response(error.code, iso_micro_z(ctx.clock.now()), reason=error.reason,
                              **error.extra)

    async def send_message(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            auth_method = provider.verifier.verify(request, body)
            send = validate_send(parse_form(body))
        except TelesignError as error:
            response = fail(error, request.path)
            if _looks_like_json(request, body):
                annotate(response, note=JSON_BODY_NOTE)
            return response
        message = provider.send(send, auth_method)
        ctx.journal.record("request", provider.name, method="POST", path=request.path,
                           message_id=message.id, auth=auth_method)
        return annotate(_json(payloads.send_response(message, provider.timestamp_style)),
                        code=message.status, message_ids=(message.id,))

    async def message_status(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            provider.verifier.verify(request, body)
            reference_id = check_reference_id(request.match_info["reference_id"])
            message = ctx.store.get(reference_id)
            # only the account's own sends: not inbound messages nor Telesign's auto-replies
            if (message is None or message.provider != provider.name
                    or message.direction != "outbound" or message.origin != "api"):
                raise TelesignError(10017)
        except TelesignError as error:
            return fail(error, request.path)
        return annotate(_json(payloads.status_response(message, provider.timestamp_style)),
                        code=message.status, message_ids=(message.id,))

    return [
        web.post("/v1/messaging", send_message),
        web.get("/v1/messaging/{reference_id}", message_status),
    ]
