"""SMPP 3.4 PDUs as bytes and back, over ``smpplib``'s codec (README "SMPP: why smpplib").

``smpplib.smpp.make_pdu``/``parse_pdu`` know every 3.4 PDU and TLV; this module is the thin
layer the sessions use, adding what a server needs and the library leaves to its client:

- **Framing first.** :func:`read_header` checks ``command_length`` before anything is read
  into memory: below 16 or above :data:`MAX_COMMAND_LENGTH` (a 4 GB length, garbage) is
  :class:`FramingError`, after which the stream cannot be trusted and the session ends.
- **A body that does not parse** is :class:`PduError` with the status to answer
  (``ESME_RINVCMDID`` for an unknown command id or one the library has no codec for:
  cancel_sm, replace_sm, submit_multi, outbind; ``ESME_RINVCMDLEN`` for a body shorter than
  its mandatory fields), never an exception from inside the library. Unknown TLVs (vendor
  tags) are skipped, as the spec asks of a receiver.
- **An error answer has no body**: "The body portion ... is not returned if the
  command_status field contains a non-zero value" (bind_*_resp, submit_sm_resp); the library
  would write an empty ``system_id``/``message_id``.
- C-strings come out of the library as bytes; :func:`text` reads them as ASCII (Latin-1 for
  bytes beyond it, so nothing raises).
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from typing import Any

from smpplib import command_codes, consts, exceptions, smpp

HEADER = struct.Struct(">IIII")
HEADER_LENGTH = HEADER.size
#: the longest PDU accepted: a submit_sm with a 64 KiB ``message_payload`` and its fields
MAX_COMMAND_LENGTH = 64 * 1024 + 1024
RESPONSE_BIT = 0x80000000

#: command_status names by value (``ESME_ROK``, ``ESME_RINVPASWD``, ...)
STATUS_NAMES: dict[int, str] = {
    value: name.removeprefix("SMPP_") for name, value in vars(consts).items()
    if name.startswith("SMPP_ESME_") and isinstance(value, int)}
STATUS: dict[str, int] = {name: value for value, name in STATUS_NAMES.items()}
#: command names by id, and ids by name
COMMAND_NAMES: dict[int, str] = {code: name for name, code in command_codes.commands.items()}
COMMAND_IDS: dict[str, int] = dict(command_codes.commands)
#: answers whose body is left out when their status is not ESME_ROK
_BODY_ONLY_ON_SUCCESS = frozenset({
    "bind_transmitter_resp", "bind_receiver_resp", "bind_transceiver_resp", "submit_sm_resp",
    "query_sm_resp", "data_sm_resp", "submit_multi_resp"})

# the library logs every skipped vendor TLV at WARNING; the journal says what a PDU held
logging.getLogger("smpplib.command").setLevel(logging.ERROR)


def status_name(status: int) -> str:
    return STATUS_NAMES.get(status, f"0x{status:08X}")


def command_name(command_id: int) -> str:
    return COMMAND_NAMES.get(command_id, f"0x{command_id:08X}")


@dataclass(frozen=True)
class Header:
    length: int
    command_id: int
    status: int
    sequence: int

    @property
    def command(self) -> str:
        return command_name(self.command_id)

    @property
    def is_response(self) -> bool:
        return bool(self.command_id & RESPONSE_BIT)


class FramingError(ValueError):
    """A ``command_length`` no PDU can have: the stream is out of step and must be closed."""

    def __init__(self, header: Header, reason: str) -> None:
        super().__init__(reason)
        self.header = header


class PduError(ValueError):
    """A PDU whose header is sound but which cannot be used; answer ``status``."""

    def __init__(self, header: Header, status: int, reason: str) -> None:
        super().__init__(reason)
        self.header = header
        self.status = status


def read_header(data: bytes) -> Header:
    """The header at the start of ``data`` (at least 16 bytes); :class:`FramingError` for a
    length out of bounds."""
    header = Header(*HEADER.unpack_from(data))
    if header.length < HEADER_LENGTH:
        raise FramingError(header, f"command_length {header.length} is shorter than a header")
    if header.length > MAX_COMMAND_LENGTH:
        raise FramingError(header, f"command_length {header.length} is longer than the "
                                   f"{MAX_COMMAND_LENGTH} bytes accepted")
    return header


def decode(raw: bytes) -> Any:
    """One whole PDU (``raw`` is exactly ``command_length`` bytes) as an ``smpplib`` command
    object; its fields are attributes (C-strings as bytes)."""
    header = read_header(raw)
    if header.command_id not in COMMAND_NAMES:
        raise PduError(header, STATUS["ESME_RINVCMDID"],
                       f"unknown command_id 0x{header.command_id:08X}")
    try:
        pdu = smpp.parse_pdu(raw, sequence=0, allow_unknown_opt_params=True)
    except exceptions.UnknownCommandError:  # cancel_sm, replace_sm, submit_multi, outbind
        raise PduError(header, STATUS["ESME_RINVCMDID"],
                       f"{header.command} is not emulated") from None
    except (struct.error, KeyError, IndexError, ValueError, TypeError) as exc:
        raise PduError(header, STATUS["ESME_RINVCMDLEN"],
                       f"{header.command} body does not parse: {exc}") from None
    missing = [name for name in getattr(pdu, "params_order", ())
               if not pdu.field_is_optional(name) and getattr(pdu, name, None) is None]
    if missing:
        raise PduError(header, STATUS["ESME_RINVCMDLEN"],
                       f"{header.command} body ends before {missing[0]}")
    return pdu


def encode(command: str, sequence: int, status: int = 0, **fields: Any) -> bytes:
    """The bytes of ``command`` with ``fields`` (names as in the spec)."""
    if status and command in _BODY_ONLY_ON_SUCCESS:
        return HEADER.pack(HEADER_LENGTH, COMMAND_IDS[command], status, sequence)
    pdu = smpp.make_pdu(command, sequence=sequence, status=status, **fields)
    pdu.sequence = sequence
    return pdu.generate()


def text(value: Any) -> str:
    """A C-string field as text."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)
