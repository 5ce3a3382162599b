"""The collector's schedule of ``serve`` (:mod:`emulator.gc_tuning`) freezes what survived and
collects everything now and then; that is safe only because the request path makes no
reference cycles, which is checked here for sends, their lifecycles and their webhooks."""

from __future__ import annotations

import gc
import weakref
from collections import Counter
from collections.abc import Iterator

import pytest
from aiohttp import web

from emulator.gc_tuning import SERVE_THRESHOLDS, CollectorSchedule, tune_for_serving
from tests.conftest import Emulator
from tests.test_retention import telesign_send
from tests.tsg_support import NUMBER
from tests.tsg_support import send as tsg_send


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def garbage_cycle() -> weakref.ref[Node]:
    """Two objects that refer to each other and to which nothing else refers."""
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)


@pytest.fixture
def restored() -> Iterator[None]:
    """The test process's collector as it was: nothing left frozen, no debug flag."""
    try:
        yield
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.unfreeze()
        gc.enable()


def test_a_freeze_hides_survivors_and_a_full_tick_collects_them(restored: None) -> None:
    schedule = CollectorSchedule(full_every=3)
    alive = Node()
    alive.other = alive
    schedule.tick()  # frozen while still in use...
    kept = weakref.ref(alive)
    del alive  # ...then garbage, in a cycle
    gc.collect()
    assert kept() is not None  # no ordinary collection looks at frozen objects
    assert gc.get_freeze_count() > 0
    schedule.tick()
    assert kept() is not None
    schedule.tick()  # the third: everything is collected, then frozen again
    assert kept() is None and schedule.ticks == 3
    fresh = garbage_cycle()
    gc.disable()  # no collection of CPython's own: the tick's young one frees it
    schedule.tick()
    assert fresh() is None and schedule.ticks == 4  # what came after a freeze, young


def test_the_full_collection_waits_for_a_quiet_tick_but_not_for_ever(restored: None) -> None:
    """Due after ``full_every`` ticks, it comes at the first tick in which nothing happened
    (the activity count did not move), or after ``at_latest`` ticks under constant work."""
    count = 0
    schedule = CollectorSchedule(full_every=3, at_latest=7, activity=lambda: count)
    alive = Node()
    alive.other = alive
    schedule.tick()
    kept = weakref.ref(alive)
    del alive  # frozen, then garbage: only a full collection frees it
    for _ in range(5):  # busy: the count moves on every tick
        count += 1
        schedule.tick()
    assert schedule.ticks == 6 and schedule.full_collections == 0 and kept() is not None
    count += 1
    schedule.tick()  # the seventh: at the latest
    assert schedule.full_collections == 1 and kept() is None
    for _ in range(3):
        count += 1
        schedule.tick()
    assert schedule.full_collections == 1  # due again, but busy
    schedule.tick()  # nothing happened since the tick before: quiet
    assert schedule.full_collections == 2 and schedule.ticks == 11


def test_serve_s_thresholds_leave_older_collections_to_the_schedule(restored: None) -> None:
    """Between two ticks, a burst (a long ``clock/advance``) may set off CPython's own young
    collections, but not an older one, which would walk their survivors again."""
    before = gc.get_threshold()
    generations: Counter[int] = Counter()

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            generations[info["generation"]] += 1

    try:
        tune_for_serving()
        gc.collect()
        gc.callbacks.append(count)
        survivors = [[] for _ in range(SERVE_THRESHOLDS[0] * 30)]  # 30 thresholds' worth
        gc.callbacks.remove(count)
    finally:
        gc.set_threshold(*before)
    assert len(survivors) == SERVE_THRESHOLDS[0] * 30
    assert generations[0] >= 25  # young collections came, as with CPython's thresholds...
    assert generations[1] == generations[2] == 0  # ...and never an older one


async def test_sends_lifecycles_and_webhooks_make_no_reference_cycles(
        emulator: Emulator, aiohttp_server, restored: None) -> None:
    async def receive(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    receiver = str((await aiohttp_server(app)).make_url("/hook"))
    await emulator.patch_config({"tsg": {"numbers": {NUMBER: {"webhook_url": receiver,
                                                               "x_api_key": None}}}})

    async def traffic(count: int) -> None:
        for n in range(count):
            await telesign_send(emulator, "15551234567", callback_url=receiver if n % 2 else None)
            await tsg_send(emulator, to=["15551230000"], registered_delivery=1)
        await emulator.advance(10)

    await traffic(5)  # caches and connections are made once
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection would free is kept here instead
    await traffic(40)
    gc.collect()
    found = Counter(type(thing).__qualname__ for thing in gc.garbage)
    assert len(await emulator.deliveries()) >= 60  # the webhooks did go out: 20 + 45
    assert not found, f"reference cycles left for the collector: {found.most_common(8)}"
