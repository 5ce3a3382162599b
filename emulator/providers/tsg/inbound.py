"""``POST /_emulator/inbound`` for TSG: an end user texts one of your numbers.

The document (schema ``tsg/inbound-request``): ``from`` (the end user), ``to`` (your number),
``text`` and optionally ``encoding``. The text is encoded and cut into parts by the same rules as
an outbound message (Latin-1 when it fits, else UCS-2), so a long one reaches the webhook as a
UDH multipart ``sms`` object with ``parts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator import schemas
from emulator.providers.base import InboundError
from emulator.providers.tsg.errors import TsgError
from emulator.providers.tsg.validation import check_text, segment, wire_number
from emulator.sms.segmentation import Segmented, SegmentTable


@dataclass(frozen=True)
class Inbound:
    sender: str  # the end user, digits
    to: str  # your number (DID), digits
    segmented: Segmented


def parse(document: dict[str, Any], table: SegmentTable) -> Inbound:
    """The end user's message, or :class:`InboundError` naming the field at fault."""
    found = schemas.problems("tsg/inbound-request", document)
    if found:
        raise InboundError(found[0].field(), found[0].message)
    text = document["text"]
    try:
        check_text("text", text)
        segmented = segment(text, document.get("encoding"), None, table)
    except TsgError as exc:
        raise InboundError("text", exc.message.removeprefix("text: ")) from None
    except ValueError as exc:  # too many parts for the segment table
        raise InboundError("text", str(exc)) from None
    return Inbound(wire_number(document["from"]), wire_number(document["to"]), segmented)
