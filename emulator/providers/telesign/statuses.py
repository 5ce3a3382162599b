"""Telesign SMS status codes (Standard Messaging API document, status table).

``via_gateway`` says whether a message reaches the carrier gateway (203) before this status: a
handset or carrier outcome does, a block or rejection by Telesign or the account does not. It
shapes the paths the magic numbers produce.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.providers.transport import ReceiptState, receipt


@dataclass(frozen=True)
class Status:
    code: int
    description: str
    final: bool
    via_gateway: bool


_TABLE: list[tuple[int, str, bool, bool]] = [
    (200, "Delivered to handset", True, True),
    (203, "Delivered to gateway", False, True),
    (207, "Error delivering SMS to handset (reason unknown)", True, True),
    (210, "Temporary phone error", True, True),
    (211, "Permanent phone error", True, True),
    (220, "Gateway/network cannot route message", True, True),
    (221, "Message expired before delivery", True, True),
    (222, "SMS not supported", True, True),
    (230, "Message blocked by TeleSign", True, False),
    (231, "Invalid/unsupported message content", True, False),
    (237, "Message blocked in requested country", True, False),
    (238, "Destination blocked by prefix", True, False),
    (250, "Final status unknown", True, True),
    (286, "Transaction not attempted", True, False),
    (290, "Message in progress", False, False),
    (291, "Queued by TeleSign", False, False),
    (292, "Queued by gateway", False, True),
    (295, "Status delayed", False, True),
    (500, "Transaction not attempted", True, False),
    (502, "Campaign error", True, False),
    (503, "Carrier rejected - temporary problem", True, True),
    (504, "Carrier rejected - permanent error", True, True),
    (505, "Error on gateway - temporary error", True, True),
    (506, "Error on gateway - permanent error", True, True),
    (507, "Invalid destination address", True, True),
    (508, "Invalid source address", True, False),
    (509, "Parameters problem", True, False),
    (510, "Message blocked by subscriber action or request", True, True),
    (511, "Subscriber low on credit", True, True),
    (512, "Roaming error", True, True),
    (513, "Mobile number portability error", True, True),
    (514, "Subscriber absent", True, True),
    (515, "Suspected spam", True, True),
    (599, "Status not available", True, False),
]

STATUSES: dict[int, Status] = {row[0]: Status(*row) for row in _TABLE}

IN_PROGRESS = STATUSES[290]
DELIVERED_TO_GATEWAY = STATUSES[203]
DELIVERED = STATUSES[200]


def get(code: int) -> Status:
    return STATUSES[code]


#: Telesign statuses as SMPP receipt ``stat`` (README "SMPP"): 200 DELIVRD; 221 EXPIRED; blocks
#: and rejections by Telesign, the account or the subscriber REJECTD; 250 and 599 UNKNOWN; the
#: other final (handset, carrier, gateway) failures UNDELIV; a status still in progress ENROUTE
_REJECTED = frozenset({230, 231, 237, 238, 286, 500, 502, 508, 509, 510, 515})
_UNKNOWN = frozenset({250, 599})


def receipt_stat(code: int) -> str:
    status = STATUSES[code]
    if not status.final:
        return "ENROUTE"
    if code == 200:
        return "DELIVRD"
    if code == 221:
        return "EXPIRED"
    if code in _REJECTED:
        return "REJECTD"
    return "UNKNOWN" if code in _UNKNOWN else "UNDELIV"


def receipt_state(code: int) -> ReceiptState:
    """``err`` is the Telesign status code itself (``000`` when delivered)."""
    return receipt(receipt_stat(code), "000" if code == 200 else f"{code:03d}")
