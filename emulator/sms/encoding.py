"""SMS character encodings, numbered as SMPP ``data_coding`` values: 0 GSM 03.38 7-bit default
alphabet, 3 Latin-1 (ISO-8859-1), 8 UCS-2 (UTF-16). Shared by every provider.

What a character costs, in the unit the segment limits count:

- GSM-7: one septet for the basic table, two for the extension table (an ESC, 0x1B, then the
  code), e.g. ``€``, ``[`` and ``{``;
- Latin-1: one octet;
- UCS-2: one 16-bit unit, two for a character beyond U+FFFF (a surrogate pair, e.g. an emoji).

A lone surrogate (which JSON's ``\\ud800`` escapes can produce) is representable in none of them.
:func:`choose` picks an encoding the way a provider describes it: the requested one if the text
fits it, else the first fallback that fits.
"""

from __future__ import annotations

from collections.abc import Iterable

GSM7 = 0
LATIN1 = 3
UCS2 = 8
SUPPORTED = (GSM7, LATIN1, UCS2)
NAMES = {GSM7: "GSM 03.38 7-bit", LATIN1: "Latin-1", UCS2: "UCS-2"}

ESC = 0x1B
# 3GPP TS 23.038 default alphabet: position = septet value (0x1B is the escape, not a character)
_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_BASIC: dict[str, int] = {char: code for code, char in enumerate(_BASIC_TABLE) if code != ESC}
GSM7_EXTENSION: dict[str, int] = {
    "\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F,
    "[": 0x3C, "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65,
}
_GSM7_BASIC_CHARS = {code: char for char, code in GSM7_BASIC.items()}
_GSM7_EXTENSION_CHARS = {code: char for char, code in GSM7_EXTENSION.items()}


class Unencodable(ValueError):
    """The text has characters the encoding cannot represent."""

    def __init__(self, encoding: int, characters: list[str]) -> None:
        shown = ", ".join(repr(c) for c in characters)
        super().__init__(f"{NAMES.get(encoding, encoding)} cannot represent {shown}")
        self.encoding = encoding
        self.characters = characters


def _is_surrogate(char: str) -> bool:
    return 0xD800 <= ord(char) <= 0xDFFF


def char_cost(char: str, encoding: int) -> int | None:
    """Units ``char`` takes in ``encoding`` (septets, octets or UTF-16 units); ``None`` if it
    cannot be represented."""
    if _is_surrogate(char):
        return None
    if encoding == GSM7:
        if char in GSM7_BASIC:
            return 1
        return 2 if char in GSM7_EXTENSION else None
    if encoding == LATIN1:
        return 1 if ord(char) < 0x100 else None
    if encoding == UCS2:
        return 2 if ord(char) > 0xFFFF else 1
    raise ValueError(f"unsupported encoding {encoding!r}")


def unencodable(text: str, encoding: int, limit: int = 3) -> list[str]:
    """The first ``limit`` distinct characters of ``text`` that ``encoding`` cannot represent."""
    found: list[str] = []
    for char in text:
        if char not in found and char_cost(char, encoding) is None:
            found.append(char)
            if len(found) == limit:
                break
    return found


def can_encode(text: str, encoding: int) -> bool:
    return not unencodable(text, encoding, limit=1)


def units(text: str, encoding: int) -> int:
    """Total units of ``text`` in ``encoding``; :class:`Unencodable` if it does not fit."""
    total = 0
    for char in text:
        cost = char_cost(char, encoding)
        if cost is None:
            raise Unencodable(encoding, unencodable(text, encoding))
        total += cost
    return total


def choose(text: str, requested: int | None = None,
           fallbacks: Iterable[int] = (LATIN1, UCS2)) -> int:
    """``requested`` if ``text`` fits it, else the first of ``fallbacks`` that does (UCS-2 fits
    anything but lone surrogates, which :class:`Unencodable` reports)."""
    candidates = ([requested] if requested is not None else []) + list(fallbacks)
    for encoding in candidates:
        if can_encode(text, encoding):
            return encoding
    raise Unencodable(UCS2, unencodable(text, UCS2))


def encode(text: str, encoding: int) -> bytes:
    """The raw user data: GSM-7 unpacked (one septet per octet, as SMPP carries it), Latin-1
    octets, or UTF-16 big-endian."""
    if encoding == GSM7:
        out = bytearray()
        for char in text:
            if char in GSM7_BASIC:
                out.append(GSM7_BASIC[char])
            elif char in GSM7_EXTENSION:
                out += bytes((ESC, GSM7_EXTENSION[char]))
            else:
                raise Unencodable(encoding, unencodable(text, encoding))
        return bytes(out)
    if not can_encode(text, encoding):
        raise Unencodable(encoding, unencodable(text, encoding))
    return text.encode("latin-1" if encoding == LATIN1 else "utf-16-be")


def decode(data: bytes, encoding: int) -> str:
    """The inverse of :func:`encode`."""
    if encoding == GSM7:
        chars: list[str] = []
        escaped = False
        for septet in data:
            if escaped:
                chars.append(_GSM7_EXTENSION_CHARS[septet])
                escaped = False
            elif septet == ESC:
                escaped = True
            else:
                chars.append(_GSM7_BASIC_CHARS[septet])
        if escaped:
            raise ValueError("GSM-7 data ends in the middle of an escape sequence")
        return "".join(chars)
    return data.decode("latin-1" if encoding == LATIN1 else "utf-16-be")
