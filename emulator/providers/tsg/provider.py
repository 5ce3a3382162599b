"""The TSG Global provider: messages and their parts, the lifecycle on the clock, delivery
receipts, inbound messages and webhook auto-replies.

A message's life: ``new`` when stored; ``sent`` (``processed_at``) at once or at its
``deliver_at``; then the delivery statuses of :mod:`~emulator.providers.tsg.lifecycle`, each
receipted by an ``sms_dlr`` when ``registered_delivery`` asks for it. A message still short of a
final status at its ``expires_at`` becomes ``expired`` and its remaining steps are dropped.

Ids (message, part, receipt) and UDH reference numbers come from the seeded RNG in a fixed order:
per recipient the message id, then, if it is multipart, the reference number and the part ids.
Part ids are aliases of their message in the store, so ``GET /messages/{part id}`` finds it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from emulator import schemas
from emulator.core.context import Context
from emulator.core.dispatcher import Delivery
from emulator.core.lifecycle import Step
from emulator.core.rng import SeededRandom
from emulator.core.scheduler import Job
from emulator.core.store import Message
from emulator.core.timefmt import iso_naive_micro
from emulator.providers.base import Provider, hand_to_outlet
from emulator.providers.transport import ReceiptState, Refused, Submission, receipt
from emulator.providers.tsg import (
    autoreply,
    errors,
    inbound,
    lifecycle,
    payloads,
    statuses,
    webhooks,
)
from emulator.providers.tsg.validation import NumberWebhook, SendRequest, wire_number
from emulator.providers.tsg.webhook_kinds import kinds as tsg_webhook_kinds
from emulator.providers.vocabulary import Vocabulary
from emulator.providers.webhooks import WebhookKind
from emulator.sms.encoding import Unencodable, choose, units
from emulator.sms.segmentation import TABLES, Segmented, SegmentTable, TooManyParts, split

#: ``to`` and ``from`` as ``POST /messages`` takes them (schemas/tsg/send-request)
_NUMBER = re.compile(r"^[1-9][0-9]{1,14}$")
_SENDER = re.compile(r"^([1-9][0-9]{1,14}|[A-Za-z0-9][A-Za-z0-9 ._&-]{0,10})$")


def _sender(text: str) -> str:
    return wire_number(text) if text.strip("+").isdigit() else text


@dataclass(frozen=True)
class WireParts:
    """What a message from another transport brings: its part ids and UDH reference as the
    ESME sent them, and the transport's hook for its status changes."""

    ids: tuple[str, ...]
    reference: int
    reports: Callable[[Message], None] | None


DEFAULT_API_KEY = "sms-emulator-tsg-key"
DEFAULT_NUMBER = "15550555055"


class TsgProvider(Provider):
    name = "tsg"
    path_prefixes = ("/messages", "/v1/sms")

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._steps: dict[str, Job] = {}  # message id -> its next lifecycle job
        self._expiries: dict[str, Job] = {}
        self._request_ids: SeededRandom | None = None
        self._request_ids_seed: int | None = None

    # -- plugin shape -----------------------------------------------------------------------
    @classmethod
    def default_config(cls) -> dict[str, Any]:
        return {
            "api_key": DEFAULT_API_KEY,
            "numbers": {DEFAULT_NUMBER: {"webhook_url": None, "x_api_key": None}},
            "segments": "tsg",
            "udh_style": "full",
            "delivery_receipt_format": "text",
            "dlr_time_precision": "minute",
            "delivery_error_codes": {},
            "auto_reply": {"registered_delivery": 0},
        }

    @classmethod
    def accepts_status(cls, status: Any) -> bool:
        return statuses.accepts(status)

    @classmethod
    def webhook_kinds(cls) -> Sequence[WebhookKind]:
        return tsg_webhook_kinds()

    @classmethod
    def vocabulary(cls) -> Vocabulary:
        return Vocabulary(
            webhook_kinds=tuple(kind.short_name for kind in cls.webhook_kinds()),
            channels=("sms",),
            statuses=tuple(statuses.DESCRIPTIONS),  # new, sent and the delivery statuses
            inbound_fields=tuple(schemas.load("tsg/inbound-request")["properties"]))

    @property
    def section(self) -> dict[str, Any]:
        return self.ctx.config.section("tsg")

    @property
    def table(self) -> SegmentTable:
        return TABLES[self.section["segments"]]

    @property
    def style(self) -> payloads.WireStyle:
        return payloads.WireStyle.of(self.section)

    def routes(self) -> list[web.AbstractRouteDef]:
        from emulator.providers.tsg.routes import build_routes

        return build_routes(self)

    def error_response(self, http_status: int, reason: str) -> web.Response:
        return errors.response(errors.from_http_status(http_status, reason), self.request_id())

    def banner(self) -> list[str]:
        lines = [
            f"TSG Global {self.ctx.base_url}/messages  (and /v1/sms/webhook)",
            f"  api_key      {self.section['api_key']}  (Authorization: Bearer <api_key>)",
        ]
        for did, number in self.section["numbers"].items():
            lines.append(f"  number       {did} -> {number['webhook_url'] or 'no webhook'}")
        return lines

    def reset(self) -> None:
        self._steps.clear()
        self._expiries.clear()
        self._request_ids = None

    def request_id(self) -> str:
        """``X-Request-Id`` of an answer: a separate seeded sequence, so that the number of
        requests a client makes does not shift the message ids."""
        if self._request_ids is None or self._request_ids_seed != self.ctx.rng.seed:
            self._request_ids = self.ctx.rng.derive("tsg X-Request-Id")
            self._request_ids_seed = self.ctx.rng.seed
        return self._request_ids.uuid4()

    # -- messages ---------------------------------------------------------------------------
    def _store(self, *, direction: str, sender: str, to: str, segmented: Segmented,
               registered_delivery: int, origin: str, scheduled_at: float | None = None,
               expires_at: float | None = None, extra: dict[str, Any] | None = None,
               wire_parts: WireParts | None = None) -> Message:
        ctx = self.ctx
        now = ctx.clock.now()
        message_id = ctx.rng.uuid4()
        udh, parts = None, []
        if segmented.multipart:
            reference = (wire_parts.reference if wire_parts is not None
                         else ctx.rng.randint(0, 2**self.table.reference_bits - 1))
            udh = {"ref_num": reference, "count": segmented.count}
            ids = (wire_parts.ids if wire_parts is not None
                   else [ctx.rng.uuid4() for _ in segmented.parts])
            parts = [{"id": part_id, "seq_num": seq, "body": text}
                     for seq, (part_id, text) in enumerate(zip(ids, segmented.parts, strict=True),
                                                           start=1)]
        details: dict[str, Any] = {
            "encoding": segmented.encoding,
            "registered_delivery": registered_delivery,
            "udh": udh,
            "parts": parts,
            "scheduled_at": None if scheduled_at is None else iso_naive_micro(scheduled_at),
            "processed_at": None,
            "delivered_at": None,
            "expires_at": None if expires_at is None else iso_naive_micro(expires_at),
            **(extra or {}),
        }
        message = ctx.store.add(Message(
            id=message_id, provider=self.name, direction=direction, to=to, from_=sender,
            text=segmented.text, status=statuses.NEW,
            status_description=statuses.DESCRIPTIONS[statuses.NEW], created_at=now,
            updated_at=now, origin=origin, final=direction == "inbound", details=details,
            reports=wire_parts.reports if wire_parts is not None else None,
        ))
        for part in parts:
            ctx.store.alias(part["id"], message.id)
        return message

    def find(self, any_id: str) -> tuple[Message, dict[str, Any] | None]:
        """A message by its id or one of its part ids (then also that part)."""
        message = self.ctx.store.get(any_id)
        if message is None or message.provider != self.name:
            raise errors.not_found("Message")
        part = next((p for p in message.details["parts"] if p["id"] == any_id), None)
        return message, part

    def send(self, request: SendRequest) -> list[Message]:
        return [self._outbound(request.sender, to, request.segmented,
                               request.registered_delivery, request.deliver_at,
                               request.expires_at,
                               {"requested_encoding": request.requested_encoding,
                                "force_encoding": request.force_encoding})
                for to in request.recipients]

    def submit(self, submission: Submission) -> Message:
        """A message from SMPP: numbers checked as ``POST /messages`` checks ``to`` and
        ``from``; the parts are those the ESME sent (their ids those the SMPP answers gave),
        and the receipts are the session's, so ``registered_delivery`` here is 0."""
        self.check_addresses(submission.sender, submission.to)
        to = wire_number(submission.to)
        sender = _sender(submission.sender)
        segmented = Segmented(submission.text, submission.encoding, submission.parts,
                              units(submission.text, submission.encoding))
        wire = WireParts(submission.part_ids, submission.reference, submission.reports)
        return self._outbound(sender, to, segmented, 0, None, None, dict(submission.details),
                              wire_parts=wire)

    def check_addresses(self, sender: str, to: str) -> None:
        if not _NUMBER.match(wire_number(to)):
            raise Refused("destination", f"{to!r} is not a phone number (2 to 15 digits, "
                          "E.164)")
        if not _SENDER.match(_sender(sender)):
            raise Refused("source", f"{sender!r} is not a number or sender ID TSG accepts")

    def receipt_state(self, message: Message) -> ReceiptState | None:
        if not message.final:
            return None
        return receipt(statuses.receipt_stat(message.status),
                       statuses.error_code(message.status, self.section["delivery_error_codes"]))

    def _outbound(self, sender: str, to: str, segmented: Segmented, registered_delivery: int,
                  deliver_at: float | None, expires_at: float | None,
                  extra: dict[str, Any], origin: str = "api",
                  wire_parts: WireParts | None = None) -> Message:
        ctx = self.ctx
        steps = lifecycle.plan(to, ctx.config.section("lifecycle")["rules"])
        message = self._store(direction="outbound", sender=sender, to=to, segmented=segmented,
                              registered_delivery=registered_delivery, origin=origin,
                              scheduled_at=deliver_at, expires_at=expires_at,
                              extra={**extra, "planned_statuses": tuple(s.status for s in steps)},
                              wire_parts=wire_parts)
        ctx.journal.record("message_created", self.name, message_id=message.id, to=to,
                           status=message.status, parts=segmented.count,
                           encoding=segmented.encoding)

        self._steps[message.id] = ctx.scheduler.call_at(
            deliver_at if deliver_at is not None else ctx.clock.now(), self._submit,
            f"tsg {message.id} -> {statuses.SENT}", (message, tuple(steps)))
        if expires_at is not None:
            self._expiries[message.id] = ctx.scheduler.call_at(
                expires_at, self._expire, f"tsg {message.id} expiry", (message,))
        self._settle(message)
        return message

    def _submit(self, message: Message, steps: tuple[Step, ...]) -> None:
        """A job: the message leaves for the carrier (``sent``), then its steps follow."""
        message.details["processed_at"] = iso_naive_micro(self.ctx.clock.now())
        self._set_status(message, statuses.SENT)
        self._schedule(message, steps)

    def _settle(self, message: Message) -> None:
        """Tell the store whether a step or an expiry is still queued for ``message``; with
        neither, it may be evicted."""
        message.lifecycle_pending = message.id in self._steps or message.id in self._expiries

    def _schedule(self, message: Message, steps: tuple[Step, ...]) -> None:
        """Queue the next step; a rule's steps all run, even past a final status."""
        if not steps:
            self._steps.pop(message.id, None)
            expiry = self._expiries.pop(message.id, None) if message.final else None
            if expiry is not None:
                expiry.cancel()
            self._settle(message)
            return
        self._steps[message.id] = self.ctx.scheduler.call_later(
            steps[0].after, self._step, f"tsg {message.id} -> {steps[0].status}",
            (message, steps))

    def _step(self, message: Message, steps: tuple[Step, ...]) -> None:
        """A job: the first of ``steps`` falls due."""
        self._apply(message, steps[0].status)
        self._schedule(message, steps[1:])

    def _expire(self, message: Message) -> None:
        self._expiries.pop(message.id, None)
        if message.final:
            self._settle(message)
            return
        pending = self._steps.pop(message.id, None)
        if pending is not None:
            pending.cancel()
        self._apply(message, "expired")
        self._settle(message)

    def _set_status(self, message: Message, status: str) -> None:
        final = status in statuses.FINAL
        message.set_status(status, statuses.DESCRIPTIONS[status], self.ctx.clock.now(),
                           final=final)
        self.ctx.journal.record("status_change", self.name, message_id=message.id,
                                status=status, description=statuses.DESCRIPTIONS[status],
                                final=final)

    def _apply(self, message: Message, status: str) -> None:
        if status == "delivered":
            message.details["delivered_at"] = iso_naive_micro(self.ctx.clock.now())
        self._set_status(message, status)
        if message.reports is not None:  # another transport reports it (SMPP receipts)
            message.reports(message)
            return
        if statuses.wants_receipt(message.details["registered_delivery"], status):
            self._receipt(message, status)

    def _receipt(self, message: Message, status: str) -> None:
        now = self.ctx.clock.now()
        submitted = next((at for status, _, at in message.history if status == statuses.SENT),
                         message.created_at)
        payload = payloads.sms_dlr(
            message, dlr_id=self.ctx.rng.uuid4(), status=status, at=now, submitted_at=submitted,
            error_code=statuses.error_code(status, self.section["delivery_error_codes"]),
            style=self.style)
        webhooks.send(self.ctx, kind="sms_dlr", did=message.from_ or "", payload=payload,
                      message_id=message.id, cause=f"status {status}")

    # -- number configuration ---------------------------------------------------------------
    def configure_number(self, request: NumberWebhook) -> dict[str, Any]:
        # one entry set in place and validated alone: the cost does not grow with the number
        # of numbers configured (a whole-document patch copied and revalidated them all)
        number: dict[str, Any] = {"webhook_url": request.webhook_url,
                                  "x_api_key": request.x_api_key,
                                  "webhook_type": request.webhook_type}
        self.ctx.config.set_entry("tsg", ("numbers", request.did), number)
        self.ctx.journal.record("number_configured", self.name, did=request.did,
                                webhook_url=request.webhook_url,
                                webhook_type=request.webhook_type,
                                x_api_key=request.x_api_key is not None)
        return number

    # -- inbound messages and auto-replies --------------------------------------------------
    async def inbound(self, document: dict[str, Any]) -> list[Message]:
        """Store the end user's message and queue its ``sms`` webhook. An auto-reply the
        webhook's answer asks for is appended to the returned list when it is made, so the
        control API, which answers once the first attempt is over, includes it."""
        mo = inbound.parse(document, self.table)
        message = self._store(direction="inbound", sender=mo.sender, to=mo.to,
                              segmented=mo.segmented, registered_delivery=0, origin="end_user")
        self.ctx.journal.record("inbound_message", self.name, message_id=message.id,
                                channel="sms", to=mo.to, parts=mo.segmented.count,
                                **{"from": mo.sender})

        created = [message]

        async def answered(delivery: Delivery, status: int, body: bytes) -> None:
            reply = self._auto_reply(message, delivery, body)
            if reply is not None:
                created.append(reply)

        number = self.section["numbers"].get(mo.to)
        if number is not None and (number.get("webhook_type") == "smpp"
                                   or not number["webhook_url"]):
            hand_to_outlet(self, "smpp", message, "sms")  # TSG: a blank URL means SMPP
            return created
        webhooks.send(self.ctx, kind="sms", did=mo.to,
                      payload=payloads.message_object(message, self.style),
                      message_id=message.id, on_response=answered, cause="inbound sms")
        return created

    def _auto_reply(self, original: Message, delivery: Delivery, body: bytes) -> Message | None:
        answer = autoreply.read(body)
        reason = answer.reason
        segmented = None
        if answer.text is not None:
            try:
                segmented = split(answer.text, choose(answer.text), self.table)
            except (Unencodable, TooManyParts) as exc:
                reason = f"body: {exc}"
        if segmented is None:
            self.ctx.journal.record("auto_reply_ignored", self.name, message_id=original.id,
                                    delivery=delivery.id, reason=reason)
            return None
        reply = self._outbound(original.to, original.from_ or "", segmented,
                               self.section["auto_reply"]["registered_delivery"], None, None,
                               {"auto_reply": True, "in_reply_to": original.id})
        self.ctx.journal.record("auto_reply", self.name, message_id=reply.id,
                                in_reply_to=original.id, delivery=delivery.id,
                                ignored_keys=answer.ignored_keys)
        return reply
