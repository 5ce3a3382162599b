"""The message text of SMPP 3.4 PDUs: a submit_sm's user data as text (:func:`decode_user_data`),
concatenated parts put back together (:class:`Reassembly`) and an MO text cut into deliver_sm
parts (:func:`mo_parts`). Pure functions and one in-memory structure; no I/O.

SMPP carries GSM-7 unpacked, one septet per octet, so a UDH is simply dropped from the front (no
fill bits). Real ESMEs cut long text by octets (smpplib's ``make_parts`` does), so a part may end
inside a GSM-7 escape or a UTF-16 surrogate pair: such a part keeps the broken edge in its text (a
trailing ``"\\x1b"``, a lone surrogate) and :class:`Reassembly` moves the character whole into the
later part when it joins them. A whole message with a broken character is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.sms import encoding
from emulator.sms.encoding import ESC, GSM7, GSM7_BASIC, GSM7_EXTENSION, LATIN1, UCS2
from emulator.sms.segmentation import TABLES, TooManyParts, split

IA5 = 1
UDHI = 0x40
_NAMES = {GSM7: "GSM-7", IA5: "IA5/ASCII", LATIN1: "Latin-1", UCS2: "UCS-2"}  # in rank order
_EXTENSION_CODES = frozenset(GSM7_EXTENSION.values())
_EXTENSION_CHARS = {code: char for char, code in GSM7_EXTENSION.items()}
_SAR = ("sar_msg_ref_num", "sar_total_segments", "sar_segment_seqnum")


class TextError(ValueError):
    """Bad user data; .status is the SMPP command_status name to answer with
    (e.g. "ESME_RINVMSGLEN", "ESME_RINVESMCLASS", "ESME_RINVOPTPARAMVAL", "ESME_RINVPARLEN"),
    .field the PDU field at fault, str(exc) a clear sentence."""

    def __init__(self, status: str, field: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


@dataclass(frozen=True)
class Concat:
    """Where a fragment sits in a concatenated message."""

    reference: int  # 8- or 16-bit reference number
    total: int  # 1..255
    sequence: int  # 1..total


@dataclass(frozen=True)
class Fragment:
    """The text of one submit_sm: a whole message (``concat`` None) or one part of one."""

    text: str
    data_coding: int  # 0, 1, 3 or 8 (the SMPP value)
    concat: Concat | None  # None: a whole message
    source: str  # "short_message" or "message_payload": where the user data was
    concat_via: str | None  # "udh" | "sar" | None (None whenever concat is None)


def _is_high(char: str) -> bool:
    return "\ud800" <= char <= "\udbff"


def _is_low(char: str) -> bool:
    return "\udc00" <= char <= "\udfff"


def _concat(reference: int, total: int, sequence: int, status: str,
            fields: tuple[str, str, str]) -> Concat:
    for value, low, high, field, what in ((reference, 0, 0xFFFF, fields[0], "reference number"),
                                          (total, 1, 255, fields[1], "total number of parts"),
                                          (sequence, 1, total, fields[2], "sequence number")):
        if not low <= value <= high:
            raise TextError(status, field, f"the {what} is {value}; it must be {low} to {high}")
    return Concat(reference, total, sequence)


def _udh(data: bytes, field: str) -> tuple[Concat | None, bytes]:
    """The concatenation element of the UDH at the front of ``data``, and the data after it."""
    end = 1 + data[0] if data else 1
    if end > len(data):
        raise TextError("ESME_RINVMSGLEN", field, f"esm_class has the UDHI flag (0x40) but the "
                        f"user data header runs past the {len(data)} octets of {field}")
    concat, at = None, 1
    while at < end:
        if at + 2 > end or at + 2 + data[at + 1] > end:
            raise TextError("ESME_RINVMSGLEN", field, f"an element of the user data header in "
                                                      f"{field} runs past the header's end")
        iei, length, body = data[at], data[at + 1], data[at + 2:at + 2 + data[at + 1]]
        if iei in (0x00, 0x08):
            if length != (3 if iei == 0x00 else 4):
                raise TextError("ESME_RINVMSGLEN", field, f"the concatenation element 0x{iei:02X} "
                                f"has length {length}; it must be {3 if iei == 0 else 4}")
            if concat is not None:
                raise TextError("ESME_RSUBMITFAIL", field, "the user data header has more than "
                                                           "one concatenation element")
            reference = body[0] if iei == 0x00 else body[0] << 8 | body[1]
            concat = _concat(reference, body[-2], body[-1], "ESME_RSUBMITFAIL", (field,) * 3)
        at += 2 + length  # other elements (ports, EMS...) are skipped
    return concat, data[end:]


def _gsm7(data: bytes, field: str, part: bool) -> str:
    clean, escaped = bytearray(), False
    for septet in data:
        if escaped and septet not in _EXTENSION_CODES:
            clean.pop()  # TS 23.038: an escape before an unknown code shows the basic character
        clean.append(septet)
        escaped = septet == ESC
    if escaped and not part:
        raise TextError("ESME_RSUBMITFAIL", field, f"{field} ends in the middle of a GSM-7 "
                                                   "escape sequence")
    tail = "\x1b" if escaped else ""  # a part cut inside an escape: Reassembly completes it
    return encoding.decode(bytes(clean[:-1] if escaped else clean), GSM7) + tail


def _text(data: bytes, coding: int, field: str, part: bool) -> str:
    if coding in (GSM7, IA5) and max(data, default=0) > 0x7F:
        raise TextError("ESME_RSUBMITFAIL", field, f"{field} has an octet above 0x7F, which "
                        f"data_coding {coding} ({_NAMES[coding]}) does not have")
    if coding == GSM7:
        return _gsm7(data, field, part)
    if coding == IA5:
        return data.decode("ascii")
    if coding == LATIN1:
        return encoding.decode(data, LATIN1)
    if len(data) % 2:  # UCS-2
        raise TextError("ESME_RINVMSGLEN", field, f"{field} has {len(data)} octets of text; "
                                                  "UCS-2 (data_coding 8) needs an even number")
    text = data.decode("utf-16-be", "surrogatepass")  # a part may hold half a pair
    inner = text[1:] if part and _is_low(text[:1]) else text
    inner = inner[:-1] if part and _is_high(inner[-1:]) else inner
    if any(_is_high(char) or _is_low(char) for char in inner):
        raise TextError("ESME_RSUBMITFAIL", field, f"{field} has a lone UTF-16 surrogate")
    return text


def decode_user_data(*, data_coding: int, esm_class: int, short_message: bytes,
                     message_payload: bytes | None = None,
                     sar_msg_ref_num: int | None = None, sar_total_segments: int | None = None,
                     sar_segment_seqnum: int | None = None) -> Fragment:
    """The text of a submit_sm's user data; :class:`TextError` if it is bad.

    Statuses (SMPP 3.4 has no code for a bad data_coding, so ESME_RSUBMITFAIL stands in for it
    and for every bad value): ESME_RINVMSGLEN for lengths (short_message beside message_payload,
    a UDH or element running past its data, odd UCS-2); ESME_RSUBMITFAIL for a data_coding other
    than 0, 1, 3, 8, octets the coding lacks, a bad UDH count or sequence, UDHI together with
    the sar_* TLVs; ESME_RMISSINGOPTPARAM for some sar_* TLVs without the others (field: the
    first missing one); ESME_RINVOPTPARAMVAL for a bad sar_* value (field: that TLV). Errors in
    the user data name the field that carried it, short_message or message_payload.
    """
    if message_payload is not None and short_message:
        raise TextError("ESME_RINVMSGLEN", "message_payload", "message_payload was given with a "
                        "non-empty short_message; sm_length must be 0 when message_payload is used")
    field = "short_message" if message_payload is None else "message_payload"
    data = short_message if message_payload is None else message_payload
    if data_coding not in _NAMES:
        raise TextError("ESME_RSUBMITFAIL", "data_coding", f"data_coding {data_coding} is not "
                        "supported; this SMSC takes 0 (GSM-7), 1 (IA5), 3 (Latin-1), 8 (UCS-2)")
    sar = (sar_msg_ref_num, sar_total_segments, sar_segment_seqnum)
    if any(value is not None for value in sar) and None in sar:
        missing = _SAR[sar.index(None)]
        raise TextError("ESME_RMISSINGOPTPARAM", missing, f"{missing} is missing: the sar_* TLVs "
                                                          "come all three together or not at all")
    concat, via = None, None
    if esm_class & UDHI:
        if sar_msg_ref_num is not None:
            raise TextError("ESME_RSUBMITFAIL", "esm_class", "esm_class has the UDHI flag (0x40) "
                            "and the sar_* TLVs are given too; SMPP 3.4 allows only one of them")
        (concat, data), via = _udh(data, field), "udh"
    elif sar_msg_ref_num is not None:
        concat, via = _concat(sar_msg_ref_num, sar_total_segments or 0, sar_segment_seqnum or 0,
                              "ESME_RINVOPTPARAMVAL", _SAR), "sar"
    if concat is None or concat.total == 1:
        concat, via = None, None
    return Fragment(_text(data, data_coding, field, concat is not None), data_coding, concat,
                    field, via)


@dataclass(frozen=True)
class Assembled:
    """A whole message: the parts' texts joined, in sequence order."""

    text: str
    data_coding: int  # of the parts; if they differ, the highest (8 > 3 > 1 > 0)
    parts: tuple[str, ...]  # each part's text; a character cut between two sits in the later
    concat: Concat | None  # reference/total, sequence 1; None for a whole message
    keys: tuple[Any, ...]  # the caller's per-part tokens, in sequence order


@dataclass(frozen=True)
class Incomplete:
    """A concatenated message that expired before all its parts came."""

    owner: str
    source: str
    destination: str
    reference: int
    total: int
    received: tuple[int, ...]  # sequence numbers that came, ascending
    keys: tuple[Any, ...]  # in the order of received
    first_at: float


@dataclass
class _Pending:
    total: int
    first_at: float
    parts: dict[int, tuple[str, int, Any]]  # sequence -> (text, data_coding, key)


def _mend(parts: list[tuple[str, int]], field: str) -> list[str]:
    """The parts' texts with a character cut between two parts moved whole into the later."""
    broken = TextError("ESME_RSUBMITFAIL", field, "a character is cut between two parts of the "
                       "concatenated message and the next part does not complete it")
    out, carry = [], ""
    for text, coding in parts:
        if carry == "\x1b":
            code = GSM7_BASIC.get(text[:1]) if coding == GSM7 else None
            if code is None:
                raise broken
            text = _EXTENSION_CHARS.get(code, text[0]) + text[1:]
        elif carry or _is_low(text[:1]):
            if not (carry and _is_low(text[:1])):
                raise broken
            text = (carry + text).encode("utf-16-be", "surrogatepass").decode("utf-16-be")
        carry = ""
        if (coding == GSM7 and text.endswith("\x1b")) or _is_high(text[-1:]):
            text, carry = text[:-1], text[-1]
        out.append(text)
    if carry:
        raise broken
    return out


class Reassembly:
    """Concatenated parts waiting for their siblings, keyed by (owner, source, destination,
    reference). owner is whatever the caller says (a system_id). A repeated sequence number
    replaces the earlier part (its key is dropped) and counts in :attr:`replaced`, to journal."""

    def __init__(self, max_pending: int = 10_000) -> None:
        self.max_pending = max_pending
        self.replaced = 0  # parts that replaced an earlier part with the same sequence number
        self._pending: dict[tuple[str, str, str, int], _Pending] = {}

    def add(self, owner: str, source: str, destination: str, fragment: Fragment, key: Any,
            now: float) -> Assembled | None:
        """The whole message once every part 1..total has come, else None. ESME_RSUBMITFAIL
        for a total unlike the first part's (this part is refused, the others wait on) or a
        character cut between parts and never completed (the message is dropped); ESME_RMSGQFUL
        for a new message beyond ``max_pending`` incomplete ones."""
        concat = fragment.concat
        if concat is None:
            return Assembled(fragment.text, fragment.data_coding, (fragment.text,), None, (key,))
        ident = (owner, source, destination, concat.reference)
        pending = self._pending.get(ident)
        if pending is None:
            if len(self._pending) >= self.max_pending:
                raise TextError("ESME_RMSGQFUL", fragment.source, f"{self.max_pending} "
                                "concatenated messages already wait for their parts (the most)")
            pending = self._pending[ident] = _Pending(concat.total, now, {})
        elif concat.total != pending.total:
            raise TextError("ESME_RSUBMITFAIL", "sar_total_segments" if fragment.concat_via ==
                            "sar" else fragment.source, f"part {concat.sequence} of reference "
                            f"{concat.reference} says {concat.total} parts; the first part said "
                            f"{pending.total}")
        if concat.sequence in pending.parts:
            self.replaced += 1
        pending.parts[concat.sequence] = (fragment.text, fragment.data_coding, key)
        if len(pending.parts) < pending.total:
            return None
        del self._pending[ident]
        ordered = [pending.parts[sequence] for sequence in range(1, pending.total + 1)]
        texts = _mend([(text, coding) for text, coding, _ in ordered], fragment.source)
        return Assembled("".join(texts), max((c for _, c, _ in ordered), key=list(_NAMES).index),
                         tuple(texts), Concat(concat.reference, pending.total, 1),
                         tuple(k for _, _, k in ordered))

    def expire(self, older_than: float) -> list[Incomplete]:
        """Removes and returns the incomplete messages whose first part came before
        ``older_than``, oldest first."""
        gone = [(ident, p) for ident, p in self._pending.items() if p.first_at < older_than]
        for ident, _ in gone:
            del self._pending[ident]
        return [Incomplete(*ident, p.total, tuple(sorted(p.parts)),
                           tuple(p.parts[s][2] for s in sorted(p.parts)), p.first_at)
                for ident, p in gone]

    def __len__(self) -> int:
        return len(self._pending)

    def clear(self) -> None:
        self._pending.clear()


@dataclass(frozen=True)
class OutboundPart:
    """One deliver_sm of an MO text."""

    data_coding: int  # 0 or 8
    esm_class_udhi: bool
    short_message: bytes  # UDH 05 00 03 ref total seq + encoded text, or just the text


def mo_parts(text: str, reference: int, table_name: str = "3gpp") -> list[OutboundPart]:
    """``text`` as deliver_sm parts: GSM-7 if it fits, else UCS-2, cut by the segment table
    ``table_name``; several parts carry an 8-bit reference UDH (``reference & 0xFF``).
    :class:`TextError` ESME_RSUBMITFAIL if the text cannot be encoded or needs too many parts."""
    try:
        coding = encoding.choose(text, GSM7, fallbacks=(UCS2,))
        cut = split(text, coding, TABLES[table_name])
    except (encoding.Unencodable, TooManyParts) as exc:
        raise TextError("ESME_RSUBMITFAIL", "short_message", f"the MO text cannot be sent: "
                                                             f"{exc}") from exc
    if not cut.multipart:
        return [OutboundPart(coding, False, encoding.encode(text, coding))]
    header = bytes((0x05, 0x00, 0x03, reference & 0xFF, cut.count))
    return [OutboundPart(coding, True, header + bytes((sequence,)) + encoding.encode(part, coding))
            for sequence, part in enumerate(cut.parts, start=1)]
