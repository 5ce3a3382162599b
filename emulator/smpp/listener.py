"""The SMPP 3.4 listener: accounts, the open sessions, and what the control API shows of them.

A bind names a system_id and password of ``smpp.accounts``; the account's provider decides
whose messages, lifecycle, statuses, magic numbers and opt-outs the session's traffic gets.
What a session's submit_sm and query_sm do is :mod:`emulator.smpp.intake`'s; what goes out as
deliver_sm (receipts, MO) is :mod:`emulator.smpp.outlet`'s. When a receiver or transceiver
binds, deliveries held for its system_id go out.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from emulator.core.context import Context
from emulator.core.timefmt import iso_micro_z
from emulator.providers.base import Provider, takes_submissions
from emulator.smpp import accounts, codec
from emulator.smpp.accounts import Account
from emulator.smpp.intake import Intake
from emulator.smpp.outlet import SCHEME, Outlet, url_of
from emulator.smpp.session import Session


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
        self.outlet = Outlet(self)
        self.intake = Intake(ctx, self.providers, self.outlet.reporter)
        ctx.dispatcher.register(SCHEME, self.outlet)
        ctx.outlets[SCHEME] = self.outlet

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

    @property
    def listening(self) -> bool:
        return self._server is not None

    def reset(self) -> None:
        self.intake.reassembly.clear()

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
