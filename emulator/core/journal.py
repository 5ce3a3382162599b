"""The journal: an append-only record of everything the emulator saw and did.

Requests in, status changes, webhook attempts and errors are entries with an emulated timestamp
and a sequence number. The control API, the replay reports and tests read it. It keeps the last
``max_entries`` entries (default 100,000) so a long-running server does not grow without bound;
``dropped`` counts what fell off the front.

Subscribers (:meth:`Journal.subscribe`) are called with every new :class:`Entry` as it is
recorded: the log lines of ``serve`` come from here, so people see what tests see. A subscriber
must be quick and must not record entries itself; one that raises is reported through
:mod:`logging` and the entry is kept all the same. With no subscriber, recording costs one more
attribute check.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from emulator.core.clock import Clock
from emulator.core.timefmt import iso_micro_z

log = logging.getLogger("sms_emulator")


@dataclass
class Entry:
    seq: int
    at: float
    kind: str
    provider: str | None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        detail = {key: value.decode("utf-8", "replace") if isinstance(value, bytes) else value
                  for key, value in self.detail.items()}  # bodies are kept as bytes
        return {**detail, "seq": self.seq, "at": iso_micro_z(self.at), "kind": self.kind,
                "provider": self.provider}


Subscriber = Callable[[Entry], None]


class Journal:
    def __init__(self, clock: Clock, max_entries: int = 100_000) -> None:
        self.clock = clock
        self._entries: deque[Entry] = deque(maxlen=max_entries)
        self._seq = itertools.count(1)
        #: the sequence number of the newest entry (0 before the first)
        self.last_seq = 0
        self.dropped = 0
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber(entry)`` for every entry recorded from now on; returns the function
        that unsubscribes it."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def record(self, kind: str, provider: str | None = None, /, **detail: Any) -> Entry:
        if len(self._entries) == self._entries.maxlen:
            self.dropped += 1
        entry = Entry(next(self._seq), self.clock.now(), kind, provider, detail)
        self.last_seq = entry.seq
        self._entries.append(entry)
        if self._subscribers:
            self._notify(entry)
        return entry

    def _notify(self, entry: Entry) -> None:
        for subscriber in tuple(self._subscribers):
            try:
                subscriber(entry)
            except Exception:  # a broken listener must not lose the entry or fail the request
                log.exception("journal subscriber %r failed on entry %d", subscriber, entry.seq)

    def entries(self, kind: str | None = None, provider: str | None = None,
                since: int = 0) -> Iterable[Entry]:
        for entry in self._entries:
            if entry.seq <= since:
                continue
            if kind is not None and entry.kind != kind:
                continue
            if provider is not None and entry.provider != provider:
                continue
            yield entry

    def clear(self) -> None:
        self._entries.clear()
        self.dropped = 0
