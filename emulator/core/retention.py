"""Retention of a store: beyond a limit, evict the oldest finished records in batches.

When a store grows past ``limit`` it evicts, oldest first, the records its ``finished`` test
accepts, down to :data:`LOW_WATER` of the limit, in one batch that makes one ``evicted``
journal entry (``store``, ``evicted``, ``kept``, ``limit``) rather than one per record. An
addition evicts at most :data:`STEP` records; a larger batch (a tenth of the default 100,000
messages) goes on with the next additions, and its entry comes when it ends. A batch of 10,000
messages in one go took 50 ms: a stall of every request in flight, every few seconds under
load. So a large store holds a few more records than the limit for a few additions.
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
#: the most records one addition evicts (see the module's docstring)
STEP = 1000


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
        #: the batch under way: records it still has to evict, and those it has
        self._to_evict = 0
        self._batch_evicted = 0

    def due(self, kept: int) -> bool:
        return self._to_evict > 0 or kept > self._sweep_above

    def sweep(self, records: Records[Any, Any], finished: Callable[[Any], bool],
              evict: Callable[[Any], None]) -> int:
        """Evict the oldest finished records toward the low-water mark, :data:`STEP` at most;
        how many went."""
        if self._to_evict == 0:  # a new batch
            self._to_evict = len(records) - (self.limit - self._batch)
            self._batch_evicted = 0
        wanted = min(self._to_evict, STEP)
        victims = []
        for record in records.oldest_first():
            if finished(record):
                victims.append(record)
                if len(victims) >= wanted:
                    break
        for record in victims:
            evict(record)
        self.evicted += len(victims)
        self._batch_evicted += len(victims)
        self._to_evict -= len(victims)
        if self._to_evict > 0 and len(victims) == wanted:
            return len(victims)  # the batch goes on with the next addition
        self._to_evict = 0  # done, or no more finished records
        kept = len(records)
        self._sweep_above = self.limit if kept <= self.limit else kept + self._batch
        if self._batch_evicted and self.journal is not None:
            self.journal.record("evicted", None, store=self.name, evicted=self._batch_evicted,
                                kept=kept, limit=self.limit)
        return len(victims)

    def describe(self, kept: int) -> dict[str, int]:
        """``{"kept", "evicted", "limit"}`` for ``GET /_emulator/health``."""
        return {"kept": kept, "evicted": self.evicted, "limit": self.limit}

    def reset(self) -> None:
        self.evicted = 0
        self._sweep_above = self.limit
        self._to_evict = self._batch_evicted = 0
