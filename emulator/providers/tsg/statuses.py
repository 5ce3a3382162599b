"""TSG Global message statuses and delivery statuses, and what each delivery status reports.

A Message object's ``status`` is ``new`` when TSG receives it, ``sent`` once it has been submitted
to the carrier (an emulator's name: the document shows only ``new``), then the delivery status
its lifecycle reaches. The ten delivery statuses are listed in the document's order, which the
magic numbers follow (``150055510NN`` ends with the NN-th).

Which receipts ``registered_delivery`` asks for (1 always, 2 on success, 3 on error): success is
``delivered``; ``accepted`` and ``enroute`` are progress (receipted only with 1); everything else
is an error.

``delivery_error_code`` is a three-character string: ``000`` when nothing went wrong, else an
upstream code. Where TSG's common DLR error code table has a matching entry it is used (its hex
form, which always fits three characters): failed ``001`` (routing failure), undelivered ``002``
(invalid destination), rejected ``004`` (blocked by carrier). The table has nothing for the rest,
so the emulator uses the nearest SMPP 3.4 command status: expired ``062`` (ESME_RINVEXPIRY),
deleted ``011`` (ESME_RCANCELFAIL), unknown ``0FF`` (ESME_RUNKNOWNERR), skipped ``0FE``
(ESME_RDELIVERYFAILURE). ``tsg.delivery_error_codes`` overrides any of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NEW = "new"
SENT = "sent"

DELIVERY_STATUSES: tuple[str, ...] = (
    "delivered", "expired", "deleted", "undelivered", "accepted", "unknown", "rejected",
    "failed", "enroute", "skipped",
)
DESCRIPTIONS: dict[str, str] = {
    NEW: "Message received.",
    SENT: "Message submitted to the carrier.",
    "delivered": "Message was successfully delivered.",
    "expired": "Message validity period has expired.",
    "deleted": "Message has been deleted.",
    "undelivered": "Message is undeliverable.",
    "accepted": "Message was accepted and will be sent.",
    "unknown": "Delivery status is unknown.",
    "rejected": "Message was rejected by the carrier",
    "failed": "Delivery was unsuccessful.",
    "enroute": "Message is enroute.",
    "skipped": "Message was skipped.",
}
SUCCESS = frozenset({"delivered"})
PROGRESS = frozenset({"accepted", "enroute"})
ERROR = frozenset(DELIVERY_STATUSES) - SUCCESS - PROGRESS
#: statuses after which nothing changes (and expiry no longer applies)
FINAL = SUCCESS | ERROR

ERROR_CODES: dict[str, str] = {
    "delivered": "000", "accepted": "000", "enroute": "000",
    "failed": "001", "undelivered": "002", "rejected": "004",
    "expired": "062", "deleted": "011", "unknown": "0FF", "skipped": "0FE",
}

#: Message.delivery_receipt for each registered_delivery, in the text form
RECEIPT_NAMES = {0: "no", 1: "always", 2: "on_success", 3: "on_error"}


def accepts(status: Any) -> bool:
    """Whether a lifecycle rule may name ``status`` for TSG."""
    return isinstance(status, str) and status in DELIVERY_STATUSES


def error_code(status: str, overrides: Mapping[str, str]) -> str:
    return overrides.get(status) or ERROR_CODES[status]


def wants_receipt(registered_delivery: int, status: str) -> bool:
    if registered_delivery == 1:
        return True
    if registered_delivery == 2:
        return status in SUCCESS
    if registered_delivery == 3:
        return status in ERROR
    return False


#: a delivery status as an SMPP receipt's ``stat`` (the fact sheet's table; ``failed`` and
#: ``skipped`` are not SMPP 3.4 states and read UNDELIV)
RECEIPT_STATS: dict[str, str] = {
    "delivered": "DELIVRD", "expired": "EXPIRED", "deleted": "DELETED",
    "undelivered": "UNDELIV", "accepted": "ACCEPTD", "unknown": "UNKNOWN",
    "rejected": "REJECTD", "enroute": "ENROUTE", "failed": "UNDELIV", "skipped": "UNDELIV",
}


def receipt_stat(status: str) -> str:
    return RECEIPT_STATS.get(status, "ENROUTE")  # new, sent
