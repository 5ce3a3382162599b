"""The garbage collector's schedule for a long-running ``serve``.

A busy emulator holds hundreds of thousands of objects (100,000 messages and deliveries, the
journal, the lifecycle steps waiting), and CPython's collector walks them again and again: a
young collection walks what survived since the last one, an older one what survived the young
ones, a full one everything. Each walk is a pause of every request and webhook, and under load
those pauses were the emulator's tail latency: with CPython's thresholds, a young collection
every few hundred requests took 15-25 ms and an older one 60-170 ms (p99 75-160 ms where the
bare aiohttp app has 5 ms).

The request path makes no reference cycles (a test checks it), so long-lived objects need not be
walked again and again. ``serve`` therefore runs a :class:`CollectorSchedule`:

- **every 0.02 s, a young collection, then what survived is frozen** (:func:`gc.freeze`, which
  costs nothing): moved out of the collector's sight, so that no collection walks it again.
  The young collection walks only the last 0.02 s of survivors, collects the cycles of
  short-lived objects (failed webhook attempts leave some: an exception, its traceback and
  frames), and lets CPython stop tracking the journal's entries and the other tuples that hold
  no containers, so that the full collection below does not walk them. The walk costs the same
  CPU whatever the period; the pause grows with it. Frozen once a second with CPython's own
  young collections in between, they took 20-40 ms each (p99 40-60 ms at full load); every
  0.1 s, 3-7 ms at full load and 2-4 ms at 1,500 requests a second (p99 5-16 ms there); every
  0.05 s, 1-3 ms at 1,500 requests a second. A tick with nothing young costs well under a
  microsecond;
- **thresholds** (10,000, 1,000,000, 10): CPython's own young collection comes only after
  10,000 allocations, which a burst within a tick may still reach (one ``clock/advance`` over
  50,000 messages makes 45), and an older collection practically never: it would walk again
  what the young ones of that burst walked (four of 30-50 ms each in that advance), where the
  next tick freezes it anyway;
- **about once a minute, one full collection** of everything, frozen objects included
  (:func:`gc.unfreeze`, collect, freeze again): a cycle that became garbage after it was frozen
  (an attempt in flight at a freeze that failed later) is freed. That pause is about 0.4 s
  with 100,000 messages stored, so it waits, once a minute has passed, for a quiet tick: one in
  which the emulator did nothing (no journal entry), so that it holds up no request. Under
  constant load there is none, and it comes five minutes after the last at the latest: a
  load test sees that pause once in five minutes, and cyclic garbage lives five minutes at
  most.

Only ``serve`` does this: the pytest plugin and ``replay`` run inside someone else's process,
whose collector is not ours to tune.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

#: allocations between CPython's own young collections, then young collections per older one
SERVE_THRESHOLDS: tuple[int, int, int] = (10_000, 1_000_000, 10)
#: real seconds between two ticks: a young collection and a freeze of what survived
FREEZE_SECONDS = 0.02
#: after how many ticks a full collection is due (a minute); it waits for a quiet tick...
FULL_EVERY = round(60 / FREEZE_SECONDS)
#: ...for at most this many ticks in all (five minutes of constant load)
FULL_AT_LATEST = round(300 / FREEZE_SECONDS)


def tune_for_serving() -> None:
    gc.set_threshold(*SERVE_THRESHOLDS)


class CollectorSchedule:
    """Every :data:`FREEZE_SECONDS`, a young collection and a freeze of the survivors; a full
    collection instead of the young one at the first quiet tick ``full_every`` ticks after the
    last, or ``at_latest`` ticks after it whatever happens (see the module's docstring).
    ``activity`` is a count that anything the emulator does moves on (the journal's last
    ``seq``); a tick is quiet when it has not moved since the tick before. Without it every
    tick is quiet. :meth:`tick` is one step of the schedule."""

    def __init__(self, full_every: int = FULL_EVERY, at_latest: int = FULL_AT_LATEST,
                 activity: Callable[[], int] | None = None) -> None:
        self.full_every = full_every
        self.at_latest = max(at_latest, full_every)
        self.activity = activity
        self.ticks = 0
        self.full_collections = 0
        self._since_full = 0
        self._last_activity: int | None = None
        self._timer: asyncio.TimerHandle | None = None

    def start(self, delay: float = 0.0) -> None:
        """In ``delay`` seconds: collect what start-up left, freeze the rest, and tick from
        then on."""
        self._timer = asyncio.get_running_loop().call_later(delay, self._begin)

    def _begin(self) -> None:
        gc.collect()
        gc.freeze()
        self._timer = asyncio.get_running_loop().call_later(FREEZE_SECONDS, self._run)

    def _run(self) -> None:
        self.tick()
        self._timer = asyncio.get_running_loop().call_later(FREEZE_SECONDS, self._run)

    def tick(self) -> None:
        self.ticks += 1
        self._since_full += 1
        activity = self.activity() if self.activity is not None else None
        quiet, self._last_activity = activity == self._last_activity, activity
        if self._since_full >= self.at_latest or (self._since_full >= self.full_every and quiet):
            self._since_full = 0
            self.full_collections += 1
            gc.unfreeze()
            gc.collect()
        else:
            gc.collect(0)
        gc.freeze()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
