"""In-memory store of messages (outbound and inbound) with their status history.

A message's ``status`` is whatever its provider uses (Telesign: an int code; TSG: a name); the
store only keeps it and its history. Providers keep their wire-specific fields in ``details``.
Extra ids (TSG part ids) can be registered as aliases of a message; they go with it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from emulator.core.journal import Journal
from emulator.core.paging import DEFAULT_LIMIT, SCAN_BUDGET, Page, matching, take
from emulator.core.records import Records
from emulator.core.retention import Retention
from emulator.core.timefmt import iso_micro_z

DEFAULT_MAX_MESSAGES = 100_000

#: a message goes to an end user (outbound) or comes from one (inbound)
DIRECTIONS: tuple[str, ...] = ("outbound", "inbound")
#: who made a message: the system under test through a provider API or a webhook reply
#: (``api``), an end user (``end_user``), the provider on its own, e.g. an auto-reply
#: (``provider``)
ORIGINS: tuple[str, ...] = ("api", "end_user", "provider")


#: one step of a message's history, ``(status, description, at)``: a plain tuple, which the
#: garbage collector stops tracking (a stored message has about three). The history itself is
#: a tuple too, made again at each step (it has a few): one object fewer for every full
#: collection to walk per stored message than a list
StatusChange = tuple[Any, str, float]


@dataclass
class Message:
    id: str
    provider: str
    direction: str  # one of DIRECTIONS
    to: str
    from_: str | None
    text: str
    status: Any
    status_description: str
    created_at: float
    updated_at: float
    channel: str = "sms"
    #: who made it: one of ORIGINS
    origin: str = "api"
    final: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    history: tuple[StatusChange, ...] = ()
    seq: int = 0
    #: whether its provider still has steps of its lifecycle to run (a status change, an
    #: expiry); ``None``: the provider does not say, and a message counts as pending until
    #: its status is final. A message with nothing pending may be evicted (:class:`Store`).
    lifecycle_pending: bool | None = field(default=None, repr=False)
    #: a transport's hook (an SMPP session's receipts), told of each status change its
    #: provider applies in place of the provider's own delivery reports
    reports: Callable[[Message], None] | None = field(default=None, repr=False)

    def set_status(self, status: Any, description: str, at: float, final: bool = False) -> None:
        self.status = status
        self.status_description = description
        self.updated_at = at
        self.final = final
        self.history = (*self.history, (status, description, at))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seq": self.seq,
            "provider": self.provider,
            "channel": self.channel,
            "direction": self.direction,
            "origin": self.origin,
            "from": self.from_,
            "to": self.to,
            "text": self.text,
            "status": self.status,
            "status_description": self.status_description,
            "final": self.final,
            "created_at": iso_micro_z(self.created_at),
            "updated_at": iso_micro_z(self.updated_at),
            "details": self.details,
            "history": [{"status": status, "description": description, "at": iso_micro_z(at)}
                        for status, description, at in self.history],
        }


_seq = attrgetter("seq")


def _both(first: Callable[[Message], bool],
          second: Callable[[Message], bool]) -> Callable[[Message], bool]:
    return lambda message: first(message) and second(message)


def _finished(message: Message) -> bool:
    """Whether the provider is done with ``message`` (see :attr:`Message.lifecycle_pending`)."""
    if message.lifecycle_pending is None:
        return message.final
    return not message.lifecycle_pending


class Store:
    """Messages by id (and alias), in the order they were made.

    Retention: beyond ``max_messages`` (default 100,000) the oldest *finished* messages are
    evicted, with their aliases, in one batch down to 90 % of the limit (so a busy store makes
    one ``evicted`` journal entry per tenth of the limit, not one per message), at most 10
    an addition (:mod:`emulator.core.retention`). Finished means
    its provider has nothing more to do for it (:attr:`Message.lifecycle_pending` false; when a
    provider does not say, a final status) and ``busy(message_id)`` is false (the dispatcher:
    no webhook for it pending or retrying). Pending work is never evicted, so the store can
    hold more than the limit while more than that is under way. An evicted message is simply
    unknown afterwards: a GET of its id gets the provider's own "not found".
    """

    def __init__(self, journal: Journal | None = None,
                 max_messages: int = DEFAULT_MAX_MESSAGES,
                 busy: Callable[[str], bool] | None = None) -> None:
        self._messages: Records[str, Message] = Records(attrgetter("id"), _seq)
        self._aliases: dict[str, str] = {}
        self._aliases_of: dict[str, list[str]] = {}
        self._seq = itertools.count(1)
        #: the ``seq`` of the newest message (0 before the first)
        self.last_seq = 0
        self.busy = busy
        self.retention = Retention("messages", max_messages, journal)

    def add(self, message: Message) -> Message:
        message.seq = self.last_seq = next(self._seq)
        if not message.history:
            message.history = ((message.status, message.status_description, message.created_at),)
        self._messages.add(message)
        if self.retention.due(len(self._messages)):
            self.retention.sweep(self._messages, self._evictable, self._evict)
        return message

    def _evictable(self, message: Message) -> bool:
        # the message being added is not set up yet (its webhook not queued, its aliases
        # not registered): never its own victim
        return (message.seq != self.last_seq and _finished(message)
                and not (self.busy is not None and self.busy(message.id)))

    def _evict(self, message: Message) -> None:
        self._messages.remove(message.id)
        for alias_id in self._aliases_of.pop(message.id, ()):
            self._aliases.pop(alias_id, None)

    def alias(self, alias_id: str, message_id: str) -> None:
        self._aliases[alias_id] = message_id
        self._aliases_of.setdefault(message_id, []).append(alias_id)

    def get(self, message_id: str) -> Message | None:
        found = self._messages.get(message_id)
        if found is None and message_id in self._aliases:
            found = self._messages.get(self._aliases[message_id])
        return found

    def page(self, provider: str | None = None, direction: str | None = None,
             to: str | None = None, from_: str | None = None, origin: str | None = None,
             channel: str | None = None, since: int = 0, before: int | None = None,
             limit: int = DEFAULT_LIMIT, budget: int = SCAN_BUDGET,
             where: Callable[[Message], bool] | None = None) -> Page[Message]:
        """Messages matching every given filter (and ``where``, a test of one message), newest
        first, made after ``since`` and before ``before`` (both ``seq``; the page's cursor is
        the next page's ``before``)."""
        keep = matching(provider=provider, direction=direction, to=to, from_=from_,
                        origin=origin, channel=channel)
        if where is not None:
            keep = where if keep is None else _both(keep, where)
        return take(self._messages.newest_first(before, since), _seq, limit, keep, budget)

    def newest_first(self) -> list[Message]:
        """Every kept message, newest first."""
        return self._messages.all_newest_first()

    def __len__(self) -> int:
        return len(self._messages)

    def clear(self) -> None:
        self._messages.clear()
        self._aliases.clear()
        self._aliases_of.clear()
        self._seq = itertools.count(1)
        self.last_seq = 0
        self.retention.reset()
