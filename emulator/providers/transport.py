"""What a provider offers transports other than its own HTTP API (DESIGN.md principle 7).

A transport (the SMPP listener) turns wire requests into these transport-neutral calls, so a
submit over SMPP and a POST over REST make the same message, follow the same lifecycle and
land in the same journal:

- :meth:`~emulator.providers.base.Provider.submit` takes a :class:`Submission` and stores the
  message as the provider's API would (its ids, lifecycle, magic numbers, opt-outs), or raises
  :class:`Refused` naming the field at fault. The submission's ``reports`` hook is put on the
  message (:attr:`~emulator.core.store.Message.reports`): the provider calls it at each status
  change it applies, in place of its own delivery reports (webhooks).
- :meth:`~emulator.providers.base.Provider.receipt_state` says how a message's status reads
  as an SMPP delivery receipt (:class:`ReceiptState`).
- an inbound message for a number the provider routes to a transport goes to the
  :class:`MoOutlet` the transport registered in ``Context.outlets`` under its name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from emulator.core.dispatcher import Delivery
from emulator.core.store import Message

#: the webhook kinds of deliveries over SMPP (receipts and MO as deliver_sm), which every
#: provider taking submissions has besides its own
TRANSPORT_WEBHOOK_KINDS: tuple[str, ...] = ("smpp_receipt", "smpp_mo")
#: how a message came in: a provider's HTTP API (no ``details.via``) or another transport
TRANSPORTS: tuple[str, ...] = ("http", "smpp")


class Refused(ValueError):
    """A submission the provider will not take: ``field`` is ``destination``, ``source`` or
    ``text``; ``str(exc)`` says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Submission:
    """A message the system under test sends through a transport."""

    sender: str
    to: str
    text: str
    #: the SMPP data_coding numbering of :mod:`emulator.sms.encoding` (0, 3, 8)
    encoding: int
    #: the text of each part, one for a single message
    parts: tuple[str, ...]
    #: ids the transport already answered for each part of a multipart message (kept as
    #: aliases of the message); empty for a single message, whose id the provider makes
    part_ids: tuple[str, ...] = ()
    #: the UDH (or sar) reference number of a multipart message
    reference: int = 0
    #: the transport's own details, merged into the message's (``via``, ``system_id``, ...)
    details: dict[str, Any] = field(default_factory=dict)
    #: told of each status change, in place of the provider's own delivery reports
    reports: Callable[[Message], None] | None = None


@dataclass(frozen=True)
class ReceiptState:
    """A status as an SMPP 3.4 delivery receipt reads it."""

    #: Appendix B ``stat``: DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD,
    #: ENROUTE
    stat: str
    #: the ``message_state`` TLV value (1 ENROUTE ... 8 REJECTED)
    message_state: int
    #: the three-character ``err`` field
    err: str

    @property
    def delivered(self) -> bool:
        return self.stat == "DELIVRD"


#: ``message_state`` of each ``stat`` (SMPP 3.4 §5.2.28)
MESSAGE_STATES = {"ENROUTE": 1, "DELIVRD": 2, "EXPIRED": 3, "DELETED": 4, "UNDELIV": 5,
                  "ACCEPTD": 6, "UNKNOWN": 7, "REJECTD": 8}


def receipt(stat: str, err: str) -> ReceiptState:
    return ReceiptState(stat, MESSAGE_STATES[stat], err)


class MoOutlet(Protocol):
    """Where a provider hands an inbound message that goes out over a transport."""

    def deliver(self, provider: str, message: Message) -> Delivery | str:
        """Queue ``message`` for the provider's account; the delivery, or why it cannot go
        (no account of that provider)."""
