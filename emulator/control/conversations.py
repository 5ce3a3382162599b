"""Conversations: the kept messages grouped into threads (:mod:`.threads`), for
``GET /_emulator/conversations``.

A filter (:mod:`.selection`) picks the messages that count: a thread is listed when at least
one of its messages matches, and its ``count``, ``inbound``, ``outbound``, ``channels`` and
``last`` describe the matching ones only, and ``recent_seqs`` lists the ``seq`` of its newest
:data:`RECENT` matching messages, newest first (what a reader needs to count the messages newer
than the last one it has seen). Threads come newest ``last_seq`` first (the ``seq`` of
their newest matching message); a page's cursor is the ``last_seq`` of its last thread and the
next page holds the threads below it. ``facets`` count every kept message, unfiltered, by
provider, channel, direction, status (as text) and origin, so a page can offer the choices;
``total`` is the number of matching threads, whatever the cursor.

A thread that gets a new message while someone pages moves to the top: the pages after do not
show it again (it was on an earlier page, or shows on the first one when it is fetched again).

Cost: one pass over every kept message a request, unlike the other lists' pages (bounded by
their scan budget), and the request holds the event loop meanwhile. Measured with
``bench/paging_bench.py`` (in process over loopback, TSG messages each to an end user of its
own, so as many threads as messages; best to median wall time over several runs on an idle
two-core VM): the first page of 100 threads takes 16-33 ms with 10,000 messages stored
(``limit=1000``: 55-100 ms) and 140-220 ms with 100,000, the store's default limit
(``limit=1000``: 200-320 ms; ``q`` matching nothing: 105-125 ms). The same 100,000 messages
over 500 end users: 185-195 ms.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from emulator.control import threads
from emulator.core.store import Message
from emulator.core.timefmt import iso_micro_z

#: how many of a thread's newest matching seqs ``recent_seqs`` lists (enough for an unread badge)
RECENT = 20

#: the fields ``facets`` counts messages by
FACETS: tuple[str, ...] = ("provider", "channel", "direction", "status", "origin")


@dataclass
class Thread:
    parts: threads.Parts
    #: its matching messages, newest first
    messages: list[Message]

    def to_json(self) -> dict[str, Any]:
        provider, ours, end_user = self.parts
        last = self.messages[0]
        inbound = sum(1 for message in self.messages if message.direction == "inbound")
        return {"key": threads.key(self.parts), "provider": provider, "ours": ours,
                "end_user": end_user, "count": len(self.messages), "inbound": inbound,
                "outbound": len(self.messages) - inbound,
                "channels": sorted({message.channel for message in self.messages}),
                "last_seq": last.seq,
                "recent_seqs": [message.seq for message in self.messages[:RECENT]],
                "updated_at": iso_micro_z(last.created_at),
                "last": last.to_json()}


@dataclass
class Conversations:
    #: the page's threads, newest ``last_seq`` first
    threads: list[Thread]
    #: matching threads in all
    total: int
    facets: dict[str, dict[str, int]]
    #: where the next page starts (a ``last_seq``), None on the last page
    cursor: int | None


def facets(messages: Sequence[Message]) -> dict[str, dict[str, int]]:
    """How many of ``messages`` have each value of each of :data:`FACETS` (values as text,
    sorted)."""
    # one C-level pass counting the combinations of values (few), then each field over those;
    # each combination's tuple is freed as soon as it is counted (see page)
    combinations = Counter(map(attrgetter(*FACETS), messages))
    counted: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    for values, count in combinations.items():
        for name, value in zip(FACETS, values, strict=True):
            counted[name][str(value)] += count  # a status is an int or a str: 200, "200" one
    return {name: dict(sorted(counts.items())) for name, counts in counted.items()}


def _minus_seq(message: Message) -> int:
    return -message.seq  # ascending along a newest-first list, as bisect needs


def _tag(message: Message) -> str:
    """A string naming the thread of ``message``, unambiguous whatever its parts hold (the
    lengths of the first two say where they end); inside this module only."""
    provider = message.provider
    if message.direction == "inbound":
        ours, end_user = message.to, message.from_ or ""
    else:
        ours, end_user = message.from_ or "", message.to
    return f"{len(provider)}:{provider}{len(ours)}:{ours}{end_user}"


def group(newest_first: Sequence[Message]) -> list[Thread]:
    """Every thread of ``newest_first`` (messages, newest first) with its messages, newest
    ``last_seq`` first."""
    return page(newest_first, None, None, len(newest_first) or 1).threads


def page(messages: Sequence[Message], keep: Callable[[Message], bool] | None,
         before: int | None, limit: int) -> Conversations:
    """One page of the threads of ``messages`` (every kept message, newest first) whose
    messages ``keep`` accepts: at most ``limit`` threads with ``last_seq`` below ``before``."""
    # The pass over every message keeps no container a message alive (its tags are strings;
    # the facets' tuples die as they are counted), so a request over 100,000 messages does
    # not drive the garbage collector into full collections of the whole emulator (with a
    # tuple and a list a thread it did: a median request 0.8 s in bench/paging_bench.py,
    # against 0.14 s for the best).
    matching = messages if keep is None else list(filter(keep, messages))
    tags = list(map(_tag, matching))
    order = dict.fromkeys(tags)  # each thread once, in the order of its newest message
    # the threads at or above the cursor (shown already): those of the messages there
    above = set() if before is None else set(
        tags[:bisect_right(matching, -before, key=_minus_seq)])
    shown: dict[str, list[Message]] = {}
    more = False
    for tag in order:
        if tag in above:
            continue
        if len(shown) == limit:
            more = True
            break
        shown[tag] = []
    if shown:  # the messages of the page's threads only
        for tag, message in zip(tags, matching, strict=True):
            same = shown.get(tag)
            if same is not None:
                same.append(message)
    found = [Thread(threads.parts(same[0]), same) for same in shown.values()]
    return Conversations(found, len(order), facets(messages),
                         found[-1].messages[0].seq if more else None)
