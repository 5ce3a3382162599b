"""The core on its own: clocks, the scheduler on each clock, the seeded RNG, the journal."""

from __future__ import annotations

import asyncio
import math

import pytest

from emulator.config import ConfigError, deep_merge
from emulator.core.clock import ManualClock, RealClock, ScaledClock, make_clock
from emulator.core.job_queue import JobQueue
from emulator.core.journal import Journal
from emulator.core.rng import SeededRandom
from emulator.core.scheduler import AdvanceBusy, Job, Scheduler
from tests.conftest import Emulator, Receiver, in_thread


def test_make_clock_picks_the_mode() -> None:
    assert isinstance(make_clock("real"), RealClock)
    assert isinstance(make_clock("manual", start=10), ManualClock)
    scaled = make_clock("real", speed=60)
    assert isinstance(scaled, ScaledClock) and scaled.mode == "scaled"
    assert scaled.real_delay(120) == pytest.approx(2.0)
    assert math.isinf(ManualClock(0).real_delay(1))
    with pytest.raises(ValueError):
        make_clock("sundial")


def test_manual_clock_never_goes_backwards() -> None:
    clock = ManualClock(100)
    clock.set(50)
    assert clock.now() == 100
    clock.set(150.5)
    assert clock.now() == 150.5


async def test_manual_advance_runs_jobs_in_due_order_at_their_time() -> None:
    clock = ManualClock(0)
    scheduler = Scheduler(clock)
    ran: list[tuple[str, float]] = []

    def job(name: str):
        async def run() -> None:
            ran.append((name, clock.now()))
            if name == "b":  # a job may queue another that also falls due
                scheduler.call_later(1, job("b+1"))
        return run

    scheduler.call_at(30, job("c"))
    scheduler.call_at(10, job("a"))
    scheduler.call_at(20, job("b"))
    scheduler.call_at(99, job("late"))
    assert await scheduler.advance(50) == 4
    assert ran == [("a", 10), ("b", 20), ("b+1", 21), ("c", 30)]
    assert clock.now() == 50
    assert scheduler.pending == 1


async def test_a_failing_job_is_reported_and_does_not_stop_the_clock() -> None:
    errors: list[str] = []
    scheduler = Scheduler(ManualClock(0), on_error=lambda label, exc: errors.append(label))

    async def boom() -> None:
        raise RuntimeError("boom")

    done = []

    async def fine() -> None:
        done.append(True)

    scheduler.call_at(1, boom, "boom job")
    scheduler.call_at(2, fine)
    await scheduler.advance(5)
    assert errors == ["boom job"] and done == [True]


async def test_cancelled_and_cleared_jobs_do_not_run() -> None:
    scheduler = Scheduler(ManualClock(0))
    ran = []

    async def run() -> None:
        ran.append(1)

    scheduler.call_at(1, run).cancel()
    assert await scheduler.advance(2) == 0
    scheduler.call_at(3, run)
    scheduler.clear()
    assert await scheduler.advance(2) == 0 and ran == []


async def test_jobs_of_one_instant_run_in_queue_order_and_may_cancel_each_other() -> None:
    """Many jobs share an instant (every message sent before an advance); they run in the
    order they were queued, among the instants' own order, and one may cancel a later one."""
    clock = ManualClock(0)
    scheduler = Scheduler(clock)
    ran: list[tuple[str, float]] = []
    jobs = {}

    def job(name: str):
        def run() -> None:
            ran.append((name, clock.now()))
            if name == "a1":
                jobs["a3"].cancel()
        return run

    for name, due in [("a0", 10), ("b0", 20), ("a1", 10), ("a2", 10), ("c0", 5), ("a3", 10),
                      ("b1", 20), ("a4", 10), ("gone", 7)]:
        jobs[name] = scheduler.call_at(due, job(name))
    jobs["gone"].cancel()
    assert scheduler.next_due() == 5 and scheduler.pending == 8
    assert await scheduler.advance(15) == 5
    assert ran == [("c0", 5), ("a0", 10), ("a1", 10), ("a2", 10), ("a4", 10)]
    assert scheduler.next_due() == 20 and scheduler.pending == 2


def test_job_queue_puts_an_unrun_rest_back_ahead_of_later_jobs_of_its_instant() -> None:
    queue: JobQueue[Job] = JobQueue()
    made = {name: Job(due, n, print, name) for n, (name, due) in
            enumerate([("x0", 1.0), ("x1", 1.0), ("x2", 1.0), ("y", 2.0)])}
    for job in made.values():
        queue.push(job)
    taken = queue.take_earliest(1.5)
    assert [job.label for job in taken] == ["x0", "x1", "x2"]
    late = Job(1.0, 9, print, "x-late")  # queued at the instant while it was running
    queue.push(late)
    queue.push_front(taken[1:])  # x0 ran; stopping left x1 and x2
    assert [job.label for job in queue.take_earliest(1.0)] == ["x1", "x2", "x-late"]
    made["y"].cancel()
    assert queue.next_due() is None and queue.take_earliest(9) == []


async def test_jobs_due_now_run_without_advancing_a_manual_clock() -> None:
    clock = ManualClock(0)
    scheduler = Scheduler(clock)
    ran = []

    async def run() -> None:
        ran.append(clock.now())

    scheduler.call_at(0, run)
    await scheduler.settle()
    assert ran == [0]


async def test_advance_inside_an_advance_is_refused() -> None:
    clock = ManualClock(0)
    scheduler = Scheduler(clock)
    seen: list[BaseException] = []

    async def nested() -> None:
        try:
            await scheduler.advance(1)
        except AdvanceBusy as exc:
            seen.append(exc)

    scheduler.call_at(1, nested)
    await scheduler.advance(1)
    assert len(seen) == 1


async def test_real_clock_driver_runs_due_jobs_without_being_advanced() -> None:
    scheduler = Scheduler(RealClock())
    scheduler.start()
    fired = asyncio.Event()

    async def run() -> None:
        fired.set()

    try:
        scheduler.call_later(0, run)
        await asyncio.wait_for(fired.wait(), 5)  # a bound, not a sleep: it fires at once
    finally:
        await scheduler.stop()
    with pytest.raises(TypeError):
        await scheduler.advance(1)


async def test_stop_cancels_the_timer_and_runs_nothing_queued() -> None:
    """Stop lands just after a job was queued (which set the timer): nothing runs, the job
    stays queued, and the server can always shut down."""
    for _ in range(20):
        scheduler = Scheduler(RealClock())
        scheduler.start()
        ran: list[int] = []
        scheduler.call_later(0, lambda ran=ran: ran.append(1))
        await asyncio.wait_for(scheduler.stop(), 5)
        await asyncio.sleep(0)  # a turn of the loop, when the timer would have fired
        assert ran == [] and scheduler.pending == 1


async def test_real_clock_runs_plain_jobs_in_place_and_waiting_ones_as_tasks() -> None:
    """A plain job (a lifecycle step) runs in the timer's callback, with no task of its own;
    a coroutine job gets a task; a job queued by a job, due at once, runs too; a failing one is
    reported and the others still run."""
    errors: list[str] = []
    scheduler = Scheduler(RealClock(), on_error=lambda label, exc: errors.append(label))
    scheduler.start()
    seen: dict[str, asyncio.Task | None] = {}
    done = asyncio.Event()

    def plain() -> None:
        seen["plain"] = asyncio.current_task()
        scheduler.call_later(0, queued)

    def queued() -> None:
        seen["queued"] = asyncio.current_task()

    def broken() -> None:
        raise ValueError("a bug in a step")

    async def waiting() -> None:
        seen["waiting"] = asyncio.current_task()
        await asyncio.sleep(0)
        done.set()

    try:
        scheduler.call_later(0, broken, "broken")
        scheduler.call_later(0, plain, "plain")
        scheduler.call_later(0, waiting, "waiting")
        await asyncio.wait_for(done.wait(), 5)  # a bound, not a sleep: all are due at once
        for _ in range(3):
            await asyncio.sleep(0)
    finally:
        await scheduler.stop()
    assert seen["plain"] is None and seen["queued"] is None
    assert seen["waiting"] is not None
    assert errors == ["broken"]
    assert scheduler.pending == 0


def test_seeded_random_repeats_and_reseeds() -> None:
    a, b = SeededRandom(42), SeededRandom(42)
    first = [a.hex_id() for _ in range(3)]
    assert first == [b.hex_id() for _ in range(3)]
    a.reseed()
    assert [a.hex_id() for _ in range(3)] == first
    assert all(len(x) == 32 and x == x.upper() for x in first)
    assert SeededRandom(1).uuid4() != SeededRandom(2).uuid4()
    assert SeededRandom(None).seed >= 0


def test_journal_keeps_the_newest_entries_and_counts_what_it_dropped() -> None:
    journal = Journal(ManualClock(0), max_entries=3)
    for n in range(5):
        journal.record("tick", None, n=n)
    assert [e.detail["n"] for e in journal.entries()] == [2, 3, 4]
    assert journal.dropped == 2
    assert [e.seq for e in journal.entries(since=4)] == [5]


def test_deep_merge_merges_objects_and_replaces_the_rest() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    merged = deep_merge(base, {"a": {"c": [3], "e": None}})
    assert merged == {"a": {"b": 1, "c": [3], "e": None}, "d": 1}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert str(ConfigError(["x: bad"])) == "x: bad"


async def test_a_step_after_zero_seconds_fires_without_advancing(
        emulator: Emulator, receiver: Receiver) -> None:
    await emulator.patch_config({"lifecycle": {"rules": [
        {"to": "15550000000", "steps": [{"status": 200, "after": 0}]}]}})
    response = await in_thread(emulator.sdk().message, "15550000000", "Hi", "OTP",
                               callback_url=receiver.url())
    await emulator.ctx.scheduler.settle()
    assert [r.json()["status"]["code"] for r in receiver.requests] == [200]
    assert (await emulator.message(response.json["reference_id"]))["status"] == 200


async def test_same_seed_and_start_give_identical_callbacks(aiohttp_server) -> None:
    """Two emulators with one seed: same reference ids, same payloads, same timings."""
    from aiohttp import ClientSession, web

    from emulator.app import CONTEXT, build_app
    from emulator.config import Settings
    from tests.conftest import START

    async def run_once() -> list[tuple[float, bytes]]:
        got: list[tuple[float, bytes]] = []
        app = build_app(Settings(clock="manual", seed=99, start=START))

        async def handle(request: web.Request) -> web.Response:
            got.append((app[CONTEXT].clock.now(), await request.read()))
            return web.Response(status=500 if len(got) == 1 else 200)

        sink = web.Application()
        sink.router.add_post("/cb", handle)
        sink_server = await aiohttp_server(sink)
        server = await aiohttp_server(app)
        from telesign.messaging import MessagingClient

        from tests.conftest import API_KEY, CUSTOMER_ID
        client = MessagingClient(CUSTOMER_ID, API_KEY, rest_endpoint=str(server.make_url("")))
        for number in ("15551234567", "15005550211"):
            await in_thread(client.message, number, "Hi", "OTP",
                            callback_url=str(sink_server.make_url("/cb")))
        async with ClientSession() as http:
            await http.post(str(server.make_url("/_emulator/clock/advance")),
                            json={"seconds": 100})
        return got

    first, second = await run_once(), await run_once()
    assert len(first) == 3
    assert first == second
