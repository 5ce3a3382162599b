"""Records kept by id in the order they were made, for stores that page and evict.

A store (messages, webhook deliveries, Telesign's opt-outs) numbers its records with an
increasing ``seq``. :class:`Records` keeps them in a dict by key and, beside it, in two parallel
lists sorted by ``seq``, so that:

- a page starts where its cursor points in O(log n) (a bisection), newest or oldest first, and
  costs only what it reads afterwards, never a walk over everything newer or older;
- the oldest records come first for eviction;
- removing one is O(log n): its slot becomes a hole, and the lists are compacted once holes
  outnumber records (amortised O(1) per removal). Eviction removes the oldest, so most holes
  are at the front: the first kept slot is remembered, so a walk oldest first does not step
  over them, and dropping them is one ``del`` of the lists' heads (a ``memmove``, well under a
  millisecond for 100,000); only holes left between kept records need the lists rebuilt.

Iterators must not be held across a change of the records (callers collect, then remove);
the control API reads a page without awaiting anything, so nothing changes meanwhile.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable, Iterator
from functools import partial
from operator import is_not
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")

#: compact only past this many holes, so a small store never rebuilds its lists
MIN_HOLES_TO_COMPACT = 1024


class Records(Generic[K, T]):
    def __init__(self, key: Callable[[T], K], seq: Callable[[T], int]) -> None:
        self._key = key
        self._seq = seq
        self._by_key: dict[K, T] = {}
        self._seqs: list[int] = []
        self._slots: list[T | None] = []
        self._holes = 0
        #: the position of the oldest kept record: every slot before it is a hole
        self._first = 0

    def add(self, item: T) -> None:
        """Keep ``item``; its ``seq`` must be above every kept one's (a re-used key replaces
        the record it names)."""
        seq = self._seq(item)
        if self._seqs and seq <= self._seqs[-1]:
            raise ValueError(f"seq {seq} is not above the newest ({self._seqs[-1]})")
        key = self._key(item)
        if key in self._by_key:
            self.remove(key)
        self._by_key[key] = item
        self._seqs.append(seq)
        self._slots.append(item)

    def seq_of(self, item: T) -> int:
        return self._seq(item)

    def get(self, key: K) -> T | None:
        return self._by_key.get(key)

    def remove(self, key: K) -> T | None:
        item = self._by_key.pop(key, None)
        if item is None:
            return None
        slots = self._slots
        position = bisect_left(self._seqs, self._seq(item))
        slots[position] = None
        self._holes += 1
        if position == self._first:
            first, end = position + 1, len(slots)
            while first < end and slots[first] is None:
                first += 1
            self._first = first
        if self._holes > MIN_HOLES_TO_COMPACT and self._holes * 2 > len(slots):
            self._compact()
        return item

    def _compact(self) -> None:
        first = self._first
        del self._seqs[:first], self._slots[:first]
        self._holes -= first
        self._first = 0
        if self._holes * 2 > len(self._slots):  # holes between kept records: rebuild
            kept = [(seq, item) for seq, item in zip(self._seqs, self._slots, strict=True)
                    if item is not None]
            self._seqs = [seq for seq, _ in kept]
            self._slots = [item for _, item in kept]
            self._holes = 0

    def newest_first(self, before: int | None = None, after: int = 0) -> Iterator[T]:
        """Records with ``after < seq < before`` (``before`` None: no upper bound), newest
        first."""
        seqs, slots = self._seqs, self._slots
        i = (len(seqs) if before is None else bisect_left(seqs, before)) - 1
        while i >= 0 and seqs[i] > after:
            item = slots[i]
            if item is not None:
                yield item
            i -= 1

    def all_newest_first(self) -> list[T]:
        """Every record, newest first, as a list (made at C speed: no Python step a record)."""
        return list(filter(partial(is_not, None), reversed(self._slots)))

    def oldest_first(self, after: int = 0) -> Iterator[T]:
        """Records with ``seq > after``, oldest first."""
        seqs, slots = self._seqs, self._slots
        for i in range(max(bisect_right(seqs, after), self._first), len(seqs)):
            item = slots[i]
            if item is not None:
                yield item

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def clear(self) -> None:
        self._by_key.clear()
        self._seqs = []
        self._slots = []
        self._holes = 0
        self._first = 0
