"""A small system under test, as a team integrating both providers would write it: an aiohttp
app that sends SMS through the official Telesign SDK and TSG Global's API over plain HTTP, and
handles both providers' webhooks. The example scenarios in ``scenarios/`` replay against it.

Endpoints:

- ``POST /notify`` ``{"to", "text"}``: a marketing notice through Telesign, refused with 409 if
  the user opted out (STOP) and not back in (START); ``POST /otp`` ``{"to"}``: a one-time code,
  transactional, sent whatever the opt-out list says.
- ``POST /telesign/callback``: delivery reports and inbound messages (``mo_sms`` STOP/START keep
  the opt-out list, other channels are recorded), signature checked with the SDK's helper;
  ``POST /telesign/failing-callback`` always answers 500.
- ``POST /tsg/send`` ``{"from", "to", "body", ...}``: passed to TSG's ``POST /messages``.
- ``POST /tsg/webhook``: receipts are recorded; an inbound ``sms`` is answered
  ``{"body": "Thanks ..."}``, which TSG sends back as a reply; ``POST /tsg/failing-webhook``
  always answers 500.
- ``GET /state``: what it has seen.

``ignore_stop=True`` makes a broken copy that sends notices to opted-out users.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from telesign.messaging import MessagingClient
from telesign.util import verify_telesign_callback_signature


@dataclass
class SampleSystem:
    emulator_url: str
    customer_id: str
    api_key: str
    tsg_api_key: str = "sms-emulator-tsg-key"
    ignore_stop: bool = False
    opted_out: set[str] = field(default_factory=set)
    reports: dict[str, int] = field(default_factory=dict)
    inbound: list[dict[str, Any]] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)

    def telesign(self) -> MessagingClient:
        return MessagingClient(self.customer_id, self.api_key, rest_endpoint=self.emulator_url)

    async def _send(self, to: str, text: str, message_type: str) -> web.Response:
        response = await asyncio.to_thread(self.telesign().message, to, text, message_type)
        return web.json_response(response.json, status=200 if response.ok else 502)

    async def notify(self, request: web.Request) -> web.Response:
        order = await request.json()
        if order["to"] in self.opted_out and not self.ignore_stop:
            return web.json_response({"error": "the user opted out"}, status=409)
        return await self._send(order["to"], order["text"], "MKT")

    async def otp(self, request: web.Request) -> web.Response:
        order = await request.json()
        return await self._send(order["to"], "Your code is 123456", "OTP")

    async def telesign_callback(self, request: web.Request) -> web.Response:
        body = await request.text()
        signature = request.headers.get("X-TS-Authorization", "")
        if not verify_telesign_callback_signature(self.api_key, signature, body):
            return web.json_response({"error": "bad signature"}, status=401)
        event = json.loads(body)
        if event.get("sub_resource") == "sms":
            self.reports[event["reference_id"]] = event["status"]["code"]
        elif event.get("sub_resource") == "mo_sms":
            response = event["user_response"]
            if response["action"] == "stop":
                self.opted_out.add(response["phone_number"])
            elif response["action"] == "start":
                self.opted_out.discard(response["phone_number"])
            self.inbound.append(event)
        else:
            self.inbound.append(event)
        return web.Response(text="OK")

    async def failing(self, request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=500, text="handler crashed")

    async def tsg_send(self, request: web.Request) -> web.Response:
        order = await request.json()
        async with aiohttp.ClientSession() as session, session.post(
                f"{self.emulator_url}/messages", json=order,
                headers={"Authorization": f"Bearer {self.tsg_api_key}"}) as response:
            return web.json_response(await response.json(), status=response.status)

    async def tsg_webhook(self, request: web.Request) -> web.Response:
        event = await request.json()
        if event.get("object") == "sms_dlr":
            self.receipts.append(event)
            return web.json_response({})
        self.inbound.append(event)
        return web.json_response({"body": "Thanks, we got your message"})

    async def state(self, request: web.Request) -> web.Response:
        return web.json_response({"opted_out": sorted(self.opted_out), "reports": self.reports,
                                  "inbound": len(self.inbound), "receipts": len(self.receipts)})

    def app(self) -> web.Application:
        app = web.Application()
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
