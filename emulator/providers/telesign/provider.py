"""The Telesign provider: accounts, message lifecycle, delivery callbacks, inbound messages and
the US/Canada compliance keywords."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from emulator import schemas
from emulator.control import paging
from emulator.core.context import Context
from emulator.core.fakes import FakeData
from emulator.core.lifecycle import Step
from emulator.core.store import Message
from emulator.core.timefmt import iso_micro_z
from emulator.providers.base import Provider, hand_to_outlet
from emulator.providers.telesign import (
    callbacks,
    compliance,
    inbound,
    lifecycle,
    payloads,
    signing,
    statuses,
)
from emulator.providers.telesign.auth import Account, Verifier
from emulator.providers.telesign.errors import HTTP_TO_CODE, error_response
from emulator.providers.telesign.validation import (
    SendRequest,
    phone_number_problem,
    sender_id_problem,
)
from emulator.providers.telesign.webhook_kinds import kinds as telesign_webhook_kinds
from emulator.providers.transport import ReceiptState, Refused, Submission
from emulator.providers.vocabulary import Vocabulary
from emulator.providers.webhooks import WebhookKind

DEFAULT_CUSTOMER_ID = "FFFFFFFF-EEEE-DDDD-1234-AB1234567890"
# base64 of a fixed 48-byte string; any base64 key works once configured
DEFAULT_API_KEY = "c21zLWVtdWxhdG9yIGRlZmF1bHQgVGVsZXNpZ24ga2V5OyBub3QgYSBzZWNyZXQh"
#: how long an opted-out number's message takes to be refused with 510
OPT_OUT_DELAY = 1.0


class TelesignProvider(Provider):
    name = "telesign"
    path_prefixes = ("/v1/",)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.verifier = Verifier(self.account, lambda: self.section["auth"])
        self.opt_outs = compliance.OptOuts()
        self.fakes = FakeData(ctx.rng)

    @classmethod
    def default_config(cls) -> dict[str, Any]:
        return {
            "customer_id": DEFAULT_CUSTOMER_ID,
            "api_key": DEFAULT_API_KEY,
            "callback_url": None,
            "mo_callback_urls": {},
            "timestamp_format": "iso",
            "auth": {"date_skew_seconds": 900, "nonce_window_seconds": 900},
            "callbacks": {"intermediate": False, "success": "200",
                          "x_ts_authorization": "signature"},
            "inbound": {"price": "0.0075", "keyword_match": "exact", "transport": "http"},
            "compliance": compliance.default_config(),
        }

    @classmethod
    def accepts_status(cls, status: Any) -> bool:
        return lifecycle.accepts_status(status)

    @classmethod
    def webhook_kinds(cls) -> Sequence[WebhookKind]:
        return telesign_webhook_kinds(DEFAULT_CUSTOMER_ID, DEFAULT_API_KEY)

    @classmethod
    def vocabulary(cls) -> Vocabulary:
        # outbound messages are SMS; inbound ones come on every Messaging channel (1500 is an
        # inbound message's status)
        return Vocabulary(
            webhook_kinds=tuple(kind.short_name for kind in cls.webhook_kinds()),
            channels=inbound.CHANNELS,
            statuses=(*statuses.STATUSES, inbound.MO_STATUS_CODE),
            inbound_fields=tuple(schemas.load("telesign/inbound-request")["properties"]))

    @classmethod
    def check_config(cls, section: dict[str, Any]) -> list[str]:
        if not signing.is_base64_key(section["api_key"]):
            return ["api_key: must be base64 (it is decoded to make the HMAC key)"]
        return []

    @property
    def section(self) -> dict[str, Any]:
        return self.ctx.config.section("telesign")

    def account(self) -> Account:
        return Account(self.section["customer_id"], self.section["api_key"])

    @property
    def timestamp_style(self) -> str:
        return self.section["timestamp_format"]

    def routes(self) -> list[web.AbstractRouteDef]:
        from emulator.providers.telesign.routes import build_routes

        return build_routes(self)

    def control_routes(self, prefix: str) -> list[web.AbstractRouteDef]:
        listing = f"{prefix}/opt-outs"

        def first_page(request: web.Request, path: str | None = None) -> dict[str, Any]:
            query = paging.page_query(request)
            page = self.opt_outs.page(after=query.cursor or 0, limit=query.limit)
            return {"opt_outs": [entry.to_json() for entry in page.items],
                    "next": paging.next_link(request, page.cursor, path)}

        async def list_opt_outs(request: web.Request) -> web.Response:
            try:
                return web.json_response(first_page(request))
            except paging.BadQuery as exc:
                return paging.bad_query_response(exc)

        async def clear_opt_outs(request: web.Request) -> web.Response:
            """Empties the list, or ``?phone_number=`` removes one user; answers how many
            went and the first page of what is left (``next`` is a GET of the list)."""
            number = request.query.get("phone_number")
            try:
                paging.page_query(request)
            except paging.BadQuery as exc:
                return paging.bad_query_response(exc)
            if number is None:
                removed = len(self.opt_outs)
                self.opt_outs.clear()
            else:
                removed = self.opt_outs.remove(number)
            self.ctx.journal.record("opt_outs_cleared", self.name, phone_number=number,
                                    removed=removed)
            return web.json_response({"removed": removed, **first_page(request, listing)})

        return [web.get(listing, list_opt_outs), web.delete(listing, clear_opt_outs)]

    def error_response(self, http_status: int, reason: str) -> web.Response:
        code = HTTP_TO_CODE.get(http_status, -40006 if http_status < 500 else 10000)
        return error_response(code, iso_micro_z(self.ctx.clock.now()), http_status=http_status,
                              reason=reason)

    def banner(self) -> list[str]:
        return [
            f"Telesign   {self.ctx.base_url}/v1/messaging",
            f"  customer_id  {self.section['customer_id']}",
            f"  api_key      {self.section['api_key']}",
        ]

    def reset(self) -> None:
        self.verifier.nonces.clear()
        self.opt_outs.clear()

    # -- outbound messages ------------------------------------------------------------------
    def send(self, request: SendRequest, auth_method: str) -> Message:
        details: dict[str, Any] = {
            "message_type": request.message_type,
            "external_id": request.external_id,
            "callback_url": request.callback_url,
            "account_lifecycle_event": request.account_lifecycle_event,
            "originating_ip": request.originating_ip,
            "sender_id": request.sender_id,
            "extra_params": request.extra,
            "auth_method": auth_method,
        }
        if self.opt_outs.blocks(request.phone_number, request.sender_id):
            steps = [Step(510, OPT_OUT_DELAY)]
            details["blocked_by_opt_out"] = True
        else:
            steps = lifecycle.plan(request.phone_number,
                                   self.ctx.config.section("lifecycle")["rules"])
        return self._create_outbound(request.phone_number, request.message, request.sender_id,
                                     details, steps)

    def submit(self, submission: Submission) -> Message:
        """A message from SMPP: ``destination_addr`` checked as ``phone_number`` is, the
        source as ``sender_id`` (empty: Telesign picks one); then the REST path's opt-outs,
        magic numbers and lifecycle rules."""
        self.check_addresses(submission.sender, submission.to)
        sender = submission.sender or None
        details: dict[str, Any] = {"message_type": None, **submission.details}
        if self.opt_outs.blocks(submission.to, sender):
            steps = [Step(510, OPT_OUT_DELAY)]
            details["blocked_by_opt_out"] = True
        else:
            steps = lifecycle.plan(submission.to, self.ctx.config.section("lifecycle")["rules"])
        return self._create_outbound(submission.to, submission.text, sender, details, steps,
                                     reports=submission.reports, aliases=submission.part_ids)

    def new_message_id(self) -> str:
        return self.ctx.rng.hex_id(32)

    def check_addresses(self, sender: str, to: str) -> None:
        if phone_number_problem(to) is not None:
            raise Refused("destination", f"{to!r} is not a phone number in international "
                          "form (country code and number, digits only)")
        if sender and sender_id_problem(sender):
            raise Refused("source", f"{sender!r} is not a sender ID Telesign accepts")

    def receipt_state(self, message: Message) -> ReceiptState | None:
        return statuses.receipt_state(message.status) if message.final else None

    def _create_outbound(self, to: str, text: str, sender: str | None, details: dict[str, Any],
                         steps: list[Step], origin: str = "api", reports: Any = None,
                         aliases: tuple[str, ...] = ()) -> Message:
        ctx = self.ctx
        now = ctx.clock.now()
        message = ctx.store.add(Message(
            id=ctx.rng.hex_id(32), provider=self.name, direction="outbound", to=to, from_=sender,
            text=text, status=statuses.IN_PROGRESS.code,
            status_description=statuses.IN_PROGRESS.description, created_at=now, updated_at=now,
            origin=origin, details=details, reports=reports,
        ))
        for alias in aliases:
            ctx.store.alias(alias, message.id)
        details["planned_statuses"] = tuple(step.status for step in steps)
        ctx.journal.record("message_created", self.name, message_id=message.id, to=to,
                           status=message.status)
        self._schedule(message, steps)
        return message

    def _schedule(self, message: Message, steps: Sequence[Step]) -> None:
        message.lifecycle_pending = bool(steps)  # with none left, the store may evict it
        if steps:
            self.ctx.scheduler.call_later(steps[0].after, self._step,
                                          f"telesign {message.id} -> {steps[0].status}",
                                          (message, tuple(steps)))

    def _step(self, message: Message, steps: tuple[Step, ...]) -> None:
        """A job: the first of ``steps`` falls due."""
        self._apply(message, steps[0].status)
        self._schedule(message, steps[1:])

    def _apply(self, message: Message, code: int) -> None:
        status = statuses.get(code)
        now = self.ctx.clock.now()
        message.set_status(code, status.description, now, final=status.final)
        self.ctx.journal.record("status_change", self.name, message_id=message.id,
                                status=code, description=status.description, final=status.final)
        if message.reports is not None:  # another transport reports it (SMPP receipts)
            message.reports(message)
            return
        if message.details.get("auto_response"):
            return  # Telesign's own compliance reply: the customer gets no report of it
        if status.final or self.section["callbacks"]["intermediate"]:
            self._delivery_report(message, f"status {code} {status.description}")

    def _delivery_report(self, message: Message, cause: str) -> None:
        url = message.details.get("callback_url") or self.section["callback_url"]
        if not url:
            self.ctx.journal.record("callback_skipped", self.name, message_id=message.id,
                                    webhook="delivery_report", cause=cause,
                                    reason="no callback_url on the request or the account")
            return
        payload = payloads.delivery_callback(message, self.timestamp_style)
        callbacks.send(self.ctx, kind="delivery_report", url=url, payload=payload,
                       message_id=message.id, cause=cause)

    # -- inbound messages -------------------------------------------------------------------
    async def inbound(self, document: dict[str, Any]) -> list[Message]:
        section = self.section
        mo = inbound.parse(document, section["inbound"]["keyword_match"])
        now = self.ctx.clock.now()
        reference_id = self.ctx.rng.hex_id(32)
        payload = inbound.build(mo, reference_id, iso_micro_z(now),
                                price=section["inbound"]["price"], fakes=self.fakes)
        message = self.ctx.store.add(Message(
            id=reference_id, provider=self.name, direction="inbound", channel=mo.channel,
            to=mo.to, from_=mo.sender, text=mo.text, status=inbound.MO_STATUS_CODE,
            origin="end_user",
            status_description=inbound.MO_STATUS_DESCRIPTION, created_at=now, updated_at=now,
            final=True,
            details={"action": mo.match.action, "keyword": mo.match.keyword,
                     "iso_country_code": mo.country, "payload": payload},
        ))
        self.ctx.journal.record("inbound_message", self.name, message_id=reference_id,
                                channel=mo.channel, action=mo.match.action,
                                **{"from": mo.sender, "to": mo.to})
        url = section["mo_callback_urls"].get(mo.channel) or section["callback_url"]
        cause = f"inbound {mo.channel}"
        if mo.channel == "sms" and section["inbound"]["transport"] == "smpp":
            hand_to_outlet(self, "smpp", message, f"mo_{mo.channel}")
        elif url:
            callbacks.send(self.ctx, kind=f"mo_{mo.channel}", url=url, payload=payload,
                           message_id=reference_id, cause=cause)
        else:
            self.ctx.journal.record("callback_skipped", self.name, message_id=reference_id,
                                    webhook=f"mo_{mo.channel}", cause=cause,
                                    reason=f"no mo_callback_urls.{mo.channel} or callback_url")
        created = [message]
        if mo.channel == "sms" and mo.match.keyword is not None:
            reply = self._compliance(mo, message)
            if reply is not None:
                created.append(reply)
        return created

    def _compliance(self, mo: inbound.Inbound, message: Message) -> Message | None:
        settings = self.section["compliance"]
        if mo.country not in settings["countries"]:
            return None
        action, keyword = mo.match.action, mo.match.keyword or ""
        now = self.ctx.clock.now()
        if action == "stop":
            self.opt_outs.stop(mo.to, mo.sender, keyword, now)
        elif action == "start":
            self.opt_outs.start(mo.to, mo.sender)
        self.ctx.journal.record("compliance_keyword", self.name, action=action, keyword=keyword,
                                sender_id=mo.to, phone_number=mo.sender)
        details = {"auto_response": True, "in_reply_to": message.id, "action": action,
                   "keyword": keyword}
        text = compliance.reply_text(settings, action, keyword)
        return self._create_outbound(mo.sender, text, mo.to, details,
                                     list(lifecycle.DEFAULT_STEPS), origin="provider")
