"""The journal: an append-only record of everything the emulator saw and did.

Requests in, status changes, webhook attempts and errors are entries with an emulated timestamp
and a sequence number. The control API, the replay reports and tests read it. It keeps the last
``max_entries`` entries (default 100,000) so a long-running server does not grow without bound;
``dropped`` counts what fell off the front.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from emulator.core.clock import Clock
from emulator.core.timefmt import iso_micro_z


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


class Journal:
    def __init__(self, clock: Clock, max_entries: int = 100_000) -> None:
        self.clock = clock
        self._entries: deque[Entry] = deque(maxlen=max_entries)
        self._seq = itertools.count(1)
        #: the sequence number of the newest entry (0 before the first)
        self.last_seq = 0
        self.dropped = 0

    def record(self, kind: str, provider: str | None = None, /, **detail: Any) -> Entry:
        if len(self._entries) == self._entries.maxlen:
            self.dropped += 1
        entry = Entry(next(self._seq), self.clock.now(), kind, provider, detail)
        self.last_seq = entry.seq
        self._entries.append(entry)
        return entry

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
