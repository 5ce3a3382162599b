"""Runs jobs at emulated times on the :mod:`emulator.core.clock`.

On a real or scaled clock a driver task sleeps until the next job falls due and starts it as a
task of its own: due jobs run concurrently, so one slow webhook does not hold up the rest.

On a manual clock nothing in the future runs until :meth:`Scheduler.advance` moves the clock.
It runs what falls due in **waves**: every job due at the earliest instant, together, with the
clock set to that instant; once the whole wave has finished, the wave of the next instant. An
advance through a webhook retry schedule so costs about one webhook timeout per wave, however
many receivers hang, not one per attempt. Jobs due *now* (a webhook queued by a request) run at
once on every clock, in waves too; :meth:`Scheduler.settle` waits for them.

A wave keeps runs reproducible, so that the same inputs always give the same timestamps,
journal and ids:

- the clock never goes backwards and does not move during a wave: every job sees its due time
  as now;
- jobs start one after another in due order (queue order for equal times): a job's code up to
  its first :meth:`~Scheduler.concurrently` or :meth:`~Scheduler.waiting` (for most jobs, all of
  it) has run before the next job starts;
- what a job does inside ``async with scheduler.concurrently():`` (a webhook's HTTP exchange)
  overlaps the other jobs of the wave; what it does after that block waits until every job of
  the wave has started and every earlier one has finished, so results are acted on (journaled,
  retried, answered with an auto-reply that draws ids from the seeded RNG) in due order;
- a job queued by a wave runs in a later wave, even when it is due at the same instant;
- at most :data:`WAVE_CONCURRENCY` jobs of a wave are running at once. A job that is waiting
  (``async with scheduler.waiting():`` around a wait for a free connection, or for its turn
  after ``concurrently``) does not count, so jobs stuck behind a hanging receiver never keep
  other jobs from starting.

Outside a wave (real and scaled clocks) ``concurrently`` and ``waiting`` do nothing.

:meth:`Scheduler.stop` (server shutdown) cancels every running job, including those of an
advance in progress, which then returns without starting another wave.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import heapq
import itertools
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from emulator.core.clock import Clock, ManualClock

JobFn = Callable[[], Awaitable[None]]
ErrorHook = Callable[[str, BaseException], None]

#: how many jobs of a wave run at once (waiting ones not counted)
WAVE_CONCURRENCY = 256


@dataclass
class Job:
    due: float
    seq: int
    fn: JobFn
    label: str = ""
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class _Wave:
    """The jobs due at one instant of a manual clock, run together."""

    __slots__ = ("all_started", "slots")

    def __init__(self) -> None:
        self.slots = asyncio.Semaphore(WAVE_CONCURRENCY)
        self.all_started = asyncio.Event()


class _Turn:
    """One job's place in its wave: ``started`` when the next job may start, ``done`` when it
    has finished; ``holding`` while it counts against the wave's concurrency."""

    __slots__ = ("done", "holding", "previous", "started", "wave")

    def __init__(self, wave: _Wave, previous: _Turn | None) -> None:
        self.wave = wave
        self.previous = previous
        self.started = asyncio.Event()
        self.done = asyncio.Event()
        self.holding = True

    def finish(self, _task: object = None) -> None:
        """The job has ended (also a task cancelled before it ever ran: its done callback)."""
        self.started.set()
        if self.holding:
            self.holding = False
            self.wave.slots.release()
        self.previous = None
        self.done.set()


#: the turn of the wave job this task runs, if any
_TURN: contextvars.ContextVar[_Turn | None] = contextvars.ContextVar("scheduler_turn",
                                                                     default=None)


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

    def _pop_wave(self, until: float) -> list[Job]:
        """Every job due at the earliest instant, if that is no later than ``until``."""
        first = self._pop_due(until)
        if first is None:
            return []
        wave = [first]
        while (job := self._pop_due(first.due)) is not None:
            wave.append(job)
        return wave

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task:
        """A task outside any wave (a job may start one through ``call_at``), kept in
        ``_running`` until it ends so that :meth:`stop` can cancel it."""
        context = contextvars.copy_context()
        context.run(_TURN.set, None)
        task = asyncio.get_running_loop().create_task(coro, context=context)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def _run_until(self, until: float, clock: ManualClock) -> int:
        ran = 0
        while not self._stopping and (wave := self._pop_wave(until)):
            clock.set(wave[0].due)
            ran += await self._run_wave(wave)
        return ran

    async def _run_wave(self, jobs: list[Job]) -> int:
        wave = _Wave()
        tasks: list[asyncio.Task] = []
        previous: _Turn | None = None
        try:
            for job in jobs:
                await wave.slots.acquire()
                if job.cancelled or self._stopping:  # cancelled by a job of this wave
                    wave.slots.release()
                    continue
                turn = _Turn(wave, previous)
                task = self._spawn(self._run_turn(job, turn))
                task.add_done_callback(turn.finish)
                tasks.append(task)
                await turn.started.wait()
                previous = turn
        finally:
            wave.all_started.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return len(tasks)

    async def _run_turn(self, job: Job, turn: _Turn) -> None:
        _TURN.set(turn)
        try:
            await self._run(job)
        finally:
            turn.finish()

    @contextlib.asynccontextmanager
    async def concurrently(self) -> AsyncIterator[None]:
        """In a wave: the block overlaps the other jobs of the wave (the next job starts at
        once); after it, the job waits for every job of the wave to have started and every
        earlier one to have finished, so it goes on in due order. Elsewhere: nothing."""
        turn = _TURN.get()
        if turn is None:
            yield
            return
        turn.started.set()
        yield
        async with self.waiting():
            await turn.wave.all_started.wait()
            previous = turn.previous
            if previous is not None:
                await previous.done.wait()
                turn.previous = None

    @contextlib.asynccontextmanager
    async def waiting(self) -> AsyncIterator[None]:
        """In a wave: the block only waits (for a free connection, for its turn), so the job
        does not count against the wave's concurrency meanwhile, and the next job may start.
        Elsewhere: nothing."""
        turn = _TURN.get()
        if turn is None or not turn.holding:
            yield
            return
        turn.started.set()
        turn.holding = False
        turn.wave.slots.release()
        yield  # an exception (a cancellation) ends the job here: no slot to take back
        await turn.wave.slots.acquire()
        turn.holding = True

    async def advance(self, seconds: float,
                      started: Callable[[float], object] | None = None) -> int:
        """Manual clock only: move ``seconds`` forward running everything that falls due.

        Returns the number of jobs run. Jobs queued by running jobs are run too if they fall due
        before the target time (in a later wave). ``started(target)`` is called once the
        advance is sure to run, before its first job (the control API journals it there, ahead
        of what it causes). When the scheduler stops meanwhile, the advance returns at once.
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
            if not self._stopping:
                clock.set(target)
            return ran

    def _start_drain(self) -> None:
        if self._stopping:
            return
        if self._drain is None or self._drain.done():
            self._drain = self._spawn(self._drain_due())

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
                    self._spawn(self._run(job))
                continue
            timeout = None if due is None else self.clock.real_delay(due - self.clock.now())
            if timeout is not None and math.isinf(timeout):
                timeout = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wakeup.wait()

    @property
    def stopping(self) -> bool:
        """:meth:`stop` has been called: jobs being cancelled now are cancelled for good."""
        return self._stopping

    async def stop(self) -> None:
        """Cancel the driver and every running job (an advance in progress then returns);
        queued jobs stay queued and nothing more runs."""
        self._stopping = True
        self._wakeup.set()
        tasks = [t for t in (self._driver, self._drain, *self._running) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._driver = None
        self._drain = None
