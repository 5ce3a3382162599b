"""Runs jobs at emulated times on the :mod:`emulator.core.clock`.

A job is a function and the arguments it is called with. A plain one (a lifecycle step) runs
to its end when it is called; a coroutine function (a webhook attempt) may wait. On a real or
scaled clock one timer of the event loop is set for the earliest job; when it fires, every job
due by then starts there and then: a plain one runs in place, a waiting one as a task of its
own, so one slow webhook does not hold up the rest. No task, and no wake-up of a task, per
step: under load the steps of a few thousand messages a second cost a call each.

On a manual clock nothing in the future runs until :meth:`Scheduler.advance` moves the clock.
It runs what falls due in **waves**: every job due at the earliest instant, with the clock set
to that instant; once the whole wave has finished, the wave of the next instant. A job that
waits on the network (a webhook attempt) hands that part to :meth:`Scheduler.overlap`, which
runs it alongside the rest of the wave, so an advance through a retry schedule costs about one
webhook timeout per wave, however many receivers hang, not one per attempt. Jobs due *now* (a
webhook queued by a request) run at once on every clock, in waves too; :meth:`Scheduler.settle`
waits for them.

A wave keeps runs reproducible, so that the same inputs always give the same timestamps,
journal and ids:

- the clock never goes backwards and does not move during a wave: every job sees its due time
  as now;
- the jobs run one after another in due order (queue order for equal times), each up to its
  end or to its ``overlap`` (which returns at once), as they always did;
- the overlapping parts (``work``) run together; their follow-ups (``then``: journal the
  attempt, schedule the retry, send an auto-reply that draws ids from the seeded RNG) run once
  every job of the wave has run, one after another in due order, whichever answer came first;
- a job queued by a wave runs in a later wave, even when it is due at the same instant;
- at most :data:`WAVE_CONCURRENCY` overlapping parts run at once (more wait for a place before
  their job goes on); one that is only waiting (``async with scheduler.waiting():`` around the
  wait for a free connection to a busy host) gives its place up meanwhile, so work stuck behind
  a hanging receiver never keeps other work from starting.

Outside a wave (real and scaled clocks) ``overlap`` runs ``work`` then ``then`` in place and
``waiting`` does nothing.

:meth:`Scheduler.stop` (server shutdown) cancels the overlapping work in flight and every job
task, and lets a wave in progress end: finished work still gets its follow-up, nothing new
starts (``overlap`` raises :class:`Stopping`), and an advance in progress returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from emulator.core.clock import Clock, ManualClock
from emulator.core.job_queue import JobQueue

#: a job's function: a plain one, or one returning an awaitable (a coroutine function)
JobFn = Callable[..., Awaitable[None] | None]
ErrorHook = Callable[[str, BaseException], None]
T = TypeVar("T")

#: how many overlapping parts of a wave run at once (waiting ones not counted)
WAVE_CONCURRENCY = 256
#: how long :meth:`Scheduler.stop` lets a wave in progress take to end before cancelling it
STOP_GRACE_SECONDS = 2.0


@dataclass(slots=True)
class Job:
    due: float
    seq: int
    fn: JobFn
    label: str = ""
    #: what ``fn`` is called with: a method and its arguments, rather than a closure, leave
    #: half as many objects for the garbage collector to walk while thousands of steps wait
    args: tuple[Any, ...] = ()
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class AdvanceBusy(RuntimeError):
    """Raised when ``advance`` is called while another advance is still running."""


class Stopping(Exception):
    """Raised by :meth:`Scheduler.overlap` once the scheduler is stopping: the work was not
    started. A job may catch it to record that; otherwise it ends the job quietly."""


@dataclass
class _Wave:
    """The jobs due at one instant of a manual clock; ``follow_ups`` in due order."""

    places: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(WAVE_CONCURRENCY))
    follow_ups: list[tuple[asyncio.Task, Callable[[Any], Awaitable[None]], str]] = field(
        default_factory=list)
    #: the label of the job running now (its overlapping work's errors are reported so)
    current: str = ""


class _Place:
    """An overlapping part's place in its wave's concurrency (``held`` unless waiting)."""

    __slots__ = ("held", "wave")

    def __init__(self, wave: _Wave) -> None:
        self.wave = wave
        self.held = True


#: the wave whose jobs this task is running (set by the wave, for ``overlap``)
_WAVE: contextvars.ContextVar[_Wave | None] = contextvars.ContextVar("scheduler_wave",
                                                                     default=None)
#: the place of the overlapping part this task runs (for ``waiting``)
_PLACE: contextvars.ContextVar[_Place | None] = contextvars.ContextVar("scheduler_place",
                                                                       default=None)


class Scheduler:
    def __init__(self, clock: Clock, on_error: ErrorHook | None = None) -> None:
        self.clock = clock
        # an isinstance check of an ABC costs microseconds, and call_at asks on every job
        self._manual = isinstance(clock, ManualClock)
        self._queue: JobQueue[Job] = JobQueue()
        self._seq = itertools.count()
        self._on_error = on_error
        self._lock = asyncio.Lock()
        # real and scaled clocks: the loop's timer for the earliest job, and that job's due
        # time; it runs in a context of its own, so a job never sees the variables of
        # whoever queued it
        self._started = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = math.inf
        self._timer_context = contextvars.Context()
        self._running: set[asyncio.Task] = set()
        self._drain: asyncio.Task | None = None
        self._stopping = False

    # -- queueing ---------------------------------------------------------------------------
    def call_at(self, due: float, fn: JobFn, label: str = "",
                args: tuple[Any, ...] = ()) -> Job:
        """Queue ``fn(*args)`` for the emulated time ``due``."""
        job = Job(due, next(self._seq), fn, label, args)
        self._queue.push(job)
        if self._manual:
            if due <= self.clock.now():
                self._start_drain()
        elif due < self._timer_due:  # only a new earliest job changes when the timer fires
            self._arm()
        return job

    def call_later(self, delay: float, fn: JobFn, label: str = "",
                   args: tuple[Any, ...] = ()) -> Job:
        return self.call_at(self.clock.now() + max(0.0, delay), fn, label, args)

    @property
    def pending(self) -> int:
        return sum(1 for job in self._queue if not job.cancelled)

    def next_due(self) -> float | None:
        return self._queue.next_due()

    def clear(self) -> None:
        """Forget every queued job (used by reset)."""
        for job in self._queue:
            job.cancel()
        self._queue.clear()

    # -- running ----------------------------------------------------------------------------
    def _call(self, job: Job) -> Awaitable[None] | None:
        """Call ``job``: a plain one runs to its end here; what a waiting one returns is for the
        caller to await (:meth:`_finish`). A failure is reported: it must not stop the clock."""
        try:
            return job.fn(*job.args)
        except Stopping:
            return None  # its work was never started: nothing to report
        except Exception as exc:
            self._report(job.label, exc)
            return None

    async def _finish(self, job: Job, waiting: Awaitable[None]) -> None:
        """The rest of a job that waits."""
        try:
            await waiting
        except asyncio.CancelledError:
            raise
        except Stopping:
            pass
        except Exception as exc:
            self._report(job.label, exc)

    def _report(self, label: str, exc: BaseException) -> None:
        if self._on_error is not None:
            self._on_error(label, exc)

    def _spawn(self, coro: Coroutine[Any, Any, Any], place: _Place | None = None
               ) -> asyncio.Task:
        """A task of its own, outside any wave (but in ``place``, for overlapping work), kept
        in ``_running`` until it ends so that :meth:`stop` can cancel it."""
        context = contextvars.copy_context()
        context.run(_WAVE.set, None)
        context.run(_PLACE.set, place)
        task = asyncio.get_running_loop().create_task(coro, context=context)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def _run_until(self, until: float, clock: ManualClock) -> int:
        ran = 0
        while not self._stopping and (jobs := self._queue.take_earliest(until)):
            clock.set(jobs[0].due)
            ran += await self._run_wave(jobs)
        return ran

    async def _run_wave(self, jobs: list[Job]) -> int:
        """Run ``jobs`` (all due now) in order, then the follow-ups of their overlapping work
        in the same order. Cancelled itself, the wave cancels its work too."""
        wave = _Wave()
        try:
            ran = await self._start_wave(wave, jobs)
            for task, then, label in wave.follow_ups:
                if not task.done():
                    await asyncio.wait([task])  # unlike ``await task``, our cancel spares it
                if task.cancelled():
                    continue  # cancelled by stop: ``cancelled()`` was told
                if task.exception() is not None:
                    self._report(label, task.exception())
                    continue
                try:
                    await then(task.result())
                except Exception as exc:
                    self._report(label, exc)
        except asyncio.CancelledError:
            for task, _, _ in wave.follow_ups:
                task.cancel()
            raise
        finally:
            # a task's context holds its place, which holds the wave: without this the wave,
            # its tasks and their work would be a reference cycle left to the collector
            wave.follow_ups = []
        return ran

    async def _start_wave(self, wave: _Wave, jobs: list[Job]) -> int:
        ran = 0
        token = _WAVE.set(wave)
        try:
            for n, job in enumerate(jobs):
                if self._stopping:  # what has not run stays queued
                    self._queue.push_front(jobs[n:])
                    break
                if job.cancelled:  # by an earlier job of this wave
                    continue
                wave.current = job.label
                waiting = self._call(job)
                if waiting is not None:
                    await self._finish(job, waiting)
                ran += 1
        finally:
            _WAVE.reset(token)
        return ran

    async def _in_place(self, place: _Place, work: Callable[[], Awaitable[T]]) -> T:
        try:
            return await work()
        finally:
            if place.held:
                place.held = False
                place.wave.places.release()

    async def overlap(self, work: Callable[[], Awaitable[T]],
                      then: Callable[[T], Awaitable[None]],
                      cancelled: Callable[[], None] | None = None) -> None:
        """Run ``work()`` alongside the other jobs of this wave and ``then(its result)`` after
        the wave's jobs have run, in due order (see the module's docstring); returns once
        ``work`` is under way. If :meth:`stop` cancels the work, ``then`` is not called but
        ``cancelled()`` is, started or not. Outside a wave: ``then(await work())``, here and
        now (a cancellation reaches the caller). Raises :class:`Stopping`, without starting
        ``work``, when the scheduler is stopping."""
        if self._stopping:
            raise Stopping
        wave = _WAVE.get()
        if wave is None:
            await then(await work())
            return
        await wave.places.acquire()
        if self._stopping:
            wave.places.release()
            raise Stopping
        place = _Place(wave)
        task = self._spawn(self._in_place(place, work), place)
        if cancelled is not None:
            task.add_done_callback(lambda done: cancelled() if done.cancelled() else None)
        wave.follow_ups.append((task, then, wave.current))

    @contextlib.asynccontextmanager
    async def waiting(self) -> AsyncIterator[None]:
        """Around a wait (for a free connection): overlapping work gives its place in the
        wave's concurrency up meanwhile, and takes one again after. Elsewhere: nothing."""
        place = _PLACE.get()
        if place is None or not place.held:
            yield
            return
        place.held = False
        place.wave.places.release()
        yield  # an exception (a cancellation) ends the work here: no place to take back
        await place.wave.places.acquire()
        place.held = True

    async def advance(self, seconds: float,
                      started: Callable[[float], object] | None = None) -> int:
        """Manual clock only: move ``seconds`` forward running everything that falls due.

        Returns the number of jobs run. Jobs queued by running jobs are run too if they fall due
        before the target time (in a later wave). ``started(target)`` is called once the
        advance is sure to run, before its first job (the control API journals it there, ahead
        of what it causes). When the scheduler stops meanwhile, the advance returns once its
        wave has ended, without moving the clock further.
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
        if self._manual:
            while self._drain is not None and not self._drain.done():
                await asyncio.shield(self._drain)
            return
        await asyncio.sleep(0)

    # -- real and scaled clocks -------------------------------------------------------------
    def start(self) -> None:
        if not self._manual and not self._started:
            self._started = True
            self._arm()

    def _arm(self) -> None:
        """Set the timer for the earliest queued job (none when nothing is queued)."""
        if not self._started or self._stopping:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._timer_due = None, math.inf
        due = self.next_due()
        if due is None:
            return
        delay = self.clock.real_delay(due - self.clock.now())
        if math.isinf(delay):
            return
        self._timer = asyncio.get_running_loop().call_later(delay, self._fire,
                                                            context=self._timer_context)
        self._timer_due = due

    def _fire(self) -> None:
        """Start every job due by now (the loop may fire a timer a hair early, and the clock
        is not the loop's: what is not due yet waits for the next timer)."""
        self._timer, self._timer_due = None, -math.inf  # no timer set while firing
        now = self.clock.now()
        jobs: list[Job] = []
        done = 0  # of ``jobs``, run or skipped
        try:
            # an instant at a time; what a job queues for now is in a later instant's list
            while not self._stopping and (jobs := self._queue.take_earliest(now)):
                done = 0
                for job in jobs:
                    if self._stopping:
                        break
                    done += 1
                    if not job.cancelled:  # an earlier job of the instant may cancel it
                        waiting = self._call(job)
                        if waiting is not None:
                            self._spawn(self._finish(job, waiting))
        finally:
            self._queue.push_front(jobs[done:])  # what has not run (stopping) stays queued
            self._timer_due = math.inf
            self._arm()

    @property
    def stopping(self) -> bool:
        """:meth:`stop` has been called: work cancelled now is cancelled for good."""
        return self._stopping

    async def stop(self) -> None:
        """Cancel the timer, every job task and all overlapping work in flight; a wave in
        progress then ends (within :data:`STOP_GRACE_SECONDS`, else it is cancelled too).
        Queued jobs stay queued and nothing more runs."""
        self._stopping = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._timer_due = None, math.inf
        drain = self._drain
        tasks = [t for t in self._running if t is not drain]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if drain is not None and not drain.done():
            try:
                async with asyncio.timeout(STOP_GRACE_SECONDS):
                    await asyncio.shield(drain)
            except TimeoutError:
                drain.cancel()
                await asyncio.gather(drain, return_exceptions=True)
        self._drain = None
