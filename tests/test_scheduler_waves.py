"""The manual clock's waves: jobs due at one instant run together (bounded), start in due order,
act on their results in due order, and a wave's own jobs run in a later wave."""

from __future__ import annotations

import asyncio
import time

from emulator.core import scheduler as scheduler_module
from emulator.core.clock import ManualClock, RealClock
from emulator.core.scheduler import Scheduler

BOUND = 5.0  # seconds: a bound against a hang, never waited for when the code is right


async def test_jobs_due_together_overlap_and_go_on_in_due_order() -> None:
    clock = ManualClock(0)
    scheduler = Scheduler(clock)
    entered: list[int] = []
    after: list[tuple[int, float]] = []
    answers = [asyncio.Event() for _ in range(3)]

    def job(n: int):
        async def run() -> None:
            async with scheduler.concurrently():
                entered.append(n)
                if len(entered) == 3:  # only reached if all three are inside at once
                    for event in reversed(answers):  # answers come back last first...
                        event.set()
                        await asyncio.sleep(0)
                await answers[n].wait()
            after.append((n, clock.now()))  # ...yet are acted on in due order
        return run

    for n in range(3):
        scheduler.call_at(10, job(n))
    async with asyncio.timeout(BOUND):
        assert await scheduler.advance(20) == 3
    assert entered == [0, 1, 2]
    assert after == [(0, 10), (1, 10), (2, 10)]
    assert clock.now() == 20


async def test_a_wave_runs_at_most_its_bound_of_jobs_at_once() -> None:
    scheduler = Scheduler(ManualClock(0))
    bound = scheduler_module.WAVE_CONCURRENCY
    active = peak = 0
    full, release = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        nonlocal active, peak
        async with scheduler.concurrently():
            active += 1
            peak = max(peak, active)
            if active == bound:
                full.set()
            await release.wait()
            active -= 1

    async def hold_then_release() -> None:
        await full.wait()
        for _ in range(20):  # turns of the loop in which no further job may start
            await asyncio.sleep(0)
        release.set()

    count = bound + 44
    for _ in range(count):
        scheduler.call_at(1, run)
    async with asyncio.timeout(BOUND):
        _, ran = await asyncio.gather(hold_then_release(), scheduler.advance(1))
    assert ran == count
    assert peak == bound


async def test_waiting_jobs_do_not_count_against_the_bound() -> None:
    """More jobs than the bound wait for something only the last job of the wave does: if a
    waiting job held its place, the last would never start."""
    scheduler = Scheduler(ManualClock(0))
    opened = asyncio.Event()
    through: list[int] = []
    count = scheduler_module.WAVE_CONCURRENCY + 10

    def job(n: int):
        async def run() -> None:
            if n == count - 1:
                opened.set()
                return
            async with scheduler.concurrently(), scheduler.waiting():
                await opened.wait()
            through.append(n)
        return run

    for n in range(count):
        scheduler.call_at(1, job(n))
    async with asyncio.timeout(BOUND):
        await scheduler.advance(1)
    assert through == list(range(count - 1))


async def test_a_job_queued_by_a_wave_runs_in_a_later_wave_at_the_same_instant() -> None:
    clock = ManualClock(0)
    scheduler = Scheduler(clock)
    log: list[str] = []
    slow_done = asyncio.Event()

    async def queues() -> None:
        log.append("queues")
        scheduler.call_at(clock.now(), later)

    async def slow() -> None:
        async with scheduler.concurrently():
            for _ in range(5):
                await asyncio.sleep(0)
        log.append("slow done")
        slow_done.set()

    async def later() -> None:
        log.append(f"later at {clock.now():g}, slow done: {slow_done.is_set()}")

    scheduler.call_at(7, queues)
    scheduler.call_at(7, slow)
    async with asyncio.timeout(BOUND):
        assert await scheduler.advance(10) == 3
    assert log == ["queues", "slow done", "later at 7, slow done: True"]


async def test_a_job_cancelled_by_an_earlier_job_of_its_wave_does_not_run() -> None:
    scheduler = Scheduler(ManualClock(0))
    ran: list[str] = []

    async def victim() -> None:
        ran.append("victim")

    async def canceller() -> None:
        ran.append("canceller")
        target.cancel()

    scheduler.call_at(3, canceller)
    target = scheduler.call_at(3, victim)
    assert await scheduler.advance(5) == 1
    assert ran == ["canceller"]


async def test_stop_cancels_a_running_wave_and_the_advance_returns_at_once() -> None:
    scheduler = Scheduler(ManualClock(0))
    cancelled: list[int] = []
    inside: list[int] = []
    started = asyncio.Event()

    def job(n: int):
        async def run() -> None:
            try:
                async with scheduler.concurrently():
                    inside.append(n)
                    if len(inside) == 3:
                        started.set()
                    await asyncio.Event().wait()  # hangs until cancelled
            except asyncio.CancelledError:
                cancelled.append(n)
                raise
        return run

    never: list[str] = []

    async def next_wave() -> None:
        never.append("ran")

    for n in range(3):
        scheduler.call_at(1, job(n))
    scheduler.call_at(2, next_wave)
    advance = asyncio.ensure_future(scheduler.advance(5))
    async with asyncio.timeout(BOUND):
        await started.wait()
        began = time.perf_counter()
        await scheduler.stop()
        await advance
    assert time.perf_counter() - began < 1.0
    assert sorted(cancelled) == [0, 1, 2] and never == []
    assert scheduler.stopping and scheduler.pending == 1  # queued, never run


async def test_concurrently_and_waiting_do_nothing_outside_a_wave() -> None:
    scheduler = Scheduler(RealClock())
    scheduler.start()
    done = asyncio.Event()

    async def run() -> None:
        async with scheduler.concurrently(), scheduler.waiting():
            pass
        done.set()

    try:
        scheduler.call_later(0, run)
        async with asyncio.timeout(BOUND):
            await done.wait()
    finally:
        await scheduler.stop()


async def test_stop_as_a_wave_is_starting_its_jobs_still_ends_the_advance() -> None:
    """Stop lands while the wave is launching: a job's task may be cancelled before it ever
    ran, and the wave must not wait for it to start."""
    scheduler = Scheduler(ManualClock(0))
    stopping: list[asyncio.Future] = []

    async def run() -> None:
        async with scheduler.concurrently():
            if not stopping:
                stopping.append(asyncio.ensure_future(scheduler.stop()))
            await asyncio.Event().wait()

    for _ in range(50):
        scheduler.call_at(1, run)
    async with asyncio.timeout(BOUND):
        await scheduler.advance(5)
        await stopping[0]
    assert scheduler.stopping
