"""The journal: an append-only record of everything the emulator saw and did.

Requests in, status changes, webhook attempts and errors are entries with an emulated timestamp
and a sequence number (``seq``: 1, 2, 3, ... with no gaps, on across a reset). The control API,
the replay reports and tests read it.

It is bounded in entries, in bytes and per field, so that neither many requests nor large
ones grow it without end:

- in entries: the newest ``max_entries`` (default 100,000) are kept;
- in bytes: the newest that fit in ``max_bytes`` (default 64 MiB) are kept. An entry's size is
  an estimate made as it is recorded, without walking its whole content: the length of its text
  and bytes fields (one level into a field that is an object, such as a webhook attempt) plus
  :data:`ENTRY_OVERHEAD` for the objects that hold it;
- a text or bytes field longer than ``max_field_bytes`` (default 64 KiB: more than any valid
  provider request, a TSG send to 1,000 recipients included) is cut to that length and ends
  with a visible marker, ``…[truncated: 1048576 bytes in all]``; the entry's ``truncated``
  field maps each cut field (``body``, ``attempt.response_body``) to its original length.
  Fields of :data:`UNCUT_FIELDS` are never cut: ``response``, the emulator's own answer to an
  API call, is bounded by the requests it accepts (a TSG send to 1,000 recipients answers
  about 600 KB), and replay captures read it whole; it still counts toward the bytes.

The oldest entries go first; ``dropped`` and ``dropped_bytes`` count what fell off the front
(since the last :meth:`Journal.clear`), ``truncated`` how many fields were cut.

Subscribers (:meth:`Journal.subscribe`) are called with every new :class:`Entry` as it is
recorded: the log lines of ``serve`` come from here, so people see what tests see. A subscriber
must be quick and must not record entries itself; one that raises is reported through
:mod:`logging` and the entry is kept all the same. With no subscriber, recording costs one more
attribute check.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from functools import partial
from operator import attrgetter
from typing import Any, NamedTuple

from emulator.core.clock import Clock
from emulator.core.paging import SCAN_BUDGET, Page, matching, take
from emulator.core.timefmt import iso_micro_z

log = logging.getLogger("sms_emulator")

DEFAULT_MAX_ENTRIES = 100_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_FIELD_BYTES = 64 * 1024
#: bytes counted for an entry beyond its text: the entry, its dict, keys and numbers. With
#: :data:`ITEM_OVERHEAD` it makes the estimate of the usual entries close to what tracemalloc
#: measures (an ``api_call`` with small bodies about 640 bytes, a ``webhook_attempt`` 900, a
#: ``status_change`` 460), so 64 MiB holds about 100,000 of them
ENTRY_OVERHEAD = 400
#: bytes counted per item of a list field or of an object field, beyond a text's length
ITEM_OVERHEAD = 48
#: fields kept whole whatever their length (see the module's docstring)
UNCUT_FIELDS = frozenset({"response"})
#: compact the list of entries once this many dropped slots sit at its front
_COMPACT_AFTER = 4096


class Entry(NamedTuple):
    """One journal entry, as readers and subscribers see it."""

    seq: int
    at: float
    kind: str
    provider: str | None
    detail: dict[str, Any]
    #: estimated bytes held (see the module's docstring)
    size: int = 0

    def to_json(self) -> dict[str, Any]:
        detail = {key: value.decode("utf-8", "replace") if isinstance(value, bytes) else value
                  for key, value in self.detail.items()}  # bodies are kept as bytes
        return {**detail, "seq": self.seq, "at": iso_micro_z(self.at), "kind": self.kind,
                "provider": self.provider}


#: an entry as the journal keeps it: ``(seq, at, kind, provider, size, keys, *values)``, one
#: plain tuple with its detail's keys (a tuple shared by the entries of one shape) and then its
#: values. Once those hold only strings, numbers and such (most entries do), the garbage
#: collector stops tracking it, where it would walk each of 100,000 kept entries and their
#: dicts in every full pass (a pause of the whole server). :class:`Entry` is made on read.
_Row = tuple[Any, ...]
_SEQ, _SIZE, _VALUES = 0, 4, 6
#: the most distinct detail shapes (tuples of keys) shared; more are kept each on its own
MAX_SHAPES = 1024


#: makes an :class:`Entry` from the tuple of its fields without the Python-level ``__new__``
#: of a named tuple (a call fewer on every record: the advance over 100,000 steps makes 150,000)
_entry = partial(tuple.__new__, Entry)


def _view(row: _Row) -> Entry:
    seq, at, kind, provider, size, keys = row[:_VALUES]
    return _entry((seq, at, kind, provider, dict(zip(keys, row[_VALUES:], strict=True)), size))


Subscriber = Callable[[Entry], None]


def _cut(value: str | bytes, limit: int) -> str | bytes:
    if isinstance(value, bytes):
        return value[:limit] + f"…[truncated: {len(value)} bytes in all]".encode()
    return value[:limit] + f"…[truncated: {len(value)} characters in all]"


def _estimate(detail: dict[str, Any]) -> tuple[int, int]:
    """The estimated size of an entry's ``detail`` and the length of its longest text or bytes
    field (one level into objects)."""
    size = ENTRY_OVERHEAD
    longest = 0
    for value in detail.values():
        cls = type(value)
        if cls is bytes or cls is str:
            length = len(value)
            size += length
            if length > longest:
                longest = length
        elif cls is dict:
            for inner in value.values():
                size += ITEM_OVERHEAD
                if type(inner) is str or type(inner) is bytes:
                    length = len(inner)
                    size += length
                    if length > longest:
                        longest = length
        elif cls is list or cls is tuple:
            size += ITEM_OVERHEAD * len(value)
            for item in value:
                if type(item) is str:
                    size += len(item)
    return size, longest


class Journal:
    def __init__(self, clock: Clock, max_entries: int = DEFAULT_MAX_ENTRIES,
                 max_bytes: int = DEFAULT_MAX_BYTES,
                 max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES) -> None:
        if min(max_entries, max_bytes, max_field_bytes) < 1:
            raise ValueError("the journal's limits must be at least 1")
        self.clock = clock
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_field_bytes = max_field_bytes
        # entries oldest first from self._head; the slots before it were dropped
        self._entries: list[_Row | None] = []
        self._head = 0
        self._seq = itertools.count(1)
        #: the sequence number of the newest entry (0 before the first)
        self.last_seq = 0
        #: estimated bytes of the kept entries
        self.bytes = 0
        self.dropped = 0
        self.dropped_bytes = 0
        self.truncated = 0
        self._subscribers: list[Subscriber] = []
        self._shapes: dict[tuple[str, ...], tuple[str, ...]] = {}

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber(entry)`` for every entry recorded from now on; returns the function
        that unsubscribes it."""
        # a new list each time, so that a subscriber may (un)subscribe while being notified
        self._subscribers = [*self._subscribers, subscriber]

        def unsubscribe() -> None:
            subscribers = list(self._subscribers)
            if subscriber in subscribers:
                subscribers.remove(subscriber)
                self._subscribers = subscribers

        return unsubscribe

    def record(self, kind: str, provider: str | None = None, /, **detail: Any) -> Entry:
        size, longest = _estimate(detail)
        if longest > self.max_field_bytes:
            size = self._cut_fields(detail)
        keys = tuple(detail)
        keys = self._shapes.get(keys) or self._shape(keys)
        seq = self.last_seq = next(self._seq)
        at = self.clock.now()
        self._entries.append((seq, at, kind, provider, size, keys, *detail.values()))
        self.bytes += size
        if len(self._entries) - self._head > self.max_entries or self.bytes > self.max_bytes:
            self._drop_oldest()
        entry = _entry((seq, at, kind, provider, detail, size))
        for subscriber in self._subscribers:
            try:
                subscriber(entry)
            except Exception:  # a broken listener must not lose the entry or fail the request
                log.exception("journal subscriber %r failed on entry %d", subscriber, seq)
        return entry

    def _shape(self, keys: tuple[str, ...]) -> tuple[str, ...]:
        if len(self._shapes) < MAX_SHAPES:
            self._shapes[keys] = keys
        return keys

    def _cut_fields(self, detail: dict[str, Any]) -> int:
        """Cut every text or bytes field (one level into objects) longer than the limit (in
        place), list each in ``detail["truncated"]`` with its original length, and estimate
        the size again. The common case, nothing to cut, costs ``type`` and ``len`` calls
        only (:func:`_estimate`)."""
        limit = self.max_field_bytes
        cuts: dict[str, int] = {}
        for key, value in list(detail.items()):
            if key in UNCUT_FIELDS:
                continue
            if isinstance(value, str | bytes) and len(value) > limit:
                cuts[key] = len(value)
                detail[key] = _cut(value, limit)
            elif isinstance(value, dict):
                long = {k: v for k, v in value.items()
                        if isinstance(v, str | bytes) and len(v) > limit}
                if long:
                    cuts.update((f"{key}.{k}", len(v)) for k, v in long.items())
                    detail[key] = {**value, **{k: _cut(v, limit) for k, v in long.items()}}
        if cuts:
            detail["truncated"] = cuts
            self.truncated += len(cuts)
        return _estimate(detail)[0]

    def _drop_oldest(self) -> None:
        """Drop from the front until both bounds hold; the newest entry always stays."""
        entries, head = self._entries, self._head
        while (len(entries) - head > 1
               and (len(entries) - head > self.max_entries or self.bytes > self.max_bytes)):
            row = entries[head]
            entries[head] = None
            head += 1
            assert row is not None
            self.bytes -= row[_SIZE]
            self.dropped += 1
            self.dropped_bytes += row[_SIZE]
        if head > _COMPACT_AFTER and head * 2 > len(entries):
            del entries[:head]
            head = 0
        self._head = head

    @property
    def subscribers(self) -> int:
        """How many subscribers are listening (live event streams and the log among them)."""
        return len(self._subscribers)

    @property
    def oldest_seq(self) -> int | None:
        """The ``seq`` of the oldest kept entry; ``None`` when none is kept."""
        if self._head >= len(self._entries):
            return None
        first = self._entries[self._head]
        assert first is not None
        return first[_SEQ]

    def after(self, since: int) -> Iterator[Entry]:
        """Every kept entry with ``seq > since``, oldest first. Like every iterator of the
        journal, not to be held across an ``await``: entries may be dropped meanwhile."""
        return self._after(since)

    def _after(self, since: int) -> Iterator[Entry]:
        """Every kept entry with ``seq > since``, oldest first, found by position: the kept
        entries' seqs are consecutive."""
        entries, head = self._entries, self._head
        if head >= len(entries):
            return
        first = entries[head]
        assert first is not None
        start = head + max(0, since - first[_SEQ] + 1)
        for i in range(start, len(entries)):
            row = entries[i]
            assert row is not None
            yield _view(row)

    def entries(self, kind: str | None = None, provider: str | None = None,
                since: int = 0) -> Iterator[Entry]:
        """Kept entries after ``since`` with the given kind and provider, oldest first."""
        for entry in self._after(since):
            if kind is not None and entry.kind != kind:
                continue
            if provider is not None and entry.provider != provider:
                continue
            yield entry

    def page(self, kind: str | None = None, provider: str | None = None, since: int = 0,
             limit: int = 100, budget: int = SCAN_BUDGET) -> Page[Entry]:
        """One page of :meth:`entries` (see :mod:`emulator.core.paging`): pass its cursor as
        ``since`` to continue."""
        return take(self._after(since), attrgetter("seq"), limit,
                    matching(kind=kind, provider=provider), budget)

    def __len__(self) -> int:
        return len(self._entries) - self._head

    def retention(self) -> dict[str, int]:
        """What is kept and what went, for ``GET /_emulator/health``."""
        return {"kept": len(self), "limit": self.max_entries, "evicted": self.dropped,
                "bytes": self.bytes, "bytes_limit": self.max_bytes,
                "evicted_bytes": self.dropped_bytes, "truncated": self.truncated,
                "field_limit": self.max_field_bytes}

    def clear(self) -> None:
        self._entries = []
        self._head = 0
        self.bytes = 0
        self.dropped = 0
        self.dropped_bytes = 0
        self.truncated = 0
