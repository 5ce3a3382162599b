"""deliver_sm out: receipts and MO messages, sent as dispatcher deliveries to
``smpp://<system_id>``, the dispatcher's transport for that scheme.

- **Receipts**: when ``registered_delivery`` asks (1: any final status, 2: failures only) the
  final status goes out as deliver_sm, esm_class 0x04, with the Appendix B text and the
  ``receipted_message_id``/``message_state`` TLVs (:mod:`emulator.smpp.receipts`), one per
  part submitted, addresses swapped.
- **MO**: a provider routes an inbound message here (``Context.outlets["smpp"]``); it goes to
  the provider's first account as deliver_sm, esm_class 0, long text as UDH parts.
- **Delivery**: every attempt in the journal and ``/_emulator/deliveries``, retried by
  ``smpp.retry`` when no deliver_sm_resp comes within ``smpp.response_timeout_seconds`` or it
  is an error, ending delivered or exhausted. While no receiver or transceiver of the system_id
  is bound a delivery is held, and goes out when one binds (the listener releases it).
"""

from __future__ import annotations

import asyncio
import json
from time import perf_counter
from typing import TYPE_CHECKING, Any

from emulator.core.dispatcher import Delivery, RetryPolicy
from emulator.core.store import Message
from emulator.core.webhook_post import Outcome
from emulator.smpp import accounts, codec, receipts, text
from emulator.smpp.session import Session, SessionClosed

if TYPE_CHECKING:
    from emulator.smpp.listener import SmppServer

SCHEME = "smpp"


def url_of(system_id: str) -> str:
    return f"{SCHEME}://{system_id}"


class Outlet:
    def __init__(self, server: SmppServer) -> None:
        self.server = server
        self.ctx = server.ctx

    def policy(self) -> RetryPolicy:
        retry = self.server.section["retry"]
        delays = (float(retry["delay_seconds"]),) * (int(retry["attempts"]) - 1)
        return RetryPolicy("smpp", delays, success=lambda status: status == 0)

    def reporter(self, session: Session, registered: int, pdu: Any,
                 part_ids: tuple[str, ...]):
        """The ``reports`` hook of a submitted message: its receipts, when asked for."""
        assert session.account is not None
        account = session.account
        addresses = receipts.Addresses(
            source=codec.text(pdu.source_addr), source_ton=pdu.source_addr_ton,
            source_npi=pdu.source_addr_npi, destination=codec.text(pdu.destination_addr),
            destination_ton=pdu.dest_addr_ton, destination_npi=pdu.dest_addr_npi)

        def report(message: Message) -> None:
            state = self.server.providers[message.provider].receipt_state(message)
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
        if not self.server.listening:
            return "SMPP is off (serve --smpp-port)"
        account = accounts.first_of(self.server.section, provider)
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

    # -- the dispatcher's transport for smpp:// -------------------------------------------
    def _receiver(self, system_id: str) -> Session | None:
        return next((s for s in self.server.sessions.values()
                     if s.receives and s.system_id == system_id), None)

    def waiting_for(self, url: str) -> str | None:
        system_id = url.removeprefix(f"{SCHEME}://")
        if not self.server.listening:
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
        limit = self.server.response_timeout
        try:
            async with asyncio.timeout(limit):
                for fields in json.loads(body)["pdus"]:
                    outcome.status = await session.request("deliver_sm",
                                                           **receipts.wire_fields(fields))
                    if outcome.status != 0:
                        break
        except TimeoutError:
            outcome.status = None
            outcome.error = (f"timeout: no deliver_sm_resp within {limit:g} s "
                             f"(session {session.id})")
        except SessionClosed:
            outcome.status = None
            outcome.error = f"session {session.id} closed before it answered"
        finally:
            outcome.latency_ms = round((perf_counter() - started) * 1000, 3)

    def describe(self, status: int) -> str:
        return f"deliver_sm_resp {codec.status_name(status)}"
