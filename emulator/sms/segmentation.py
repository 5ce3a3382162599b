"""Splitting a long SMS into concatenated parts (a UDH on each part: reference, count, sequence).

Limits count the units of :mod:`emulator.sms.encoding` (GSM-7 septets, Latin-1 octets, UCS-2
16-bit units). A message that fits ``single`` is one SMS; a longer one is cut into parts of at
most ``multipart`` units each, since every part gives up room to its UDH. The cut never falls
inside a character, so an escape sequence (GSM-7 ``€``) or a surrogate pair (an emoji) is never
split, and the parts always join back into the text.

Two tables:

- ``tsg`` (default for TSG Global): the table TSG documents, 160/153 (encoding 0, at most 6
  parts), 140/134 (3, at most 5) and 70/68 (8, at most 6). Its 68 is TSG's figure; 3GPP's is 67.
- ``3gpp``: TS 23.040 with an 8-bit reference UDH: 160/153, 140/134, 70/67, at most 255 parts
  (the UDH's count is one octet).

A text that needs more parts than the table allows raises :class:`TooManyParts`; what to do then
is the provider's decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.sms.encoding import GSM7, LATIN1, NAMES, UCS2, char_cost, units


@dataclass(frozen=True)
class Limits:
    single: int  # units in a message sent as one SMS
    multipart: int  # units per part of a concatenated message
    max_parts: int


@dataclass(frozen=True)
class SegmentTable:
    name: str
    limits: dict[int, Limits]
    #: size of the concatenation reference number (TSG's example reference, 541, needs 16 bits)
    reference_bits: int


TABLES: dict[str, SegmentTable] = {
    "tsg": SegmentTable("tsg", {GSM7: Limits(160, 153, 6), LATIN1: Limits(140, 134, 5),
                                UCS2: Limits(70, 68, 6)}, reference_bits=16),
    "3gpp": SegmentTable("3gpp", {GSM7: Limits(160, 153, 255), LATIN1: Limits(140, 134, 255),
                                  UCS2: Limits(70, 67, 255)}, reference_bits=8),
}


class TooManyParts(ValueError):
    def __init__(self, needed: int, limits: Limits, encoding: int, table: str) -> None:
        super().__init__(f"needs {needed} parts in encoding {encoding} ({NAMES[encoding]}); "
                         f"at most {limits.max_parts} are allowed (segment table {table}: "
                         f"{limits.multipart} units per part)")
        self.needed = needed
        self.max_parts = limits.max_parts


@dataclass(frozen=True)
class Segmented:
    text: str
    encoding: int
    parts: tuple[str, ...]
    units: int

    @property
    def count(self) -> int:
        return len(self.parts)

    @property
    def multipart(self) -> bool:
        return len(self.parts) > 1


def _cut(text: str, encoding: int, capacity: int) -> list[str]:
    parts: list[str] = []
    start, used = 0, 0
    for index, char in enumerate(text):
        cost = char_cost(char, encoding) or 0  # units() has already refused unencodable text
        if used + cost > capacity:
            parts.append(text[start:index])
            start, used = index, 0
        used += cost
    parts.append(text[start:])
    return parts


def split(text: str, encoding: int, table: SegmentTable) -> Segmented:
    """``text`` as the parts it is sent in (one part if it fits a single SMS).

    Raises :class:`~emulator.sms.encoding.Unencodable` if the encoding cannot represent the text
    and :class:`TooManyParts` past the table's maximum.
    """
    limits = table.limits[encoding]
    total = units(text, encoding)
    if total <= limits.single:
        return Segmented(text, encoding, (text,), total)
    parts = _cut(text, encoding, limits.multipart)
    if len(parts) > limits.max_parts:
        raise TooManyParts(len(parts), limits, encoding, table.name)
    return Segmented(text, encoding, tuple(parts), total)
