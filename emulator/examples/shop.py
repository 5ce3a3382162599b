"""The example system under test: a small shop, as a team integrating both providers would write
it. An aiohttp app that sends SMS through the official Telesign SDK and TSG Global's API over
plain HTTP, and handles both providers' webhooks. The scenarios in ``scenarios/`` replay against
it; ``sms-emulator example-sut`` serves it (the Telesign SDK, ``pip install telesign``, must be
installed).

Endpoints (bodies are JSON; a malformed one gets a 400 naming the problem):

- ``POST /notify`` ``{"to", "text"}``: a marketing notice through Telesign, refused with 409 if
  the user opted out (STOP) and not back in (START); ``POST /otp`` ``{"to"}``: a one-time code,
  transactional, sent whatever the opt-out list says.
- ``POST /telesign/callback``: delivery reports and inbound messages (``mo_sms`` STOP/START keep
  the opt-out list, other channels are recorded), signature checked with the SDK's helper (401
  if it does not verify); ``POST /telesign/failing-callback`` always answers 500.
- ``POST /tsg/send`` ``{"from", "to", "body", ...}``: passed to TSG's ``POST /messages``.
- ``POST /tsg/webhook``: receipts are recorded; an inbound ``sms`` is answered
  ``{"body": "Thanks ..."}``, which TSG sends back as a reply; ``POST /tsg/failing-webhook``
  always answers 500.
- ``GET /state``: what it has seen, including the emulator it last sent to.

**Where the emulator is.** A real system reads its provider URLs from its configuration. This
one does too (``emulator_url``, ``--emulator``), except that a request carrying
:data:`~emulator.replay.runner.EMULATOR_URL_HEADER` (every request ``sms-emulator replay`` makes
to the system under test does) sends its provider calls to the URL in that header: replay starts
its emulator on a free port, and this way one replay command works whatever port it got.

``ignore_stop=True`` (``--ignore-stop``) makes a broken shop that sends notices to opted-out
users, to see a scenario fail.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import requests
from aiohttp import web
from telesign.messaging import MessagingClient
from telesign.util import verify_telesign_callback_signature

from emulator.replay.runner import EMULATOR_URL_HEADER


class Refused(Exception):
    """A request the shop will not serve: answered ``{"error": ...}`` with ``status``."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


async def _json_object(request: web.Request, *required: str) -> dict[str, Any]:
    try:
        document = json.loads(await request.text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused(400, f"the body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise Refused(400, "the body must be a JSON object")
    for name in required:
        if not isinstance(document.get(name), str) or not document[name]:
            raise Refused(400, f"{name}: a non-empty string is required")
    return document


@web.middleware
async def _refusals(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except Refused as refused:
        return web.json_response({"error": refused.error}, status=refused.status)


@dataclass
class Shop:
    """The shop's state and handlers; :meth:`app` serves them. ``emulator_url`` is the
    providers' base URL for requests without the emulator header."""

    emulator_url: str
    customer_id: str
    api_key: str
    tsg_api_key: str = "sms-emulator-tsg-key"
    ignore_stop: bool = False
    opted_out: set[str] = field(default_factory=set)
    reports: dict[str, int] = field(default_factory=dict)
    inbound: list[dict[str, Any]] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)
    #: the emulator the latest provider call went to
    last_emulator: str | None = None

    def _emulator(self, request: web.Request) -> str:
        url = request.headers.get(EMULATOR_URL_HEADER)
        if url is None:
            url = self.emulator_url
        elif urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise Refused(400, f"{EMULATOR_URL_HEADER}: {url!r} is not an http(s) URL")
        self.last_emulator = url.rstrip("/")
        return self.last_emulator

    async def _send(self, request: web.Request, to: str, text: str,
                    message_type: str) -> web.Response:
        url = self._emulator(request)
        client = MessagingClient(self.customer_id, self.api_key, rest_endpoint=url)
        try:
            response = await asyncio.to_thread(client.message, to, text, message_type)
        except requests.RequestException as exc:
            raise Refused(502, f"Telesign at {url} cannot be reached: {exc}") from None
        return web.json_response(response.json, status=200 if response.ok else 502)

    async def notify(self, request: web.Request) -> web.Response:
        order = await _json_object(request, "to", "text")
        if order["to"] in self.opted_out and not self.ignore_stop:
            raise Refused(409, "the user opted out")
        return await self._send(request, order["to"], order["text"], "MKT")

    async def otp(self, request: web.Request) -> web.Response:
        order = await _json_object(request, "to")
        return await self._send(request, order["to"], "Your code is 123456", "OTP")

    def _verified(self, authorization: str, body: str) -> bool:
        """Whether ``Authorization: TSA customer_id:signature`` signs ``body``."""
        scheme, _, credentials = authorization.partition(" ")
        customer_id, _, signature = credentials.rpartition(":")
        return (scheme == "TSA" and customer_id.upper() == self.customer_id.upper()
                and verify_telesign_callback_signature(self.api_key, signature, body))

    async def telesign_callback(self, request: web.Request) -> web.Response:
        body = await request.text()
        if not self._verified(request.headers.get("Authorization", ""), body):
            raise Refused(401, "bad signature")
        event = await _json_object(request)
        kind = event.get("sub_resource")
        status = event.get("status")
        if kind == "sms" and isinstance(status, dict) and isinstance(event.get("reference_id"),
                                                                     str):
            self.reports[event["reference_id"]] = status.get("code")
        elif kind == "mo_sms" and isinstance(event.get("user_response"), dict):
            response = event["user_response"]
            if response.get("action") == "stop":
                self.opted_out.add(str(response.get("phone_number")))
            elif response.get("action") == "start":
                self.opted_out.discard(str(response.get("phone_number")))
            self.inbound.append(event)
        else:
            self.inbound.append(event)
        return web.Response(text="OK")

    async def failing(self, request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=500, text="handler crashed")

    async def tsg_send(self, request: web.Request) -> web.Response:
        order = await _json_object(request)
        url = self._emulator(request)
        try:
            async with aiohttp.ClientSession() as session, session.post(
                    f"{url}/messages", json=order,
                    headers={"Authorization": f"Bearer {self.tsg_api_key}"}) as response:
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, ValueError) as exc:
            raise Refused(502, f"TSG at {url} cannot be reached: {exc}") from None
        return web.json_response(answer, status=response.status)

    async def tsg_webhook(self, request: web.Request) -> web.Response:
        event = await _json_object(request)
        if event.get("object") == "sms_dlr":
            self.receipts.append(event)
            return web.json_response({})
        self.inbound.append(event)
        return web.json_response({"body": "Thanks, we got your message"})

    async def state(self, request: web.Request) -> web.Response:
        return web.json_response({"opted_out": sorted(self.opted_out), "reports": self.reports,
                                  "inbound": len(self.inbound), "receipts": len(self.receipts),
                                  "emulator": self.last_emulator})

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_refusals])
        app.add_routes([
            web.post("/notify", self.notify),
            web.post("/otp", self.otp),
            web.post("/telesign/callback", self.telesign_callback),
            web.post("/telesign/failing-callback", self.failing),
            web.post("/tsg/send", self.tsg_send),
            web.post("/tsg/webhook", self.tsg_webhook),
            web.post("/tsg/failing-webhook", self.failing),
            web.get("/state", self.state),
        ])
        return app
