"""The garbage collector's schedule for a long-running ``serve``.

A busy emulator holds hundreds of thousands of objects (100,000 messages and deliveries, the
journal, the lifecycle steps waiting), and CPython's collector walks them again and again: a
young collection walks what survived since the last one, an older one what survived the young
ones, a full one everything. Each walk is a pause of every request and webhook, and under load
those pauses were the emulator's tail latency: with the thresholds below alone, a young
collection every few hundred requests took 15-25 ms and an older one 60-170 ms (p99 75-160 ms
where the bare aiohttp app has 5 ms).

The request path makes no reference cycles (a test checks it), so long-lived objects need not be
walked again and again. ``serve`` therefore runs a :class:`CollectorSchedule`:

- **thresholds** (10,000, 10, 10): a young collection every 10,000 allocations instead of 700,
  which still collects the cycles of short-lived objects (failed webhook attempts leave some:
  an exception, its traceback and frames) young;
- **every second, what survived is frozen** (:func:`gc.freeze`, which costs nothing): moved
  out of the collector's sight, so that no collection walks it again and the older
  generations hold at most a second's worth. p99 under load fell from 75 ms to 30-37 ms;
- **every minute, one full collection** of everything, frozen objects included
  (:func:`gc.unfreeze`, collect, freeze again): a cycle that became garbage after it was frozen
  (an attempt in flight at a freeze that failed later) is freed within a minute. That pause
  (about 0.2 s with 100,000 messages stored) comes once a minute and holds up only the
  requests in flight then.

Only ``serve`` does this: the pytest plugin and ``replay`` run inside someone else's process,
whose collector is not ours to tune.
"""

from __future__ import annotations

import asyncio
import gc

#: allocations between young collections, then young collections per older one (twice)
SERVE_THRESHOLDS: tuple[int, int, int] = (10_000, 10, 10)
#: real seconds between two freezes of what survived
FREEZE_SECONDS = 1.0
#: every how many freezes everything is collected (once a minute)
FULL_EVERY = 60


def tune_for_serving() -> None:
    gc.set_threshold(*SERVE_THRESHOLDS)


class CollectorSchedule:
    """Freezes survivors every :data:`FREEZE_SECONDS` and collects everything every
    ``full_every`` freezes (see the module's docstring). :meth:`tick` is one step of it."""

    def __init__(self, full_every: int = FULL_EVERY) -> None:
        self.full_every = full_every
        self.ticks = 0
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
        if self.ticks % self.full_every == 0:
            gc.unfreeze()
            gc.collect()
        gc.freeze()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
