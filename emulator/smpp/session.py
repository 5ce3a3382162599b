"""One SMPP connection: framing, the bind state machine, answers, and the emulator's own
requests (deliver_sm) with their window.

What the session does itself (the :class:`~emulator.smpp.listener.SmppServer` and its
:mod:`~emulator.smpp.intake` and :mod:`~emulator.smpp.outlet` do the rest: accounts, messages,
receipts):

- **Framing.** PDUs are cut from the byte stream by ``command_length``. A length no PDU can have
  (below 16, above the codec's maximum: garbage, a 4 GB length) gets ``generic_nack``
  ``ESME_RINVCMDLEN`` and the connection is closed, since nothing after it can be trusted.
  A truncated PDU simply waits for its remaining bytes (and a connection that goes quiet
  unbound is closed after ``smpp.session_init_seconds``).
- **A PDU the codec cannot use** gets ``generic_nack`` with ``ESME_RINVCMDID`` (unknown or not
  emulated command) or ``ESME_RINVCMDLEN`` (a body shorter than its fields), and the session
  goes on.
- **State.** Before a bind only bind_* and enquire_link are answered; anything else gets its
  ``_resp`` with ``ESME_RINVBNDSTS``. A second bind gets ``ESME_RALYBND``. submit_sm and
  query_sm need a transmitter or transceiver bind. unbind is answered and the connection
  closed.
- **Windows.** The emulator's own requests (deliver_sm) wait for a place when ``smpp.window``
  of them are unanswered. An ESME that stops reading (the kernel's buffers full) is not read
  from either, so its requests wait in its own socket; if it reads nothing for
  ``smpp.response_timeout_seconds`` the connection is aborted.
- **Journal.** Every PDU in and out is a ``smpp_pdu`` entry: session, direction, command,
  sequence number, status, and a few fields; what went wrong with a connection is a
  ``smpp_session_closed`` entry with its reason.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import time
from typing import TYPE_CHECKING, Any

from emulator.core.timefmt import iso_micro_z
from emulator.smpp import codec
from emulator.smpp.accounts import Account

if TYPE_CHECKING:
    from emulator.smpp.listener import SmppServer

log = logging.getLogger("sms_emulator")

BINDS = {"bind_transmitter": "transmitter", "bind_receiver": "receiver",
         "bind_transceiver": "transceiver"}
#: binds that may submit, and binds that receive deliver_sm
SENDERS = frozenset({"transmitter", "transceiver"})
RECEIVERS = frozenset({"receiver", "transceiver"})
#: requests an ESME may send in any state, and those needing a sending bind
_ANY_STATE = frozenset({"enquire_link", "unbind", *BINDS})
_NEED_SENDER = frozenset({"submit_sm", "query_sm"})
_STATUS = codec.STATUS
#: the bytes one session may have unsent (in its buffer, and in the kernel's) before it stops
#: being read: SMPP PDUs are small, and a bound keeps a client that never reads cheap
_WRITE_HIGH_WATER = 64 * 1024
_SOCKET_SEND_BUFFER = 64 * 1024


class SessionClosed(ConnectionError):
    """The session ended before the ESME answered."""


class Session(asyncio.Protocol):
    def __init__(self, server: SmppServer, session_id: str) -> None:
        self.server = server
        self.id = session_id
        self.bind: str | None = None
        self.account: Account | None = None
        self.peer = ""
        self.connected_at = time.time()
        self.bound_at: float | None = None
        self.pdus_in = 0
        self.pdus_out = 0
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._sequences = itertools.count(1)
        self._outstanding: dict[int, asyncio.Future[int]] = {}
        self._window = asyncio.Semaphore(server.window)
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._closed = False

    # -- what the listener and the API read ------------------------------------------------
    @property
    def system_id(self) -> str | None:
        return self.account.system_id if self.account else None

    @property
    def provider(self) -> str | None:
        return self.account.provider if self.account else None

    @property
    def receives(self) -> bool:
        return not self._closed and self.bind in RECEIVERS

    @property
    def outstanding(self) -> int:
        return len(self._outstanding)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "system_id": self.system_id, "provider": self.provider,
                "bind": self.bind, "peer": self.peer,
                "connected_at": iso_micro_z(self.connected_at),
                "bound_at": None if self.bound_at is None else iso_micro_z(self.bound_at),
                "pdus_in": self.pdus_in, "pdus_out": self.pdus_out,
                "outstanding": self.outstanding}

    # -- the connection ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=_WRITE_HIGH_WATER)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SOCKET_SEND_BUFFER)
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "")
        if not self.server.opened(self):
            self._closed = True
            transport.abort()
            return
        self._arm("init", self.server.session_init_seconds,
                  lambda: self.close(f"not bound within {self.server.session_init_seconds:g} s"))

    def data_received(self, data: bytes) -> None:
        if self._closed:
            return
        self._buffer += data
        while len(self._buffer) >= codec.HEADER_LENGTH and not self._closed:
            try:
                header = codec.read_header(self._buffer)
            except codec.FramingError as exc:
                self.server.journal_pdu(self, "in", exc.header, reason=str(exc))
                self._send("generic_nack", exc.header.sequence, _STATUS["ESME_RINVCMDLEN"])
                self.close(f"framing lost: {exc}")
                return
            if len(self._buffer) < header.length:
                return  # the rest of the PDU is still on its way
            raw = bytes(self._buffer[:header.length])
            del self._buffer[:header.length]
            self.pdus_in += 1
            try:
                self._handle(header, raw)
            except Exception as exc:  # a bug of ours: answer it, and keep the session
                log.exception("unhandled error on SMPP %s", header.command)
                self.server.ctx.journal.record(
                    "internal_error", self.provider, session=self.id, command=header.command,
                    error=f"{type(exc).__name__}: {exc}")
                self._send("generic_nack", header.sequence, _STATUS["ESME_RSYSERR"])

    def connection_lost(self, exc: Exception | None) -> None:
        was_closed = self._closed
        self._closed = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for future in self._outstanding.values():
            if not future.done():
                future.set_exception(SessionClosed("the session closed before it answered"))
        self._outstanding.clear()
        if not was_closed:
            self.server.journal_closed(self, "the ESME closed the connection"
                                       if exc is None else f"connection lost: {exc}")
        self.server.closed(self)

    def pause_writing(self) -> None:
        # the ESME reads nothing: read nothing from it either, and give it a while
        if self.transport is not None:
            self.transport.pause_reading()
        self._arm("write", self.server.response_timeout,
                  lambda: self.close("the ESME read nothing for "
                                     f"{self.server.response_timeout:g} s", abort=True))

    def resume_writing(self) -> None:
        self._disarm("write")
        if self.transport is not None and not self._closed:
            self.transport.resume_reading()

    def close(self, reason: str, abort: bool = False) -> None:
        """End the session (the reason is journaled); a no-op once closed."""
        if self._closed or self.transport is None:
            return
        self._closed = True
        self.server.journal_closed(self, reason)
        if abort or self.transport.get_write_buffer_size():
            self.transport.abort()
        else:
            self.transport.close()

    # -- PDUs in ----------------------------------------------------------------------------
    def _handle(self, header: codec.Header, raw: bytes) -> None:
        if header.is_response:
            self._answered(header)
            return
        try:
            pdu = codec.decode(raw)
        except codec.PduError as exc:
            self.server.journal_pdu(self, "in", header, reason=str(exc))
            self._send("generic_nack", header.sequence, exc.status)
            return
        command = header.command
        self.server.journal_pdu(self, "in", header, fields=self.server.summary(command, pdu))
        if command not in _ANY_STATE and self.bind is None:
            self._answer(command, header.sequence, _STATUS["ESME_RINVBNDSTS"],
                         reason="not bound")
        elif command in BINDS:
            self._bind(command, header.sequence, pdu)
        elif command == "enquire_link":
            self._send("enquire_link_resp", header.sequence)
        elif command == "unbind":
            self._send("unbind_resp", header.sequence)
            self.close("unbound by the ESME")
        elif command in _NEED_SENDER and self.bind not in SENDERS:
            self._answer(command, header.sequence, _STATUS["ESME_RINVBNDSTS"],
                         reason=f"bound as {self.bind}")
        elif command == "submit_sm":
            status, message_id, reason = self.server.intake.submit(self, pdu)
            self._send("submit_sm_resp", header.sequence, status, reason=reason,
                       message_id=message_id or "")
        elif command == "query_sm":
            status, fields, reason = self.server.intake.query(self, pdu)
            self._send("query_sm_resp", header.sequence, status, reason=reason, **fields)
        else:  # deliver_sm from an ESME, cancel_sm, replace_sm, submit_multi, data_sm, ...
            self.server.journal_pdu(self, "in", header, reason=f"{command} is not emulated")
            self._send("generic_nack", header.sequence, _STATUS["ESME_RINVCMDID"])

    def _answer(self, command: str, sequence: int, status: int, reason: str) -> None:
        """``command``'s ``_resp`` with an error status (a generic_nack when it has none)."""
        name = f"{command}_resp"
        self._send(name if name in codec.COMMAND_IDS else "generic_nack", sequence, status,
                   reason=reason)

    def _bind(self, command: str, sequence: int, pdu: Any) -> None:
        answer = f"{command}_resp"
        if self.bind is not None:
            self._send(answer, sequence, _STATUS["ESME_RALYBND"], reason=f"already bound as "
                                                                         f"{self.bind}")
            return
        system_id, password = codec.text(pdu.system_id), codec.text(pdu.password)
        account = self.server.account(system_id)
        if account is None:
            self._send(answer, sequence, _STATUS["ESME_RINVSYSID"],
                       reason=f"no account {system_id!r}")
            return
        if password != account.password:
            self._send(answer, sequence, _STATUS["ESME_RINVPASWD"],
                       reason=f"wrong password for {system_id!r}")
            return
        self._disarm("init")
        self.account = account
        self.bind = BINDS[command]
        self.bound_at = time.time()
        self._send(answer, sequence, system_id=self.server.smsc_system_id)
        self.server.bound(self)

    def _answered(self, header: codec.Header) -> None:
        self.server.journal_pdu(self, "in", header)
        future = self._outstanding.pop(header.sequence, None)
        if future is None:
            if header.command != "enquire_link_resp":
                self.server.journal_pdu(self, "in", header, reason="answers no request "
                                        "outstanding (late, after its timeout, or unknown)")
            return
        if not future.done():
            future.set_result(header.status)

    # -- PDUs out ---------------------------------------------------------------------------
    def _send(self, command: str, sequence: int, status: int = 0, reason: str | None = None,
              **fields: Any) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        data = codec.encode(command, sequence, status, **fields)
        self.pdus_out += 1
        header = codec.Header(len(data), codec.COMMAND_IDS[command], status, sequence)
        self.server.journal_pdu(self, "out", header, reason=reason,
                                fields=self.server.summary(command, fields))
        self.transport.write(data)

    async def request(self, command: str, **fields: Any) -> int:
        """Send a request of ours and wait for its answer's command_status (a generic_nack's
        too); :class:`SessionClosed` if the session ends first. The caller sets the timeout;
        a place in the window is held until the answer or the timeout."""
        async with self._window:
            if self._closed:
                raise SessionClosed("the session is closed")
            sequence = next(self._sequences) % 0x7FFFFFFF or next(self._sequences)
            future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            self._outstanding[sequence] = future
            try:
                self._send(command, sequence, **fields)
                return await future
            finally:
                self._outstanding.pop(sequence, None)

    # -- timers (real seconds) --------------------------------------------------------------
    def _arm(self, name: str, seconds: float, action: Any) -> None:
        self._disarm(name)
        self._timers[name] = asyncio.get_running_loop().call_later(seconds, action)

    def _disarm(self, name: str) -> None:
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()
