"""``POST /_emulator/deliveries/{id}/redeliver``: a delivery sent again as a new attempt
sequence, over real HTTP to a real receiver, on the manual clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from telesign.util import verify_telesign_callback_signature

from emulator.core import logline
from tests.conftest import API_KEY, START, Emulator, Receiver
from tests.test_telesign_callbacks import send

#: real seconds the blocking receiver may take to be reached
LIMIT = 5.0


async def redeliver(emu: Emulator, delivery_id: str, **kwargs) -> tuple[int, dict]:
    return await emu.control("POST", f"/deliveries/{delivery_id}/redeliver", **kwargs)


async def exhausted(emu: Emulator, receiver: Receiver) -> dict:
    """A Telesign delivery report whose three attempts (at 5 s, 15 s and 45 s) got 500."""
    receiver.answers = [500]
    await send(emu, callback_url=receiver.url())
    await emu.advance(45)
    [delivery] = await emu.deliveries()
    assert delivery["state"] == "exhausted", delivery
    return delivery


def attempts(delivery: dict) -> list[tuple[int, int, int | None, str]]:
    return [(a["sequence"], a["number"], a["status"], a["at"][11:19])
            for a in delivery["attempts"]]


async def pending_deliveries(emu: Emulator) -> int:
    status, clock = await emu.control("GET", "/clock")
    assert status == 200
    return clock["pending_deliveries"]


async def test_an_exhausted_delivery_redelivered_to_a_fixed_receiver_is_delivered(
        emulator: Emulator, receiver: Receiver) -> None:
    delivery = await exhausted(emulator, receiver)
    assert delivery["redeliveries"] == 0
    assert [a["sequence"] for a in delivery["attempts"]] == [1, 1, 1]
    receiver.answers = [200]  # the system under test is fixed

    status, body = await redeliver(emulator, delivery["id"])
    assert status == 200, body
    # the first new attempt was made before the answer (manual clock)
    assert (body["state"], body["reason"], body["redeliveries"]) == ("delivered", None, 1)
    assert body["next_attempt_at"] is None
    assert attempts(body) == [(1, 1, 500, "00:00:05"), (1, 2, 500, "00:00:15"),
                              (1, 3, 500, "00:00:45"), (2, 1, 200, "00:00:45")]
    assert body["max_attempts"] == 3
    # the same payload, signed again for the new attempt
    assert len(receiver.requests) == 4
    again = receiver.requests[-1]
    assert again.body == receiver.requests[0].body
    assert again.at_emulated == START + 45
    assert verify_telesign_callback_signature(API_KEY, again.headers["X-TS-Authorization"],
                                              again.body.decode())
    assert body["request"]["headers"]["X-TS-Authorization"] == again.headers[
        "X-TS-Authorization"]
    assert (await emulator.deliveries(state="delivered"))[0] == body

    _, journal = await emulator.control("GET", "/journal", params={
        "kind": "webhook_redelivered"})
    [entry] = journal["entries"]
    assert {k: entry[k] for k in ("delivery", "webhook", "url", "message_id", "sequence",
                                  "provider")} == {
        "delivery": delivery["id"], "webhook": "delivery_report", "url": receiver.url(),
        "message_id": delivery["message_id"], "sequence": 2, "provider": "telesign"}
    [made] = [e for e in emulator.ctx.journal.entries(kind="webhook_redelivered")]
    assert logline.event(made) == (
        f"telesign webhook delivery_report {delivery['id']} redelivered to {receiver.url()}, "
        f"attempt sequence 2 id={delivery['message_id']}")
    [last] = list(emulator.ctx.journal.entries(kind="webhook_attempt"))[-1:]
    assert f"attempt 1/3 of sequence 2 POST {receiver.url()} -> 200" in logline.event(last)


async def test_a_redelivery_gets_the_whole_retry_schedule_and_counts_as_pending(
        emulator: Emulator, receiver: Receiver) -> None:
    delivery = await exhausted(emulator, receiver)
    assert await pending_deliveries(emulator) == 0
    status, body = await redeliver(emulator, delivery["id"])
    assert status == 200, body
    assert (body["state"], body["next_attempt_at"]) == ("retrying",
                                                        "2026-01-01T00:00:55.000000Z")
    assert await pending_deliveries(emulator) == 1
    await emulator.advance(9.999)
    assert len(receiver.requests) == 4
    await emulator.advance(30.001)  # the policy's 10 s and 30 s, afresh
    [delivery] = await emulator.deliveries()
    assert attempts(delivery)[3:] == [(2, 1, 500, "00:00:45"), (2, 2, 500, "00:00:55"),
                                      (2, 3, 500, "00:01:25")]
    assert delivery["state"] == "exhausted"
    assert delivery["reason"] == "3 attempts of sequence 2 failed; last: HTTP 500"
    assert await pending_deliveries(emulator) == 0
    await emulator.advance(86400)
    assert len(receiver.requests) == 6

    status, body = await redeliver(emulator, delivery["id"])  # again: sequence 3
    assert status == 200
    assert body["redeliveries"] == 2
    assert attempts(body)[-1] == (3, 1, 500, "00:01:25")


async def test_redelivering_a_retrying_delivery_drops_its_old_retry(
        emulator: Emulator, receiver: Receiver) -> None:
    receiver.answers = [500]
    await send(emulator, callback_url=receiver.url())
    await emulator.advance(5)  # attempt 1 at 5 s; its retry is due at 15 s
    await emulator.advance(3)
    [delivery] = await emulator.deliveries()
    assert delivery["state"] == "retrying"
    status, body = await redeliver(emulator, delivery["id"])  # at 8 s
    assert status == 200, body
    assert attempts(body) == [(1, 1, 500, "00:00:05"), (2, 1, 500, "00:00:08")]
    await emulator.advance(7)  # 15 s: when the old retry was due
    assert len(receiver.requests) == 2
    await emulator.advance(3)  # 18 s: the new sequence's retry
    await emulator.advance(60)
    [delivery] = await emulator.deliveries()
    assert attempts(delivery) == [(1, 1, 500, "00:00:05"), (2, 1, 500, "00:00:08"),
                                  (2, 2, 500, "00:00:18"), (2, 3, 500, "00:00:48")]
    assert [r.at_emulated - START for r in receiver.requests] == [5, 8, 18, 48]
    status, clock = await emulator.control("GET", "/clock")
    assert (clock["pending_jobs"], clock["pending_deliveries"]) == (0, 0)


@dataclass
class BlockingReceiver:
    """A webhook receiver that holds each request until ``release`` is set."""

    url: str = ""
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def blocking(aiohttp_server) -> AsyncIterator[BlockingReceiver]:
    held = BlockingReceiver()

    async def handle(request: web.Request) -> web.Response:
        held.reached.set()
        await held.release.wait()
        return web.Response(text="OK")

    app = web.Application()
    app.router.add_post("/callback", handle)
    server = await aiohttp_server(app)
    held.url = str(server.make_url("/callback"))
    yield held
    held.release.set()


async def test_redeliver_while_an_attempt_is_in_flight_is_a_409(
        emulator: Emulator, blocking: BlockingReceiver) -> None:
    await send(emulator, callback_url=blocking.url)
    advance = asyncio.create_task(emulator.advance(5))
    await asyncio.wait_for(blocking.reached.wait(), LIMIT)  # the first attempt is in flight
    [delivery] = await emulator.deliveries()
    status, body = await redeliver(emulator, delivery["id"])
    assert status == 409, body
    assert body == {"error": f"an attempt of {delivery['id']} is in flight; redeliver when it "
                             "ends", "field": "id"}
    blocking.release.set()
    await asyncio.wait_for(advance, LIMIT)
    status, body = await redeliver(emulator, delivery["id"])  # delivered: again, once more
    assert status == 200, body
    assert (body["state"], attempts(body)) == ("delivered", [(1, 1, 200, "00:00:05"),
                                                             (2, 1, 200, "00:00:05")])


async def test_redeliver_of_an_unknown_delivery_is_a_404_naming_id(emulator: Emulator) -> None:
    status, body = await redeliver(emulator, "D999999")
    assert status == 404
    assert body == {"error": "no delivery with id 'D999999'", "field": "id"}


async def test_redeliver_takes_no_body(emulator: Emulator, receiver: Receiver) -> None:
    delivery = await exhausted(emulator, receiver)
    status, body = await redeliver(emulator, delivery["id"], json={"now": True})
    assert (status, body["field"]) == (400, "now")
    status, body = await redeliver(emulator, delivery["id"], json={})
    assert status == 200, body


async def test_a_reset_forgets_deliveries_so_they_cannot_be_redelivered(
        emulator: Emulator, receiver: Receiver) -> None:
    delivery = await exhausted(emulator, receiver)
    status, _ = await emulator.control("POST", "/reset")
    assert status == 200
    status, body = await redeliver(emulator, delivery["id"])
    assert (status, body["field"]) == (404, "id")
