"""One page of a long list, at a cost bounded by the page, not by the store.

Every list of the control API answers a page: at most ``limit`` items (default
:data:`DEFAULT_LIMIT`, at most :data:`MAX_LIMIT`) and a cursor to continue from, or none on the
last page. The cursor is the ``seq`` of the last item the page *examined*: the next page
continues past it (below it for newest-first lists, above it for the journal).

A filter that matches little must not turn a page into a walk over the whole store, so a page
examines at most :data:`SCAN_BUDGET` items; when the budget runs out first the page is shorter
than ``limit`` (even empty) and still has a cursor. The end of a list is a page without a
cursor, never a short page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Generic, TypeVar

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: items one page may examine, matching or not
SCAN_BUDGET = 10_000


@dataclass
class Page(Generic[T]):
    items: list[T]
    #: where the next page starts (a ``seq``), None on the last page
    cursor: int | None


def take(candidates: Iterable[T], seq: Callable[[T], int], limit: int,
         keep: Callable[[T], bool] | None = None, budget: int = SCAN_BUDGET) -> Page[T]:
    """The first ``limit`` of ``candidates`` that ``keep`` accepts, examining at most
    ``budget`` of them (``budget`` >= ``limit``)."""
    items: list[T] = []
    iterator = iter(candidates)
    for examined, item in enumerate(iterator, 1):
        if keep is None or keep(item):
            if len(items) == limit:  # one more matches: the next page starts with it
                return Page(items, seq(items[-1]))
            items.append(item)
        if examined >= budget:
            more = next(iterator, None) is not None
            return Page(items, seq(item) if more else None)
    return Page(items, None)


def matching(**wanted: Any) -> Callable[[Any], bool] | None:
    """A test that an item's attributes equal every ``wanted`` value that is not None (one
    C-level attribute fetch and comparison an item); None when nothing is wanted."""
    names = tuple(name for name, value in wanted.items() if value is not None)
    if not names:
        return None
    values = tuple(wanted[name] for name in names)
    fetch = attrgetter(*names)
    if len(names) == 1:
        value = values[0]
        return lambda item: fetch(item) == value
    return lambda item: fetch(item) == values
