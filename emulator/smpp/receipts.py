"""The deliver_sm PDUs the emulator sends: delivery receipts and MO messages.

A PDU is kept as a JSON object of its fields (the delivery's body, which
``/_emulator/deliveries`` shows); :func:`wire_fields` turns one into the codec's arguments.
Binary user data (an MO part: UDH and text) is kept as ``short_message_hex``; a receipt's text,
printable ASCII, as ``short_message``.

**Receipt text** (SMPP 3.4 Appendix B, in the lowercase ``text:`` most SMSCs write):
``id:<message id> sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD
err:000 text:<first 20 characters>``. ``dlvrd`` is ``001`` only when delivered. The dates are
the emulated times of the submit and of the final status, in UTC. ``err`` is the provider's
(Telesign: its status code; TSG: ``delivery_error_code``). The TLVs ``receipted_message_id``
(the id the submit_sm_resp gave) and ``message_state`` go with it. Addresses are the submit's,
swapped, with their TON and NPI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from emulator.core.store import Message
from emulator.providers.transport import ReceiptState
from emulator.smpp.text import UDHI

RECEIPT_ESM_CLASS = 0x04
TEXT_CHARACTERS = 20


@dataclass(frozen=True)
class Addresses:
    """A submit_sm's addresses, which its receipts swap."""

    source: str
    source_ton: int
    source_npi: int
    destination: str
    destination_ton: int
    destination_npi: int


def wanted(registered_delivery: int, state: ReceiptState) -> bool:
    """Bits 1-0 of ``registered_delivery``: 1 any final state, 2 failures only."""
    mode = registered_delivery & 0x03
    return mode == 1 or (mode == 2 and not state.delivered)


def minutes(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%y%m%d%H%M")


def smpp_time(at: float) -> str:
    """An absolute SMPP time, ``YYMMDDhhmmsstnnp`` in UTC (query_sm_resp ``final_date``)."""
    moment = datetime.fromtimestamp(at, UTC)
    return moment.strftime("%y%m%d%H%M%S") + f"{moment.microsecond // 100_000}00+"


def _printable(text: str) -> str:
    """Receipt readers take the text as ASCII: anything else reads ``?``."""
    return "".join(char if " " <= char <= "~" else "?" for char in text)


def receipt_text(message_id: str, state: ReceiptState, submitted: float, done: float,
                 text: str) -> str:
    delivered = "001" if state.delivered else "000"
    return (f"id:{message_id} sub:001 dlvrd:{delivered} submit date:{minutes(submitted)} "
            f"done date:{minutes(done)} stat:{state.stat} err:{state.err} "
            f"text:{_printable(text[:TEXT_CHARACTERS])}")


def deliver_sm(message: Message, receipted_id: str, state: ReceiptState, addresses: Addresses,
               now: float) -> dict[str, Any]:
    return {
        "source_addr": addresses.destination, "source_addr_ton": addresses.destination_ton,
        "source_addr_npi": addresses.destination_npi,
        "destination_addr": addresses.source, "dest_addr_ton": addresses.source_ton,
        "dest_addr_npi": addresses.source_npi,
        "esm_class": RECEIPT_ESM_CLASS, "data_coding": 0,
        "short_message": receipt_text(receipted_id, state, message.created_at, now,
                                      message.text),
        "receipted_message_id": receipted_id, "message_state": state.message_state,
    }


def mo_deliver_sm(message: Message, part: Any) -> dict[str, Any]:
    """One part of an MO message (a :class:`~emulator.smpp.text.OutboundPart`), from the end
    user (international TON/NPI 1/1) to the number they wrote to."""
    return {
        "source_addr": message.from_ or "", "source_addr_ton": 1, "source_addr_npi": 1,
        "destination_addr": message.to, "dest_addr_ton": 1, "dest_addr_npi": 1,
        "esm_class": UDHI if part.esm_class_udhi else 0, "data_coding": part.data_coding,
        "short_message_hex": part.short_message.hex(),
    }


def wire_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A kept PDU as the codec's keyword arguments."""
    found = dict(fields)
    if "short_message_hex" in found:
        found["short_message"] = bytes.fromhex(found.pop("short_message_hex"))
    elif isinstance(found.get("short_message"), str):
        found["short_message"] = found["short_message"].encode("ascii", "replace")
    return found
