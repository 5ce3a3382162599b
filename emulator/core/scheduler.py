"""Runs jobs at emulated times on the :mod:`emulator.core.clock`.

On a real or scaled clock a driver task sleeps until the next job falls due and starts it (due
jobs run concurrently, so one slow webhook does not hold up the rest). On a manual clock nothing
in the future runs until :meth:`Scheduler.advance` moves the clock: it runs every job that falls
due, one at a time in due order, setting the clock to each job's time first, so that the same
inputs always give the same timestamps. Jobs due *now* (a webhook queued by a request) run at
once on every clock; :meth:`Scheduler.settle` waits for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from emulator.core.clock import Clock, ManualClock

JobFn = Callable[[], Awaitable[None]]
ErrorHook = Callable[[str, BaseException], None]


@dataclass
class Job:
    due: float
    seq: int
    fn: JobFn
    label: str = ""
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class AdvanceBusy(RuntimeError):
    """Raised when ``advance`` is called while another advance is still running."""


class Scheduler:
    def __init__(self, clock: Clock, on_error: ErrorHook | None = None) -> None:
        self.clock = clock
        # (due, seq, job): tuples compare in C, which matters with thousands of queued jobs
        self._heap: list[tuple[float, int, Job]] = []
        self._seq = itertools.count()
        self._on_error = on_error
        self._lock = asyncio.Lock()
        self._wakeup = asyncio.Event()
        self._driver: asyncio.Task | None = None
        self._running: set[asyncio.Task] = set()
        self._drain: asyncio.Task | None = None
        self._stopping = False

    # -- queueing ---------------------------------------------------------------------------
    def call_at(self, due: float, fn: JobFn, label: str = "") -> Job:
        job = Job(due, next(self._seq), fn, label)
        heapq.heappush(self._heap, (job.due, job.seq, job))
        if isinstance(self.clock, ManualClock):
            if due <= self.clock.now():
                self._start_drain()
        elif self._heap[0][2] is job:  # only a new earliest job changes how long the driver waits
            self._wakeup.set()
        return job

    def call_later(self, delay: float, fn: JobFn, label: str = "") -> Job:
        return self.call_at(self.clock.now() + max(0.0, delay), fn, label)

    @property
    def pending(self) -> int:
        return sum(1 for _, _, job in self._heap if not job.cancelled)

    def next_due(self) -> float | None:
        self._drop_cancelled()
        return self._heap[0][0] if self._heap else None

    def clear(self) -> None:
        """Forget every queued job (used by reset)."""
        for _, _, job in self._heap:
            job.cancel()
        self._heap.clear()

    # -- running ----------------------------------------------------------------------------
    async def _run(self, job: Job) -> None:
        try:
            await job.fn()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a job's failure must not stop the clock
            if self._on_error is not None:
                self._on_error(job.label, exc)

    def _drop_cancelled(self) -> None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)

    def _pop_due(self, until: float) -> Job | None:
        self._drop_cancelled()
        if self._heap and self._heap[0][0] <= until:
            return heapq.heappop(self._heap)[2]
        return None

    async def _run_until(self, until: float, clock: ManualClock) -> int:
        ran = 0
        while (job := self._pop_due(until)) is not None:
            clock.set(job.due)
            await self._run(job)
            ran += 1
        return ran

    async def advance(self, seconds: float,
                      started: Callable[[float], object] | None = None) -> int:
        """Manual clock only: move ``seconds`` forward running everything that falls due.

        Returns the number of jobs run. Jobs queued by running jobs are run too if they fall due
        before the target time. ``started(target)`` is called once the advance is sure to run,
        before its first job (the control API journals it there, ahead of what it causes).
        """
        clock = self.clock
        if not isinstance(clock, ManualClock):
            raise TypeError("only a manual clock can be advanced")
        if self._lock.locked() and self._drain is None:
            raise AdvanceBusy("the clock is already being advanced")
        async with self._lock:
            target = clock.now() + max(0.0, seconds)
            if started is not None:
                started(target)
            ran = await self._run_until(target, clock)
            clock.set(target)
            return ran

    def _start_drain(self) -> None:
        if self._drain is None or self._drain.done():
            self._drain = asyncio.get_running_loop().create_task(self._drain_due())

    async def _drain_due(self) -> None:
        clock = self.clock
        assert isinstance(clock, ManualClock)
        async with self._lock:
            await self._run_until(clock.now(), clock)
        self._drain = None

    async def settle(self) -> None:
        """Wait until every job due now has run (manual clock), or has started (other clocks)."""
        if isinstance(self.clock, ManualClock):
            while self._drain is not None and not self._drain.done():
                await asyncio.shield(self._drain)
            return
        await asyncio.sleep(0)

    # -- real and scaled clocks -------------------------------------------------------------
    def start(self) -> None:
        if not isinstance(self.clock, ManualClock) and self._driver is None:
            self._driver = asyncio.get_running_loop().create_task(self._drive())

    async def _drive(self) -> None:
        # The flag, not only cancellation, ends the loop: Python 3.11's wait_for can swallow a
        # cancel that arrives as its timeout or event fires, and the driver would run forever.
        while not self._stopping:
            self._wakeup.clear()
            due = self.next_due()
            if due is not None and due <= self.clock.now():
                while (job := self._pop_due(self.clock.now())) is not None:
                    task = asyncio.get_running_loop().create_task(self._run(job))
                    self._running.add(task)
                    task.add_done_callback(self._running.discard)
                continue
            timeout = None if due is None else self.clock.real_delay(due - self.clock.now())
            if timeout is not None and math.isinf(timeout):
                timeout = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wakeup.wait()

    async def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()
        tasks = [t for t in (self._driver, self._drain, *self._running) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._driver = None
        self._drain = None
