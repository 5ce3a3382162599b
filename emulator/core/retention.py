"""Retention of a store: beyond a limit, evict the oldest finished records in batches.

When a store grows past ``limit`` it evicts, oldest first, the records its ``finished`` test
accepts, down to :data:`LOW_WATER` of the limit, in one batch that makes one ``evicted``
journal entry (``store``, ``evicted``, ``kept``, ``limit``) rather than one per record.
Records still at work are skipped, never evicted; when they alone fill the store beyond the
limit, the next sweep waits until another tenth of the limit has been added, so a store full
of pending work is not rescanned on every addition. The cost is amortised O(1) per record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from emulator.core.records import Records

if TYPE_CHECKING:
    from emulator.core.journal import Journal

#: a sweep evicts down to this share of the limit
LOW_WATER = 0.9


class Retention:
    def __init__(self, name: str, limit: int, journal: Journal | None = None) -> None:
        if limit < 1:
            raise ValueError(f"the {name} limit must be at least 1")
        self.name = name
        self.limit = limit
        self.journal = journal
        self.evicted = 0
        self._batch = max(1, limit - int(limit * LOW_WATER))
        self._sweep_above = limit

    def due(self, kept: int) -> bool:
        return kept > self._sweep_above

    def sweep(self, records: Records[Any, Any], finished: Callable[[Any], bool],
              evict: Callable[[Any], None]) -> int:
        """Evict the oldest finished records down to the low-water mark; how many went."""
        wanted = len(records) - (self.limit - self._batch)
        victims = []
        for record in records.oldest_first():
            if finished(record):
                victims.append(record)
                if len(victims) >= wanted:
                    break
        for record in victims:
            evict(record)
        kept = len(records)
        self._sweep_above = self.limit if kept <= self.limit else kept + self._batch
        if victims:
            self.evicted += len(victims)
            if self.journal is not None:
                self.journal.record("evicted", None, store=self.name, evicted=len(victims),
                                    kept=kept, limit=self.limit)
        return len(victims)

    def describe(self, kept: int) -> dict[str, int]:
        """``{"kept", "evicted", "limit"}`` for ``GET /_emulator/health``."""
        return {"kept": kept, "evicted": self.evicted, "limit": self.limit}

    def reset(self) -> None:
        self.evicted = 0
        self._sweep_above = self.limit
