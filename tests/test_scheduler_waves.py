"""The manual clock's waves: jobs due at one instant run in due order, their overlapping work
runs together (bounded; waiting work not counted), follow-ups come in due order whatever
finished first, and a wave's own jobs run in a later wave. Stopping cancels work in flight."""

from __future__ import annotations

import asyncio
import time

import pytest

from emulator.core import scheduler as scheduler_module
from emulator.core.clock import ManualClock, RealClock
from emulator.core.scheduler import Scheduler, Stopping

BOUND = 5.0  # seconds: a bound against a hang, never waited for when the code is right


async def test_overlapping_work_runs_together_and_follow_ups_come_in_due_order() -> None:
    clock = ManualClock(0)
    scheduler = Scheduler(clock)
    log: list[str] = []
    inside: list[int] = []
    answers = [asyncio.Event() for _ in range(3)]

    def job(n: int):
        async def work() -> int:
            inside.append(n)
            if len(inside) == 3:  # only reached if all three are in flight at once
                for event in reversed(answers):  # answers come back last first...
                    event.set()
                    await asyncio.sleep(0)
            await answers[n].wait()
            log.append(f"answer {n}")
            return n * 10

        async def then(result: int) -> None:  # ...yet are acted on in due order
            log.append(f"then {n}: {result} at {clock.now():g}")

        async def run() -> None:
            log.append(f"start {n}")
            await scheduler.overlap(work, then)
        return run

    for n in range(3):
        scheduler.call_at(10, job(n))
    async with asyncio.timeout(BOUND):
        assert await scheduler.advance(20) == 3
    assert log == ["start 0", "start 1", "start 2", "answer 1", "answer 0", "answer 2",
                   "then 0: 0 at 10", "then 1: 10 at 10", "then 2: 20 at 10"]
    assert clock.now() == 20


async def test_a_wave_runs_at_most_its_bound_of_overlapping_work_at_once() -> None:
    scheduler = Scheduler(ManualClock(0))
    bound = scheduler_module.WAVE_CONCURRENCY
    active = peak = 0
    full, release = asyncio.Event(), asyncio.Event()
    followed: list[int] = []

    async def work() -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        if active == bound:
            full.set()
        await release.wait()
        active -= 1

    async def then(_: None) -> None:
        followed.append(1)

    async def run() -> None:
        await scheduler.overlap(work, then)

    async def hold_then_release() -> None:
        await full.wait()
        for _ in range(20):  # turns of the loop in which no further work may start
            await asyncio.sleep(0)
        release.set()

    count = bound + 44
    for _ in range(count):
        scheduler.call_at(1, run)
    async with asyncio.timeout(BOUND):
        _, ran = await asyncio.gather(hold_then_release(), scheduler.advance(1))
    assert ran == count and len(followed) == count
    assert peak == bound


async def test_waiting_work_does_not_count_against_the_bound() -> None:
    """More jobs than the bound wait for something only the last job of the wave does: if
    waiting work kept its place, the last job would never get to run."""
    scheduler = Scheduler(ManualClock(0))
    opened = asyncio.Event()
    through: list[int] = []
    count = scheduler_module.WAVE_CONCURRENCY + 10

    def job(n: int):
        async def work() -> int:
            async with scheduler.waiting():
                await opened.wait()
            return n

        async def then(result: int) -> None:
            through.append(result)

        async def run() -> None:
            if n == count - 1:
                opened.set()
            else:
                await scheduler.overlap(work, then)
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

    async def queues() -> None:
        log.append("queues")
        scheduler.call_at(clock.now(), later)
        scheduler.call_at(clock.now() - 5, later)  # even one due in the past

    async def slow_work() -> None:
        for _ in range(5):
            await asyncio.sleep(0)

    async def slow_done(_: None) -> None:
        log.append("slow done")

    async def slow() -> None:
        await scheduler.overlap(slow_work, slow_done)

    async def later() -> None:
        log.append(f"later at {clock.now():g}")

    scheduler.call_at(7, queues)
    scheduler.call_at(7, slow)
    async with asyncio.timeout(BOUND):
        assert await scheduler.advance(10) == 4
    assert log == ["queues", "slow done", "later at 7", "later at 7"]


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


async def test_a_failing_follow_up_is_reported_and_the_wave_goes_on() -> None:
    errors: list[str] = []
    scheduler = Scheduler(ManualClock(0),
                          on_error=lambda label, exc: errors.append(f"{label}: {exc}"))
    done: list[int] = []

    def job(n: int):
        async def work() -> int:
            if n == 0:
                raise RuntimeError("work broke")
            return n

        async def then(result: int) -> None:
            if result == 1:
                raise RuntimeError("follow-up broke")
            done.append(result)

        async def run() -> None:
            await scheduler.overlap(work, then)
        return run

    for n in range(3):
        scheduler.call_at(1, job(n), f"job {n}")
    await scheduler.advance(1)
    assert errors == ["job 0: work broke", "job 1: follow-up broke"] and done == [2]


async def test_stop_cancels_work_in_flight_and_the_advance_returns_at_once() -> None:
    scheduler = Scheduler(ManualClock(0))
    inside: list[int] = []
    cut: list[int] = []
    followed: list[int] = []
    started = asyncio.Event()

    def job(n: int):
        async def work() -> None:
            inside.append(n)
            if len(inside) == 3:
                started.set()
            await asyncio.Event().wait()  # hangs until cancelled

        async def then(_: None) -> None:
            followed.append(n)

        async def run() -> None:
            await scheduler.overlap(work, then, lambda: cut.append(n))
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
        assert sorted(cut) == [0, 1, 2]  # told before stop returns
        await advance
    assert time.perf_counter() - began < 1.0
    assert followed == [] and never == []
    assert scheduler.stopping and scheduler.pending == 1  # queued, never run
    with pytest.raises(Stopping):
        await scheduler.overlap(asyncio.sleep, lambda _: asyncio.sleep(0))


async def test_work_cancelled_before_it_ever_ran_is_still_told() -> None:
    """Stop lands right after the wave handed work over: its task is cancelled before its
    first step, and ``cancelled()`` must be called all the same."""
    scheduler = Scheduler(ManualClock(0))
    cut: list[int] = []
    stopping: list[asyncio.Future] = []

    def job(n: int):
        async def work() -> None:
            await asyncio.Event().wait()

        async def then(_: None) -> None:
            raise AssertionError("cancelled work has no follow-up")

        async def run() -> None:
            await scheduler.overlap(work, then, lambda: cut.append(n))
            if n == 0:
                stopping.append(asyncio.ensure_future(scheduler.stop()))
        return run

    for n in range(50):
        scheduler.call_at(1, job(n))
    async with asyncio.timeout(BOUND):
        await scheduler.advance(5)
        await stopping[0]
    assert sorted(cut) == list(range(50))  # 49 of them never ran a step


async def test_outside_a_wave_overlap_runs_in_place_and_waiting_does_nothing() -> None:
    scheduler = Scheduler(RealClock())
    scheduler.start()
    done = asyncio.Event()
    log: list[str] = []

    async def work() -> str:
        async with scheduler.waiting():
            log.append("work")
        return "answer"

    async def then(result: str) -> None:
        log.append(f"then {result}")

    async def run() -> None:
        await scheduler.overlap(work, then)
        log.append("after")
        done.set()

    try:
        scheduler.call_later(0, run)
        async with asyncio.timeout(BOUND):
            await done.wait()
    finally:
        await scheduler.stop()
    assert log == ["work", "then answer", "after"]
