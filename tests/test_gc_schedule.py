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

from emulator.gc_tuning import CollectorSchedule
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
