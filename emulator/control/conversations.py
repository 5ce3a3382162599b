"""Conversations: the kept messages grouped into threads (:mod:`.threads`), for
``GET /_emulator/conversations``.

A filter (:mod:`.selection`) picks the messages that count: a thread is listed when at least
one of its messages matches, and its ``count``, ``inbound``, ``outbound``, ``channels`` and
``last`` describe the matching ones only. Threads come newest ``last_seq`` first (the ``seq`` of
their newest matching message); a page's cursor is the ``last_seq`` of its last thread and the
next page holds the threads below it. ``facets`` count every kept message, unfiltered, by
provider, channel, direction, status (as text) and origin, so a page can offer the choices;
``total`` is the number of matching threads, whatever the cursor.

A thread that gets a new message while someone pages moves to the top: the pages after do not
show it again (it was on an earlier page, or shows on the first one when it is fetched again).

Cost: one pass over every kept message a request, unlike the other lists' pages (bounded by
their scan budget). Measured in process over loopback (bench/paging_bench.py, CPU time of
the round trip, on a shared two-core machine), the first page of 100 threads takes about
N ms with 10,000 messages stored and N ms with 100,000 (the store's default limit).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from emulator.control import threads
from emulator.core.store import Message
from emulator.core.timefmt import iso_micro_z

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
                "last_seq": last.seq, "updated_at": iso_micro_z(last.created_at),
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
    # one C-level pass counting the combinations (few), then each field over those
    combinations = Counter(map(attrgetter(*FACETS), messages))
    counted: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    for values, count in combinations.items():
        for name, value in zip(FACETS, values, strict=True):
            counted[name][str(value)] += count  # a status is an int or a str: 200, "200" one
    return {name: dict(sorted(counts.items())) for name, counts in counted.items()}


def group(newest_first: Iterable[Message]) -> dict[threads.Parts, list[Message]]:
    """The threads of ``newest_first`` (messages, newest first) with their messages, newest
    ``last_seq`` first (dicts keep the order keys came in: each thread's newest first)."""
    found: dict[threads.Parts, list[Message]] = {}
    for message in newest_first:
        # threads.parts inlined: this loop runs once for every message kept
        if message.direction == "inbound":
            parts = (message.provider, message.to, message.from_ or "")
        else:
            parts = (message.provider, message.from_ or "", message.to)
        same = found.get(parts)
        if same is None:
            found[parts] = [message]
        else:
            same.append(message)
    return found


def page(messages: Sequence[Message], keep: Callable[[Message], bool] | None,
         before: int | None, limit: int) -> Conversations:
    """One page of the threads of ``messages`` (every kept message, newest first) whose
    messages ``keep`` accepts: at most ``limit`` threads with ``last_seq`` below ``before``."""
    every = list(group(messages if keep is None else filter(keep, messages)).items())
    start = 0
    if before is not None:  # threads come newest first: skip those at or above the cursor
        while start < len(every) and every[start][1][0].seq >= before:
            start += 1
    shown = [Thread(parts, found) for parts, found in every[start:start + limit]]
    more = start + limit < len(every)
    return Conversations(shown, len(every), facets(messages),
                         shown[-1].messages[0].seq if more and shown else None)
