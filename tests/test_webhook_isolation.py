"""One bad receiver never hurts another: a bounded number of connections per destination,
queue wait recorded apart from latency, the timeout started with the connection; an advance
through a retry schedule costs a timeout per wave, not per attempt; answers read to their end;
attempts in flight cancelled and recorded when the emulator stops."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from typing import Any

from aiohttp import ClientSession, web

from emulator.app import CONTEXT, build_app
from emulator.config import Settings
from emulator.core import logline
from emulator.core.timefmt import parse_iso
from emulator.providers.tsg.webhooks import RETRY_DELAYS
from tests.conftest import SEED, START, Emulator, assert_valid
from tests.hostile import SPLIT_ANSWER, Hostile, MakeHostile, hostile  # noqa: F401
from tests.tsg_support import END_USER, inject, journal, send

HANG_DID, OK_DID = "15550001001", "15550001002"
PER_HOST = 16  # set in the tests that count on it (the default is 64)
HANGING = 120


def recipients(count: int, first: int = 15552000000) -> list[str]:
    return [str(first + n) for n in range(count)]


async def point(emulator: Emulator, numbers: dict[str, Hostile]) -> None:
    await emulator.patch_config({"tsg": {"numbers": {
        did: {"webhook_url": receiver.url, "x_api_key": None}
        for did, receiver in numbers.items()}}})


async def test_a_hanging_receiver_does_not_delay_a_healthy_one(
        emulator: Emulator, hostile: MakeHostile) -> None:  # noqa: F811
    timeout = 0.3
    await emulator.patch_config({"webhooks": {"timeout_seconds": timeout,
                                              "max_connections_per_host": PER_HOST}})
    hanging, healthy = await hostile("hang"), await hostile("ok")
    await point(emulator, {HANG_DID: hanging, OK_DID: healthy})
    await send(emulator, to=recipients(64), registered_delivery=1, **{"from": HANG_DID})
    await send(emulator, to=recipients(20, 15553000000), registered_delivery=1,
               **{"from": OK_DID})

    started = time.perf_counter()
    await emulator.advance(3)  # 84 receipts fall due together
    elapsed = time.perf_counter() - started

    good = await emulator.deliveries(url=healthy.url)
    assert len(good) == 20 and healthy.hits == 20
    assert all(d["state"] == "delivered" and len(d["attempts"]) == 1 for d in good)
    assert all(d["attempts"][0]["queued_ms"] < timeout * 1000 for d in good)
    # every healthy receipt arrived before the first hanging attempt timed out
    assert max(healthy.arrivals) < min(hanging.arrivals) + timeout

    bad = await emulator.deliveries(url=hanging.url)
    assert len(bad) == 64 and hanging.hits == 64
    assert hanging.peak == PER_HOST  # the rest waited their turn
    attempts = [d["attempts"][0] for d in bad]
    assert {(a["status"], a["error"]) for a in attempts} == {
        (None, f"timeout: no answer within {timeout:g} s")}
    assert {d["state"] for d in bad} == {"retrying"}
    # the timeout started with the connection, not with the wait in the queue...
    assert all(timeout * 1000 <= a["latency_ms"] < timeout * 2000 for a in attempts)
    # ...which is recorded apart: four rounds of 16, each about a timeout long (less the
    # few milliseconds between the first attempt's start and this one's)
    waits = sorted(a["queued_ms"] for a in attempts)
    assert sum(1 for w in waits if w >= timeout * 500) == 64 - PER_HOST, str(waits)
    assert waits[-1] >= 3 * timeout * 800, str(waits)
    assert 4 * timeout <= elapsed < 4 * timeout + 2.0


async def test_connections_per_host_is_a_setting(emulator: Emulator,
                                                 hostile: MakeHostile) -> None:  # noqa: F811
    status, body = await emulator.control("PATCH", "/config", json={
        "webhooks": {"max_connections_per_host": 0}})
    assert (status, body["field"]) == (400, "webhooks.max_connections_per_host"), body
    config = await emulator.patch_config({"webhooks": {"max_connections_per_host": 3,
                                                       "timeout_seconds": 0.2}})
    assert config["webhooks"] == {"max_connections_per_host": 3, "timeout_seconds": 0.2,
                                  "max_queued_per_host": 1000}
    hanging = await hostile("hang")
    await point(emulator, {HANG_DID: hanging})
    await send(emulator, to=recipients(7), registered_delivery=1, **{"from": HANG_DID})
    await emulator.advance(3)
    assert (hanging.hits, hanging.peak) == (7, 3)
    waits = sorted(d["attempts"][0]["queued_ms"] for d in await emulator.deliveries())
    assert sum(1 for w in waits if w >= 100) == 4 and waits[-1] >= 300, waits
    lines = [logline.event(e) for e in emulator.ctx.journal.entries()
             if e.kind == "webhook_attempt"]
    waited = [line for line in lines if re.search(
        r"-> timeout: no answer within 0\.2 s in \d+\.\dms after \d+\.\dms queued, "
        r"next retry in 60 s", line)]
    assert len(waited) == 4, lines  # the log line tells the wait apart from the latency


async def test_connections_are_reused_unless_the_receiver_closes_them(
        emulator: Emulator, aiohttp_server) -> None:
    """40 receipts due together go over at most ``max_connections_per_host`` connections,
    kept between POSTs; a receiver answering ``Connection: close`` gets one per POST."""
    # the transports themselves, kept alive, so that two are the same only if they are
    peers: dict[str, list[Any]] = {"keep": [], "close": []}

    async def receive(request: web.Request) -> web.Response:
        await request.read()
        which = request.path.strip("/")
        peers[which].append(request.transport)
        return web.Response(text="ok", headers={"Connection": "close"} if which == "close"
                            else {})

    app = web.Application()
    app.router.add_post("/{which}", receive)
    receiver = await aiohttp_server(app)
    await emulator.patch_config({"webhooks": {"max_connections_per_host": 4}, "tsg": {
        "numbers": {HANG_DID: {"webhook_url": str(receiver.make_url("/keep")),
                               "x_api_key": None},
                    OK_DID: {"webhook_url": str(receiver.make_url("/close")),
                             "x_api_key": None}}}})
    await send(emulator, to=recipients(40), registered_delivery=1, **{"from": HANG_DID})
    await send(emulator, to=recipients(10, 15553000000), registered_delivery=1,
               **{"from": OK_DID})
    await emulator.advance(3)
    assert {d["state"] for d in await emulator.deliveries()} == {"delivered"}
    assert len(peers["keep"]) == 40 and len({id(t) for t in peers["keep"]}) <= 4
    assert len(peers["close"]) == 10 and len({id(t) for t in peers["close"]}) == 10


async def test_a_full_queue_is_not_joined_the_attempt_fails_at_once_and_is_retried(
        emulator: Emulator, hostile: MakeHostile) -> None:  # noqa: F811
    """2 in flight and 3 waiting at a receiver that hangs: of 8 receipts due together, the
    last 3 are not sent and fail at once, to be retried; a healthy receiver is not affected."""
    status, body = await emulator.control("PATCH", "/config", json={
        "webhooks": {"max_queued_per_host": -1}})
    assert (status, body["field"]) == (400, "webhooks.max_queued_per_host"), body
    await emulator.patch_config({"webhooks": {"max_connections_per_host": 2,
                                              "max_queued_per_host": 3, "timeout_seconds": 0.2}})
    hanging, healthy = await hostile("hang"), await hostile("ok")
    await point(emulator, {HANG_DID: hanging, OK_DID: healthy})
    await send(emulator, to=recipients(8), registered_delivery=1, **{"from": HANG_DID})
    await send(emulator, to=recipients(4, 15553000000), registered_delivery=1,
               **{"from": OK_DID})
    await emulator.advance(3)

    assert hanging.hits == 5 and healthy.hits == 4
    first = [d["attempts"][0] for d in await emulator.deliveries(url=hanging.url)]
    refused = [a for a in first if a["error"].startswith("not sent")]
    port = hanging.url.rsplit(":", 1)[1].split("/")[0]
    assert [a["error"] for a in refused] == [
        f"not sent: 3 attempts already waiting for 127.0.0.1:{port}"] * 3
    assert all(a["latency_ms"] is None and a["status"] is None for a in refused)
    assert sum(a["error"] == "timeout: no answer within 0.2 s" for a in first) == 5
    for delivery in await emulator.deliveries(url=hanging.url):
        assert delivery["state"] == "retrying" and delivery["next_attempt_at"], delivery
        assert_valid("control/delivery", delivery)
    assert all(d["state"] == "delivered" for d in await emulator.deliveries(url=healthy.url))


async def test_an_advance_through_tsg_retries_costs_a_timeout_per_wave_not_per_attempt(
        emulator: Emulator, hostile: MakeHostile) -> None:  # noqa: F811
    timeout = 0.2
    await emulator.patch_config({"webhooks": {"timeout_seconds": timeout}})
    receivers = {f"1555000200{n}": await hostile("hang") for n in range(4)}
    await point(emulator, receivers)
    for did in receivers:
        await send(emulator, to=recipients(2), registered_delivery=1, **{"from": did})

    started = time.perf_counter()
    await emulator.advance(3)
    await emulator.advance(3 * 86400)
    elapsed = time.perf_counter() - started

    deliveries = await emulator.deliveries()
    assert len(deliveries) == 8
    assert {d["state"] for d in deliveries} == {"exhausted"}
    attempts = [a for d in deliveries for a in d["attempts"]]
    assert len(attempts) == 8 * 18
    assert {a["error"] for a in attempts} == {f"timeout: no answer within {timeout:g} s"}
    sequential = len(attempts) * timeout  # one attempt after another: 28.8 s
    assert 18 * timeout <= elapsed < 0.5 * sequential, elapsed  # 18 waves: about 3.6 s
    # and the schedule is the provider's, to the microsecond, for every delivery alike
    [schedule] = {tuple(parse_iso(a["at"]) for a in d["attempts"]) for d in deliveries}
    assert [b - a for a, b in itertools.pairwise(schedule)] == list(RETRY_DELAYS)


async def test_an_answer_written_in_two_parts_is_read_whole_and_its_reply_is_sent(
        emulator: Emulator, hostile: MakeHostile) -> None:  # noqa: F811
    receiver = await hostile("split")
    await point(emulator, {OK_DID: receiver})
    status, created = await inject(emulator, "Is my order on its way?", to=OK_DID)
    assert status == 201
    [inbound, reply] = created["messages"]
    assert (reply["direction"], reply["text"], reply["to"]) == (
        "outbound", json.loads(SPLIT_ANSWER)["body"], END_USER)
    [delivery] = await emulator.deliveries(url=receiver.url)
    [attempt] = delivery["attempts"]
    assert (attempt["status"], attempt["error"]) == (200, None)
    assert attempt["response_body"] == SPLIT_ANSWER.decode()
    assert attempt["latency_ms"] >= 50  # the second part came 50 ms after the first
    assert await journal(emulator, "auto_reply_ignored") == []
    [entry] = await journal(emulator, "auto_reply")
    assert (entry["in_reply_to"], entry["message_id"]) == (inbound["id"], reply["id"])


async def test_stopping_during_an_advance_cancels_and_records_the_attempts_in_flight(
        emulator: Emulator, hostile: MakeHostile) -> None:  # noqa: F811
    await emulator.patch_config({"webhooks": {"timeout_seconds": 30}})
    hanging = await hostile("hang")
    await point(emulator, {HANG_DID: hanging})
    await send(emulator, to=recipients(2), registered_delivery=1, **{"from": HANG_DID})
    advance = asyncio.ensure_future(emulator.advance(3))
    async with asyncio.timeout(10):
        while hanging.hits < 2:
            await asyncio.sleep(0.005)
        began = time.perf_counter()
        await emulator.ctx.scheduler.stop()  # what the server's shutdown does
        stopped = time.perf_counter() - began
        await advance  # the advance answers too, at once
    assert stopped < 1.0, stopped
    for delivery in await emulator.deliveries():
        [attempt] = delivery["attempts"]
        assert (delivery["state"], attempt["status"], attempt["error"]) == (
            "pending", None, "cancelled: emulator stopping")
        assert delivery["next_attempt_at"] is None
    assert emulator.ctx.dispatcher.pending == 2
    entries = await journal(emulator, "webhook_attempt")
    assert [e["attempt"]["error"] for e in entries] == ["cancelled: emulator stopping"] * 2


async def test_on_a_real_clock_healthy_deliveries_go_through_and_shutdown_cancels_the_rest(
        aiohttp_server, hostile: MakeHostile) -> None:  # noqa: F811
    """The running server: 120 sms webhooks to a receiver that hangs (16 connections, 104
    waiting their turn: more than aiohttp's default pool of 100), 5 to a healthy one in the
    meantime; then the server stops."""
    hanging, healthy = await hostile("hang"), await hostile("ok")
    app = build_app(Settings(clock="real", seed=SEED, start=START), {
        "webhooks": {"timeout_seconds": 30, "max_connections_per_host": PER_HOST},
        "tsg": {"numbers": {HANG_DID: {"webhook_url": hanging.url, "x_api_key": None},
                            OK_DID: {"webhook_url": healthy.url, "x_api_key": None}}}})
    ctx = app[CONTEXT]
    server = await aiohttp_server(app)

    async with ClientSession() as http:
        async def inbound(to: str) -> None:
            async with http.post(str(server.make_url("/_emulator/inbound")), json={
                    "provider": "tsg", "from": END_USER, "to": to, "text": "hi"}) as answer:
                assert answer.status == 201, await answer.text()

        for _ in range(HANGING):
            await inbound(HANG_DID)
        async with asyncio.timeout(10):
            while hanging.hits < PER_HOST:
                await asyncio.sleep(0.005)
            for _ in range(5):
                await inbound(OK_DID)
            while sum(d.state == "delivered" for d in ctx.dispatcher.page(limit=1000).items) < 5:
                await asyncio.sleep(0.005)
    assert hanging.hits == PER_HOST and healthy.hits == 5

    began = time.perf_counter()
    await server.close()  # the app's cleanup stops the scheduler
    stopped = time.perf_counter() - began
    assert stopped < 2.0, stopped

    documents: list[dict[str, Any]] = [d.to_json() for d in ctx.dispatcher.page(limit=1000).items]
    for document in documents:
        assert_valid("control/delivery", document)
    good = [d for d in documents if d["url"] == healthy.url]
    assert [(d["state"], len(d["attempts"])) for d in good] == [("delivered", 1)] * 5
    bad = [d for d in documents if d["url"] == hanging.url]
    assert len(bad) == HANGING and ctx.dispatcher.pending == HANGING
    assert {(d["state"], d["attempts"][0]["error"]) for d in bad} == {
        ("pending", "cancelled: emulator stopping")}
    sent = [d for d in bad if d["attempts"][0]["latency_ms"] is not None]
    assert len(sent) == PER_HOST  # the others never left the queue
    cancelled = [e for e in ctx.journal.entries() if e.kind == "webhook_attempt"
                 and e.detail["attempt"]["error"] == "cancelled: emulator stopping"]
    assert len(cancelled) == HANGING


async def test_follow_ups_come_in_due_order_whichever_receiver_answers_first(
        aiohttp_server) -> None:
    """Two inbound messages whose webhooks are retried in one wave, both answered with an
    auto-reply; run twice with the same seed, the slow receiver swapped: the journal's order
    and the replies' ids are the same both times."""
    from aiohttp import web

    async def run_once(slow: str) -> list[tuple[Any, ...]]:
        app = build_app(Settings(clock="manual", seed=SEED, start=START))
        ctx = app[CONTEXT]
        hits = {"A": 0, "B": 0}
        fast_answered = asyncio.Event()

        def receiver(name: str):
            async def handle(request: web.Request) -> web.Response:
                await request.read()
                hits[name] += 1
                if hits[name] == 1:
                    return web.Response(status=500)
                if name == slow:  # answers the retry only once the other one has answered
                    await asyncio.wait_for(fast_answered.wait(), 5)
                else:
                    asyncio.get_running_loop().call_soon(fast_answered.set)
                return web.json_response({"body": f"reply from {name}"})
            sink = web.Application()
            sink.router.add_post("/hook", handle)
            return sink

        servers = {name: await aiohttp_server(receiver(name)) for name in ("A", "B")}
        dids = {"A": "15550003001", "B": "15550003002"}
        server = await aiohttp_server(app)
        async with ClientSession() as http:
            async def control(path: str, document: dict[str, Any], method: str = "POST"):
                async with http.request(method, str(server.make_url(f"/_emulator{path}")),
                                        json=document) as answer:
                    assert answer.status in (200, 201), await answer.text()

            await control("/config", {"tsg": {"numbers": {
                dids[n]: {"webhook_url": str(s.make_url("/hook")), "x_api_key": None}
                for n, s in servers.items()}}}, "PATCH")
            for name in ("A", "B"):
                await control("/inbound", {"provider": "tsg", "from": END_USER,
                                           "to": dids[name], "text": f"hello {name}"})
            await control("/clock/advance", {"seconds": 60})
        assert hits == {"A": 2, "B": 2}
        return [(e.kind, e.detail.get("delivery"), e.detail.get("message_id"),
                 e.detail.get("state")) for e in ctx.journal.entries()
                if e.kind in ("webhook_attempt", "auto_reply", "message_created")]

    a_slow, b_slow = await run_once("A"), await run_once("B")
    assert a_slow == b_slow
    replies = [entry for entry in a_slow if entry[0] == "auto_reply"]
    assert [r[1] for r in replies] == ["D000001", "D000002"]  # in due order, not answer order
