"""The SMPP 3.4 listener: accounts, sessions, submit_sm into the providers' messages, and
deliver_sm (receipts and MO) through the one webhook dispatcher.

- **Accounts** (``smpp.accounts``): a bind names a system_id and password; the account's
  provider decides whose messages, lifecycle, statuses, magic numbers and opt-outs the
  session's traffic gets.
- **submit_sm** becomes the message a REST send makes (``Provider.submit``), with
  ``details.via: smpp`` and ``details.smpp`` (system_id, session, registered_delivery,
  data_coding, part ids). Its text is decoded by ``data_coding``; a long message comes as UDH
  parts, ``sar_*`` parts or one ``message_payload``, and is stored once its last part has come
  (each part is answered at once, with an id of its own that stays an alias of the message).
  A ``destination_addr`` of ``15005559`` + a three-digit number answers that command_status
  (``15005559088`` ESME_RTHROTTLED, ``15005559020`` ESME_RMSGQFUL), for testing back-off.
- **Receipts**: when ``registered_delivery`` asks (1: any final status, 2: failures only) the
  final status goes out as deliver_sm, esm_class 0x04, with the Appendix B text and the
  ``receipted_message_id``/``message_state`` TLVs (:mod:`emulator.smpp.receipts`), one per
  part submitted, addresses swapped.
- **MO**: a provider routes an inbound message here (``Context.outlets["smpp"]``); it goes to
  the provider's first account as deliver_sm, esm_class 0, long text as UDH parts.
- **Delivery**: receipts and MO are dispatcher deliveries to ``smpp://<system_id>``: every
  attempt in the journal and ``/_emulator/deliveries``, retried by ``smpp.retry`` when no
  deliver_sm_resp comes within ``smpp.response_timeout_seconds`` or it is an error, ending
  delivered or exhausted. While no receiver or transceiver of the system_id is bound a
  delivery is held, and goes out when one binds.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from time import perf_counter
from typing import Any

from emulator.core.context import Context
from emulator.core.dispatcher import Delivery, RetryPolicy
from emulator.core.store import Message
from emulator.core.timefmt import iso_micro_z
from emulator.core.webhook_post import Outcome
from emulator.providers.base import Provider, takes_submissions
from emulator.providers.transport import Refused, Submission
from emulator.smpp import accounts, codec, receipts, text
from emulator.smpp.accounts import Account
from emulator.smpp.session import Session, SessionClosed
from emulator.sms.encoding import SUPPORTED, choose

SCHEME = "smpp"
#: ``15005559`` + a command_status in decimal: the submit is answered with that status
MAGIC_STATUS = re.compile(r"^\+?15005559(\d{3})$")
#: how long the parts of a concatenated message wait for their siblings (emulated seconds)
REASSEMBLY_SECONDS = 600.0
_STATUS = codec.STATUS
_REFUSALS = {"destination": "ESME_RINVDSTADR", "source": "ESME_RINVSRCADR",
             "text": "ESME_RSUBMITFAIL", "provider": "ESME_RSYSERR"}


def url_of(system_id: str) -> str:
    return f"{SCHEME}://{system_id}"


class SmppServer:
    def __init__(self, ctx: Context, providers: dict[str, Provider]) -> None:
        self.ctx = ctx
        self.providers = {name: p for name, p in providers.items()
                          if takes_submissions(type(p))}
        self.sessions: dict[str, Session] = {}
        self._ids = itertools.count(1)
        self._server: asyncio.Server | None = None
        self.port: int | None = None
        self.host: str | None = None
        self.reassembly = text.Reassembly()
        ctx.dispatcher.register(SCHEME, self)
        ctx.outlets[SCHEME] = self

    # -- settings (read at use, so PATCH /_emulator/config applies) -------------------------
    @property
    def section(self) -> dict[str, Any]:
        return self.ctx.config.section("smpp")

    @property
    def window(self) -> int:
        return int(self.section["window"])

    @property
    def response_timeout(self) -> float:
        return float(self.section["response_timeout_seconds"])

    @property
    def session_init_seconds(self) -> float:
        return float(self.section["session_init_seconds"])

    @property
    def smsc_system_id(self) -> str:
        return self.section["system_id"]

    def account(self, system_id: str) -> Account | None:
        return accounts.find(self.section, system_id)

    def policy(self) -> RetryPolicy:
        retry = self.section["retry"]
        delays = (float(retry["delay_seconds"]),) * (int(retry["attempts"]) - 1)
        return RetryPolicy("smpp", delays, success=lambda status: status == 0)

    # -- listening --------------------------------------------------------------------------
    async def start(self, host: str, port: int) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: Session(self, f"S{next(self._ids):04d}"), host, port)
        self.host = host
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for session in list(self.sessions.values()):
            session.close("the emulator is stopping")
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def opened(self, session: Session) -> bool:
        if len(self.sessions) >= int(self.section["max_sessions"]):
            self.ctx.journal.record("smpp_refused", None, session=session.id, peer=session.peer,
                                    reason=f"{len(self.sessions)} sessions open already "
                                           "(smpp.max_sessions)")
            return False
        self.sessions[session.id] = session
        self.ctx.journal.record("smpp_connected", None, session=session.id, peer=session.peer)
        return True

    def bound(self, session: Session) -> None:
        assert session.account is not None
        self.ctx.journal.record("smpp_bound", session.provider, session=session.id,
                                system_id=session.system_id, bind=session.bind)
        if session.receives:
            self.ctx.dispatcher.release(url_of(session.account.system_id))

    def closed(self, session: Session) -> None:
        self.sessions.pop(session.id, None)

    def journal_closed(self, session: Session, reason: str) -> None:
        self.ctx.journal.record("smpp_session_closed", session.provider, session=session.id,
                                system_id=session.system_id, reason=reason)

    def journal_pdu(self, session: Session, direction: str, header: codec.Header,
                    reason: str | None = None, fields: dict[str, Any] | None = None) -> None:
        self.ctx.journal.record(
            "smpp_pdu", session.provider, session=session.id, system_id=session.system_id,
            direction=direction, command=header.command, sequence=header.sequence,
            status=codec.status_name(header.status), reason=reason, **(fields or {}))

    @staticmethod
    def summary(command: str, pdu: Any) -> dict[str, Any]:
        """The few fields of a PDU the journal keeps (numbers and ids, not texts)."""
        get = pdu.get if isinstance(pdu, dict) else lambda name: getattr(pdu, name, None)
        found = {}
        for name in ("source_addr", "destination_addr", "message_id", "receipted_message_id"):
            value = get(name)
            if value not in (None, b"", ""):
                found[name] = codec.text(value)
        if command in ("submit_sm", "deliver_sm"):
            for name in ("esm_class", "data_coding", "registered_delivery"):
                if get(name) is not None:
                    found[name] = get(name)
        return found

    # -- submit_sm and query_sm -------------------------------------------------------------
    def submit(self, session: Session, pdu: Any) -> tuple[int, str | None, str | None]:
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
        details = {"via": SCHEME, "smpp": {
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
            reports=self._reporter(session.account, registered, source, destination,
                                   pdu, part_ids))
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

    # -- receipts and MO out ----------------------------------------------------------------
    def _reporter(self, account: Account, registered: int, source: str, destination: str,
                  pdu: Any, part_ids: tuple[str, ...]):
        addresses = receipts.Addresses(
            source=source, source_ton=pdu.source_addr_ton, source_npi=pdu.source_addr_npi,
            destination=destination, destination_ton=pdu.dest_addr_ton,
            destination_npi=pdu.dest_addr_npi)

        def report(message: Message) -> None:
            state = self.providers[message.provider].receipt_state(message)
            if state is None or not receipts.wanted(registered, state):
                return
            ids = part_ids or (message.id,)
            pdus = [receipts.deliver_sm(message, part, state, addresses, self.ctx.clock.now())
                    for part in ids]
            self._queue(message.provider, account.system_id, "smpp_receipt", pdus, message.id,
                        f"status {message.status} {state.stat}")

        return report

    def deliver(self, provider: str, message: Message) -> Delivery | str:
        """An inbound message routed to SMPP by its provider (see ``MoOutlet``)."""
        if self._server is None:
            return "SMPP is off (serve --smpp-port)"
        account = accounts.first_of(self.section, provider)
        if account is None:
            return f"no smpp.accounts entry has provider {provider}"
        try:
            parts = text.mo_parts(message.text, self.ctx.rng.randint(0, 255))
        except text.TextError as exc:
            return f"text: {exc}"
        pdus = [receipts.mo_deliver_sm(message, part) for part in parts]
        return self._queue(provider, account.system_id, "smpp_mo", pdus, message.id,
                           f"inbound {message.channel}")

    def _queue(self, provider: str, system_id: str, kind: str, pdus: list[dict[str, Any]],
               message_id: str, cause: str) -> Delivery:
        body = json.dumps({"pdus": pdus}, ensure_ascii=False).encode()
        return self.ctx.dispatcher.submit(provider=provider, kind=kind, url=url_of(system_id),
                                          body=body, policy=self.policy(),
                                          headers=lambda body, at: {}, message_id=message_id,
                                          cause=cause)

    # -- the dispatcher's transport for smpp:// ---------------------------------------------
    def _receiver(self, system_id: str) -> Session | None:
        return next((s for s in self.sessions.values()
                     if s.receives and s.system_id == system_id), None)

    def waiting_for(self, url: str) -> str | None:
        system_id = url.removeprefix(f"{SCHEME}://")
        if self._server is None:
            return "SMPP is off (serve --smpp-port)"
        if self._receiver(system_id) is None:
            return f"waiting for a receiver or transceiver bind of {system_id!r}"
        return None

    async def send(self, url: str, body: bytes, headers: dict[str, str], timeout: float,
                   outcome: Outcome) -> None:
        session = self._receiver(url.removeprefix(f"{SCHEME}://"))
        if session is None:
            outcome.error = "no receiver bound any more"
            return
        outcome.sent = True
        started = perf_counter()
        try:
            async with asyncio.timeout(self.response_timeout):
                for fields in json.loads(body)["pdus"]:
                    outcome.status = await session.request("deliver_sm",
                                                           **receipts.wire_fields(fields))
                    if outcome.status != 0:
                        break
        except TimeoutError:
            outcome.status = None
            outcome.error = (f"timeout: no deliver_sm_resp within {self.response_timeout:g} s "
                             f"(session {session.id})")
        except SessionClosed:
            outcome.status = None
            outcome.error = f"session {session.id} closed before it answered"
        finally:
            outcome.latency_ms = round((perf_counter() - started) * 1000, 3)

    def describe(self, status: int) -> str:
        return f"deliver_sm_resp {codec.status_name(status)}"

    # -- the control API --------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"listening": self.port is not None, "host": self.host, "port": self.port,
                "sessions": [s.to_json() for s in self.sessions.values()],
                "now": iso_micro_z(self.ctx.clock.now())}

    def banner(self) -> list[str]:
        lines = [f"SMPP 3.4   {self.host}:{self.port}  (system_id {self.smsc_system_id})"]
        for account in accounts.accounts(self.section):
            lines.append(f"  bind as      {account.system_id} / {account.password}  "
                         f"-> {account.provider}")
        return lines
