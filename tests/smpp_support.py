"""An ESME for the tests: ``smpplib``'s client (a real SMPP peer nobody here wrote) bound to the
emulator over loopback, with a reader thread that keeps what the emulator sends.

smpplib is synchronous; every blocking call runs in a thread (``await esme.call(...)``) so the
emulator keeps serving on the test's event loop. Waits are bounded (:data:`WAIT`): a PDU that
never comes fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any

import smpplib.client
import smpplib.consts
import smpplib.exceptions

WAIT = 10.0


class Esme:
    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.client = smpplib.client.Client(host, port, timeout=WAIT,
                                            allow_unknown_opt_params=True)
        #: answers to our requests (submit_sm_resp, query_sm_resp, error answers), in order
        self.answers: queue.Queue[Any] = queue.Queue()
        self.delivered: queue.Queue[Any] = queue.Queue()
        #: what each deliver_sm is answered with (a command_status); ``None``: ESME_ROK
        self.answer: Callable[[Any], int | None] = lambda pdu: None
        self._reader: threading.Thread | None = None
        self._closing = False
        keep = lambda pdu, **_: self.answers.put(pdu)  # noqa: E731 - smpplib passes pdu=
        self.client.set_message_sent_handler(keep)
        self.client.set_message_received_handler(self._received)
        self.client.set_query_resp_handler(keep)
        self.client.set_error_pdu_handler(keep)

    def _received(self, pdu: Any, **_: Any) -> int | None:
        self.delivered.put(pdu)
        return self.answer(pdu)

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def bind(self, system_id: str, password: str = "emulator",
                   kind: str = "transceiver") -> Any:
        if self.client.state == smpplib.consts.SMPP_CLIENT_STATE_CLOSED:
            await self.call(self.client.connect)
        return await self.call(getattr(self.client, f"bind_{kind}"), system_id=system_id,
                               password=password)

    def start_reading(self) -> None:
        """Read and act on every PDU in a thread (answering deliver_sm and enquire_link)."""

        def loop() -> None:
            try:
                while True:
                    self.client.read_once(auto_send_enquire_link=False)
            except (smpplib.exceptions.ConnectionError, OSError):
                return  # the session ended
            except Exception:
                if not self._closing:  # anything else while the test is closing is its doing
                    raise

        self._reader = threading.Thread(target=loop, daemon=True)
        self._reader.start()

    async def submit(self, **fields: Any) -> Any:
        """Send a submit_sm and wait for its answer (the reader must be running)."""
        fields.setdefault("source_addr", "15550001111")
        fields.setdefault("source_addr_ton", 1)
        fields.setdefault("source_addr_npi", 1)
        fields.setdefault("dest_addr_ton", 1)
        fields.setdefault("dest_addr_npi", 1)
        pdu = await self.call(self.client.send_message, **fields)
        return await self.answer_to(pdu.sequence)

    async def answer_to(self, sequence: int) -> Any:
        while True:
            found = await self.call(self.answers.get, timeout=WAIT)
            if found.sequence == sequence:
                return found

    async def next_delivered(self) -> Any:
        return await self.call(self.delivered.get, timeout=WAIT)

    async def close(self) -> None:
        self._closing = True
        try:
            if self.client.state not in (smpplib.consts.SMPP_CLIENT_STATE_CLOSED,
                                         smpplib.consts.SMPP_CLIENT_STATE_OPEN):
                self.client.send_pdu(smpplib.smpp.make_pdu("unbind", client=self.client))
        except (smpplib.exceptions.ConnectionError, OSError):
            pass
        await self.call(self.client.disconnect)
        if self._reader is not None:
            await self.call(self._reader.join, WAIT)
