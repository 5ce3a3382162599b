"""Retention of a store: beyond a limit, evict the oldest finished records in batches.

When a store grows past ``limit`` it evicts, oldest first, the records its ``finished`` test
accepts, down to :data:`LOW_WATER` of the limit, in one batch that makes one ``evicted``
journal entry (``store``, ``evicted``, ``kept``, ``limit``) rather than one per record.

A batch is spread over the additions that follow: each evicts at most :data:`STEP` records, so
no request pays for many. (Evicting 1,000 messages takes 3-5 ms, and under load the additions
that evict come one after another: a batch of 10,000 in steps of 1,000 stalled the requests in
flight for 40 ms, every few seconds.) The batch's scan goes on from where its last step
stopped, so a step costs what it evicts, not a walk from the oldest record again; a store never
holds more than one record beyond its limit for this (the store itself can hold more: see
below), and the entry comes when the batch ends.

Records still at work are skipped, never evicted, and a batch does not look at them again;
when they alone fill the store beyond the limit, the next batch waits until another tenth of the
limit has been added, so a store full of pending work is not rescanned on every addition. The
cost is amortised O(1) per record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from emulator.core.records import Records

if TYPE_CHECKING:
    from emulator.core.journal import Journal

#: a sweep evicts down to this share of the limit
LOW_WATER = 0.9
#: the most records one addition evicts (see the module's docstring): more than one, so that a
#: batch ends while records keep coming
STEP = 10


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
        #: the batch under way: whether there is one, the records it has evicted, and the
        #: ``seq`` of the last one it looked at (its next step looks after it)
        self._in_batch = False
        self._batch_evicted = 0
        self._scanned_to = 0

    def due(self, kept: int) -> bool:
        return self._in_batch or kept > self._sweep_above

    def sweep(self, records: Records[Any, Any], finished: Callable[[Any], bool],
              evict: Callable[[Any], None]) -> int:
        """One step of the batch: evict the oldest finished records toward the low-water
        mark, :data:`STEP` at most, looking only after the batch's last step; how many went."""
        if not self._in_batch:
            self._in_batch = True
            self._batch_evicted = 0
            self._scanned_to = 0
        low_water = self.limit - self._batch
        wanted = min(len(records) - low_water, STEP)
        victims = []
        if wanted > 0:
            for record in records.oldest_first(self._scanned_to):
                if finished(record):
                    victims.append(record)
                    if len(victims) >= wanted:
                        break
        if victims:
            self._scanned_to = records.seq_of(victims[-1])
        for record in victims:
            evict(record)
        self.evicted += len(victims)
        self._batch_evicted += len(victims)
        if len(victims) == wanted and len(records) > low_water:
            return len(victims)  # the batch goes on with the next addition
        self._in_batch = False  # done, or no more finished records
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
        self._in_batch = False
        self._batch_evicted = self._scanned_to = 0
