"""In-memory store of messages (outbound and inbound) with their status history.

A message's ``status`` is whatever its provider uses (Telesign: an int code; TSG: a name); the
store only keeps it and its history. Providers keep their wire-specific fields in ``details``.
Extra ids (TSG part ids) can be registered as aliases of a message.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from emulator.core.timefmt import iso_micro_z

#: a message goes to an end user (outbound) or comes from one (inbound)
DIRECTIONS: tuple[str, ...] = ("outbound", "inbound")
#: who made a message: the system under test through a provider API or a webhook reply
#: (``api``), an end user (``end_user``), the provider on its own, e.g. an auto-reply
#: (``provider``)
ORIGINS: tuple[str, ...] = ("api", "end_user", "provider")


@dataclass
class StatusChange:
    status: Any
    description: str
    at: float

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "description": self.description, "at": iso_micro_z(self.at)}


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
    history: list[StatusChange] = field(default_factory=list)
    seq: int = 0

    def set_status(self, status: Any, description: str, at: float, final: bool = False) -> None:
        self.status = status
        self.status_description = description
        self.updated_at = at
        self.final = final
        self.history.append(StatusChange(status, description, at))

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
            "history": [change.to_json() for change in self.history],
        }


class Store:
    def __init__(self) -> None:
        self._messages: dict[str, Message] = {}
        self._aliases: dict[str, str] = {}
        self._seq = itertools.count(1)
        #: the ``seq`` of the newest message (0 before the first)
        self.last_seq = 0

    def add(self, message: Message) -> Message:
        message.seq = self.last_seq = next(self._seq)
        if not message.history:
            message.history.append(
                StatusChange(message.status, message.status_description, message.created_at))
        self._messages[message.id] = message
        return message

    def alias(self, alias_id: str, message_id: str) -> None:
        self._aliases[alias_id] = message_id

    def get(self, message_id: str) -> Message | None:
        found = self._messages.get(message_id)
        if found is None and message_id in self._aliases:
            found = self._messages.get(self._aliases[message_id])
        return found

    def list(self, provider: str | None = None, direction: str | None = None,
             to: str | None = None, from_: str | None = None, origin: str | None = None,
             channel: str | None = None, since: int = 0) -> list[Message]:
        """Messages matching every given filter (``since``: added after that ``seq``), newest
        first."""
        found = [
            m for m in self._messages.values()
            if m.seq > since
            and (provider is None or m.provider == provider)
            and (direction is None or m.direction == direction)
            and (to is None or m.to == to)
            and (from_ is None or m.from_ == from_)
            and (origin is None or m.origin == origin)
            and (channel is None or m.channel == channel)
        ]
        found.sort(key=lambda m: m.seq, reverse=True)
        return found

    def __len__(self) -> int:
        return len(self._messages)

    def clear(self) -> None:
        self._messages.clear()
        self._aliases.clear()
        self._seq = itertools.count(1)
        self.last_seq = 0
