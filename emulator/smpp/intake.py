"""submit_sm and query_sm: an SMPP session's messages into (and out of) its provider's store.

A submit_sm becomes the message a REST send makes (``Provider.submit``), with ``details.via:
smpp`` and ``details.smpp`` (system_id, session, registered_delivery, data_coding, esm_class,
how it was concatenated, part ids). Its text is decoded by ``data_coding``
(:mod:`emulator.smpp.text`); a long message comes as UDH parts, ``sar_*`` parts or one
``message_payload``, and is stored once its last part has come: each part is answered at once
with an id of its own (the provider's form), which stays an alias of the message. Parts
still waiting after :data:`REASSEMBLY_SECONDS` are dropped and journaled
(``smpp_parts_incomplete``); a part sent twice replaces the first (``smpp_part_replaced``).

A ``destination_addr`` of ``15005559`` + a three-digit number answers that command_status and
stores nothing (``15005559088`` ESME_RTHROTTLED, ``15005559020`` ESME_RMSGQFUL), for testing a
client's back-off. A number the provider's API would refuse is ``ESME_RINVDSTADR`` or
``ESME_RINVSRCADR``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from emulator.core.context import Context
from emulator.core.store import Message
from emulator.providers.base import Provider
from emulator.providers.transport import Refused, Submission
from emulator.smpp import codec, receipts, text
from emulator.sms.encoding import SUPPORTED, choose

if TYPE_CHECKING:
    from emulator.smpp.session import Session

VIA = "smpp"
#: ``15005559`` + a command_status in decimal: the submit is answered with that status
MAGIC_STATUS = re.compile(r"^\+?15005559(\d{3})$")
#: how long the parts of a concatenated message wait for their siblings (emulated seconds)
REASSEMBLY_SECONDS = 600.0
_STATUS = codec.STATUS
_REFUSALS = {"destination": "ESME_RINVDSTADR", "source": "ESME_RINVSRCADR",
             "text": "ESME_RSUBMITFAIL", "provider": "ESME_RSYSERR"}
#: makes the hook that sends a submit's receipts: (session, registered_delivery, the submit_sm,
#: its part ids) -> the message's ``reports``
Reporter = Callable[["Session", int, Any, tuple[str, ...]], Callable[[Message], None]]
Answer = tuple[int, str | None, str | None]


class Intake:
    def __init__(self, ctx: Context, providers: dict[str, Provider], reporter: Reporter) -> None:
        self.ctx = ctx
        self.providers = providers
        self.reporter = reporter
        self.reassembly = text.Reassembly()

    def submit(self, session: Session, pdu: Any) -> Answer:
        """``(command_status, message_id, reason)`` for a submit_sm."""
        assert session.account is not None
        provider = self.providers[session.account.provider]
        source, destination = codec.text(pdu.source_addr), codec.text(pdu.destination_addr)
        magic = MAGIC_STATUS.match(destination)
        if magic and int(magic.group(1)) in codec.STATUS_NAMES and int(magic.group(1)):
            status = int(magic.group(1))
            return status, None, f"magic number {destination}: {codec.status_name(status)}"
        try:
            provider.check_addresses(source, destination.removeprefix("+"))
            fragment = text.decode_user_data(
                data_coding=pdu.data_coding, esm_class=pdu.esm_class,
                short_message=pdu.short_message or b"",
                message_payload=getattr(pdu, "message_payload", None),
                sar_msg_ref_num=getattr(pdu, "sar_msg_ref_num", None),
                sar_total_segments=getattr(pdu, "sar_total_segments", None),
                sar_segment_seqnum=getattr(pdu, "sar_segment_seqnum", None))
        except Refused as exc:
            return _STATUS[_REFUSALS[exc.field]], None, str(exc)
        except text.TextError as exc:
            return _STATUS[exc.status], None, f"{exc.field}: {exc}"
        part_id = provider.new_message_id() if fragment.concat is not None else None
        now = self.ctx.clock.now()
        self._expire_parts(now)
        replaced = self.reassembly.replaced
        try:
            assembled = self.reassembly.add(session.account.system_id, source, destination,
                                            fragment, part_id, now)
        except text.TextError as exc:
            return _STATUS[exc.status], None, f"{exc.field}: {exc}"
        if self.reassembly.replaced != replaced and fragment.concat is not None:
            self.ctx.journal.record(
                "smpp_part_replaced", session.provider, session=session.id,
                reference=fragment.concat.reference, sequence=fragment.concat.sequence,
                part_id=part_id, reason="a part with this sequence number had come already; "
                                        "the later one replaces it")
        if assembled is None:
            return 0, part_id, None  # the message is stored when its last part comes
        registered = int(pdu.registered_delivery or 0)
        part_ids = tuple(k for k in assembled.keys if k is not None)
        details = {"via": VIA, "smpp": {
            "system_id": session.account.system_id, "session": session.id,
            "registered_delivery": registered, "data_coding": assembled.data_coding,
            "esm_class": pdu.esm_class, "concatenation": fragment.concat_via,
            "part_ids": list(part_ids)}}
        submission = Submission(
            sender=source, to=destination.removeprefix("+"), text=assembled.text,
            # IA5 (1) is not an SMS alphabet of the providers: the one its text fits
            encoding=(assembled.data_coding if assembled.data_coding in SUPPORTED
                      else choose(assembled.text)),
            parts=assembled.parts, part_ids=part_ids,
            reference=assembled.concat.reference if assembled.concat else 0, details=details,
            reports=self.reporter(session, registered, pdu, part_ids))
        try:
            message = provider.submit(submission)
        except Refused as exc:
            return _STATUS[_REFUSALS[exc.field]], None, str(exc)
        return 0, part_id or message.id, None

    def _expire_parts(self, now: float) -> None:
        for lost in self.reassembly.expire(now - REASSEMBLY_SECONDS):
            self.ctx.journal.record(
                "smpp_parts_incomplete", None, system_id=lost.owner, source_addr=lost.source,
                destination_addr=lost.destination, reference=lost.reference, total=lost.total,
                received=list(lost.received), part_ids=[k for k in lost.keys if k],
                reason=f"the other parts did not come within {REASSEMBLY_SECONDS:g} s")

    def query(self, session: Session, pdu: Any) -> tuple[int, dict[str, Any], str | None]:
        message_id = codec.text(pdu.message_id)
        message = self.ctx.store.get(message_id)
        if message is None or message.provider != session.provider:
            return _STATUS["ESME_RQUERYFAIL"], {}, f"no message {message_id!r}"
        state = self.providers[message.provider].receipt_state(message)
        final_date = receipts.smpp_time(message.updated_at) if state is not None else ""
        return 0, {"message_id": message_id, "final_date": final_date,
                   "message_state": state.message_state if state else 1,
                   "error_code": 0}, None
