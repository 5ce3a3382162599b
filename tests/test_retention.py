"""Memory stays bounded: the journal in entries, in bytes and per field; finished messages and
deliveries are evicted oldest first beyond their limits, never pending work; the evictions are
counted in ``GET /_emulator/health`` and in the journal. Small limits are set per emulator."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
from typing import Any

from aiohttp import web

from emulator.core import logline
from emulator.core.clock import ManualClock
from emulator.core.journal import Journal
from emulator.core.records import Records
from emulator.core.retention import STEP, Retention
from tests.conftest import API_KEY, CUSTOMER_ID, Emulator
from tests.tsg_support import NUMBER, call
from tests.tsg_support import send as tsg_send

BASIC = "Basic " + base64.b64encode(f"{CUSTOMER_ID}:{API_KEY}".encode()).decode()


async def health(emu: Emulator) -> dict[str, Any]:
    status, body = await emu.control("GET", "/health")
    assert status == 200
    return body["retention"]


async def journal(emu: Emulator, **params: str) -> list[dict[str, Any]]:
    """Every entry, following ``next``."""
    entries: list[dict[str, Any]] = []
    status, body = await emu.control("GET", "/journal", params={"limit": "1000", **params})
    while True:
        assert status == 200, body
        entries += body["entries"]
        if body["next"] is None:
            return entries
        async with emu.http.get(emu.url + body["next"]) as response:
            status, body = response.status, await response.json()


async def telesign_send(emu: Emulator, to: str, callback_url: str | None = None) -> str:
    form = {"phone_number": to, "message": "hello", "message_type": "ARN"}
    if callback_url:
        form["callback_url"] = callback_url
    async with emu.http.post(emu.url + "/v1/messaging", data=form,
                             headers={"Authorization": BASIC}) as response:
        assert response.status == 200, await response.text()
        return (await response.json())["reference_id"]


async def webhook_receiver(aiohttp_server) -> str:
    """A system under test: ``/ok`` answers 200, ``/fail`` 500."""
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=200 if request.path == "/ok" else 500, text="answer")

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/")


# -- the journal ------------------------------------------------------------------------------
async def test_kept_messages_and_entries_leave_few_objects_for_the_collector(
        emulator: Emulator) -> None:
    """The journal keeps entries as plain tuples and a message's history is tuples, which the
    garbage collector stops tracking: a full collection of a busy server walks about three
    objects per stored message (a send with its three steps used to leave eleven), so its
    pauses stay short."""
    async def send_and_deliver(count: int) -> None:
        for _ in range(count):
            await telesign_send(emulator, "15551234567")
        await emulator.advance(10)

    await send_and_deliver(20)  # caches, connections: made once
    gc.collect()
    before = len(gc.get_objects())
    await send_and_deliver(300)
    gc.collect()
    per_message = (len(gc.get_objects()) - before) / 300
    assert len(emulator.ctx.journal) >= 300 * 5  # request, api_call, created, two steps...
    assert per_message < 5, f"{per_message:.1f} tracked objects per stored message"


async def test_a_long_body_is_cut_with_a_marker_and_its_length(emulator_with) -> None:
    emu = await emulator_with(journal_max_field_bytes=1000)
    async with emu.http.post(emu.url + "/v1/junk", data=b"a" * 5000) as response:
        assert response.status == 404  # an unknown path, unauthenticated: journaled all the same
    [entry] = await journal(emu, kind="api_call")
    assert entry["body"] == "a" * 1000 + "…[truncated: 5000 bytes in all]"
    assert entry["truncated"] == {"body": 5000}
    assert (await health(emu))["journal"]["truncated"] == 1
    assert (await health(emu))["journal"]["field_limit"] == 1000


async def test_junk_megabyte_posts_keep_the_journal_small(emulator: Emulator) -> None:
    """The issue's case with the defaults: 1 MiB bodies to an unknown path are kept as 64 KiB
    each."""
    for _ in range(20):
        async with emulator.http.post(emulator.url + "/v1/junk",
                                      data=b"x" * (1024 * 1024)) as response:
            assert response.status == 404
    calls = await journal(emulator, kind="api_call")
    assert len(calls) == 20
    assert all(len(c["body"]) < 64 * 1024 + 100 and c["truncated"] == {"body": 1024 * 1024}
               for c in calls)
    kept = (await health(emulator))["journal"]
    assert 20 * 64 * 1024 < kept["bytes"] < 20 * 70 * 1024
    assert kept["bytes_limit"] == 64 * 1024 * 1024 and kept["evicted"] == 0


async def test_the_journal_keeps_within_its_bytes_oldest_first(emulator_with) -> None:
    emu = await emulator_with(journal_max_bytes=40_000, journal_max_field_bytes=1000)
    for n in range(60):
        async with emu.http.post(emu.url + "/v1/junk", data=str(n).encode() * 500) as response:
            assert response.status == 404
    kept = (await health(emu))["journal"]
    assert kept["bytes"] <= 40_000
    assert kept["evicted"] > 0 and kept["evicted_bytes"] > 0
    entries = await journal(emu)
    # the newest are kept, with no gap; the oldest went
    assert [e["seq"] for e in entries] == list(range(entries[0]["seq"],
                                                     entries[-1]["seq"] + 1))
    calls = [e for e in entries if e["kind"] == "api_call"]
    assert calls[-1]["body"].startswith("59") and not calls[0]["body"].startswith("0")
    _, body = await emu.control("GET", "/journal", params={"limit": "1"})
    assert body["dropped"] == (await health(emu))["journal"]["evicted"]


async def test_the_journal_keeps_its_newest_entries_by_count(emulator_with) -> None:
    emu = await emulator_with(journal_max_entries=30)
    for _ in range(50):
        async with emu.http.get(emu.url + "/v1/messaging/00") as response:
            assert response.status == 401
    _, clock = await emu.control("GET", "/clock")
    recorded = clock["cursor"]["journal"]
    kept = (await health(emu))["journal"]
    assert kept == {**kept, "kept": 30, "limit": 30, "evicted": recorded - 30}
    assert [e["seq"] for e in await journal(emu)] == list(range(recorded - 29, recorded + 1))
    status, _ = await emu.control("POST", "/reset")
    assert status == 200
    assert (await health(emu))["journal"]["evicted"] == 0


def test_a_long_field_one_level_down_is_cut_and_the_callers_object_kept() -> None:
    journal = Journal(ManualClock(0), max_field_bytes=10)
    attempt = {"number": 1, "response_body": "x" * 100}
    entry = journal.record("webhook_attempt", None, attempt=attempt)
    assert entry.detail["attempt"] == {"number": 1,
                                       "response_body": "x" * 10 + "…[truncated: 100 characters "
                                                                   "in all]"}
    assert entry.detail["truncated"] == {"attempt.response_body": 100}
    assert attempt["response_body"] == "x" * 100


def test_the_newest_entry_stays_even_alone_over_the_bytes() -> None:
    journal = Journal(ManualClock(0), max_bytes=500)
    journal.record("a", None, text="y" * 100)
    journal.record("b", None, text="z" * 5000)
    assert [e.kind for e in journal.entries()] == ["b"]
    assert journal.dropped == 1 and journal.bytes > 500


# -- messages ---------------------------------------------------------------------------------
async def test_finished_messages_go_oldest_first_and_pending_work_stays(
        emulator_with, aiohttp_server) -> None:
    sut = await webhook_receiver(aiohttp_server)
    emu = await emulator_with(max_messages=20)
    await emu.patch_config({"lifecycle": {"rules": [{
        "to": "15553330000", "provider": "tsg",  # final at once, but one more step to come
        "steps": [{"status": "delivered", "after": 1}, {"status": "undelivered", "after": 9e4}]}]}})
    # M1 stays enroute with nothing more to come: finished though not final
    [stuck] = (await tsg_send(emu, to=["15005551009"])).values()
    [scheduled] = (await tsg_send(emu, to=["15551110000"],
                                  deliver_at="2026-01-02T00:00:00")).values()
    [continuing] = (await tsg_send(emu, to=["15553330000"])).values()
    reported = await telesign_send(emu, "15551234567", callback_url=f"{sut}/fail")  # retried
    batch = await tsg_send(emu, to=[f"1555200{n:04d}" for n in range(30)], body="p" * 200)
    batch_ids = [batch[f"1555200{n:04d}"]["id"] for n in range(30)]
    parts = {m["id"]: [p["id"] for p in m["parts"]] for m in batch.values()}
    assert all(len(p) == 2 for p in parts.values())  # 200 characters: two parts, two aliases
    await emu.advance(5)
    assert (await health(emu))["messages"] == {"kept": 34, "evicted": 0, "limit": 20}

    await tsg_send(emu, to=["15557000001", "15557000002"])  # past the limit: a batch begins
    # it evicts STEP (10) an addition, the oldest finished first, and its entry waits for its end
    assert (await health(emu))["messages"] == {"kept": 26, "evicted": 10, "limit": 20}
    assert await journal(emu, kind="evicted") == []
    await tsg_send(emu, to=["15557000003"])

    # the oldest finished ones went, in one batch down to 90 % of the limit
    evicted = [stuck["id"], *batch_ids[:18]]
    assert (await health(emu))["messages"] == {"kept": 18, "evicted": 19, "limit": 20}
    [entry] = await journal(emu, kind="evicted")
    assert entry == {**entry, "store": "messages", "evicted": 19, "kept": 18, "limit": 20,
                     "provider": None}
    _, body = await emu.control("GET", "/messages", params={"limit": "100"})
    listed = [m["id"] for m in body["messages"]]
    assert set(listed).isdisjoint(evicted)
    assert {scheduled["id"], continuing["id"], reported, *batch_ids[18:]} <= set(listed)

    # an evicted id, or one of its parts, is unknown as the provider says it
    for unknown in (stuck["id"], batch_ids[0], parts[batch_ids[0]][1]):
        answer = await call(emu, "GET", f"/messages/{unknown}")
        assert answer.status == 404 and answer.body["errors"][0]["id"] == "not_found"
        assert (await emu.control("GET", f"/messages/{unknown}"))[0] == 404
    kept_part = parts[batch_ids[29]][0]
    assert (await call(emu, "GET", f"/messages/{kept_part}")).status == 200
    assert len(emu.ctx.store._aliases) == 2 * 12  # the evicted ones' aliases went with them

    # the pending lifecycles go on unharmed (the fixture fails on any job error)
    await emu.advance(2 * 86400)
    assert (await emu.message(scheduled["id"]))["status"] == "delivered"
    assert (await emu.message(continuing["id"]))["status"] == "undelivered"
    [report] = (await emu.message(reported))["deliveries"]
    assert report["state"] == "exhausted"

    # finished now, they go first in the next sweep; Telesign then knows the id no more
    await tsg_send(emu, to=["15557000004", "15557000005", "15557000006"])
    assert (await health(emu))["messages"] == {"kept": 18, "evicted": 22, "limit": 20}
    for gone in (scheduled["id"], continuing["id"], reported):
        assert (await emu.control("GET", f"/messages/{gone}"))[0] == 404
    async with emu.http.get(f"{emu.url}/v1/messaging/{reported}",
                            headers={"Authorization": BASIC}) as response:
        assert response.status == 404
        assert (await response.json())["status"]["code"] == 10017
    [_, last] = [e for e in emu.ctx.journal.entries(kind="evicted")]
    assert logline.event(last) == "emulator evicted store=messages evicted=3 kept=18 limit=20"


# -- deliveries -------------------------------------------------------------------------------
async def test_finished_deliveries_go_oldest_first_and_a_retrying_one_stays(
        emulator_with, aiohttp_server) -> None:
    sut = await webhook_receiver(aiohttp_server)
    emu = await emulator_with(max_deliveries=10)
    await emu.patch_config({"tsg": {"numbers": {NUMBER: {"webhook_url": f"{sut}/fail"}}}})
    status, _ = await emu.control("POST", "/inbound", json={
        "provider": "tsg", "from": "15557654321", "to": NUMBER, "text": "hi"})
    assert status == 201  # D000001: retried for days
    for n in range(14):  # D000002..D000015, each delivered before the next is queued
        await telesign_send(emu, f"1555123{n:04d}", callback_url=f"{sut}/ok")
        await emu.advance(5)

    assert (await health(emu))["deliveries"] == {"kept": 9, "evicted": 6, "limit": 10}
    entries = await journal(emu, kind="evicted")
    assert [(e["store"], e["evicted"], e["kept"]) for e in entries] == [("deliveries", 2, 9)] * 3
    status, body = await emu.control("GET", "/deliveries")
    assert [d["id"] for d in body["deliveries"]] == [
        *(f"D{n:06d}" for n in range(15, 7, -1)), "D000001"]
    assert (await emu.control("GET", "/deliveries/D000002"))[0] == 404
    _, clock = await emu.control("GET", "/clock")
    assert clock["pending_deliveries"] == 1
    await emu.advance(120)  # the retrying one goes on: its third attempt at 3 min
    _, pending = await emu.control("GET", "/deliveries/D000001")
    assert pending["state"] == "retrying" and len(pending["attempts"]) == 3
    status, _ = await emu.control("POST", "/reset")
    assert (await health(emu))["deliveries"] == {"kept": 0, "evicted": 0, "limit": 10}


async def test_health_shows_the_default_limits(emulator: Emulator) -> None:
    retention = await health(emulator)
    assert retention["messages"] == {"kept": 0, "evicted": 0, "limit": 100_000}
    assert retention["deliveries"] == {"kept": 0, "evicted": 0, "limit": 100_000}
    assert retention["journal"]["limit"] == 100_000
    assert retention["journal"]["field_limit"] == 64 * 1024


async def test_the_emulators_own_long_answer_is_kept_whole(emulator: Emulator) -> None:
    """A TSG send to 300 recipients answers some 180 KB: longer than the field limit (64 KiB
    by default), and kept whole, so a scenario can capture from it."""
    answer = await tsg_send(emulator, to=[f"1555300{n:04d}" for n in range(300)])
    [entry] = await journal(emulator, kind="api_call")
    assert len(entry["response"]) > 64 * 1024 and "truncated" not in entry
    assert json.loads(entry["response"]) == answer


async def test_serve_takes_the_bounds_from_flags_and_the_environment() -> None:
    """``serve --max-messages`` and ``SMS_EMULATOR_JOURNAL_MAX_BYTES`` reach the stores: a real
    process's health shows them, and a bad value is named before anything starts."""
    import os

    from aiohttp import ClientSession

    from tests.test_serve_cli import SCRIPT, start, stop

    os.environ["SMS_EMULATOR_JOURNAL_MAX_BYTES"] = "1000000"
    try:
        proc, url, _ = await start("--max-messages", "50", "--max-deliveries", "60",
                                   "--journal-max-entries", "70",
                                   "--journal-max-field-bytes", "80")
    finally:
        del os.environ["SMS_EMULATOR_JOURNAL_MAX_BYTES"]
    try:
        async with ClientSession() as http, http.get(f"{url}/_emulator/health") as answer:
            retention = (await answer.json())["retention"]
    finally:
        await stop(proc)
    assert (retention["messages"]["limit"], retention["deliveries"]["limit"],
            retention["journal"]["limit"], retention["journal"]["bytes_limit"],
            retention["journal"]["field_limit"]) == (50, 60, 70, 1_000_000, 80)

    bad = await asyncio.create_subprocess_exec(
        str(SCRIPT), "serve", "--port", "0", "--max-messages", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await bad.communicate()
    assert bad.returncode == 2
    assert "argument --max-messages: '0' is not a whole number >= 1" in err.decode(), err



def test_a_large_batch_is_spread_over_the_next_additions_and_journaled_once() -> None:
    """A batch evicts at most STEP records an addition (10,000 messages in one go, or in
    steps of 1,000 back to back under load, stalled every request in flight for 40-50 ms);
    each step looks on from where the last stopped, so a record still at work is looked at
    once a batch, not once an addition; the batch's one ``evicted`` entry comes at its end."""
    journal = Journal(ManualClock(0))
    retention = Retention("things", 20_000, journal)
    records: Records[int, tuple[int]] = Records(key=lambda r: r[0], seq=lambda r: r[0])
    pending = set(range(1, 1001, 2))  # 500 of the oldest are still at work
    looked_at = []

    def finished(record: tuple[int]) -> bool:
        looked_at.append(record[0])
        return record[0] not in pending

    evictions, most_kept = [], 0
    for n in range(1, 20_301):
        records.add((n,))
        most_kept = max(most_kept, len(records))
        if retention.due(len(records)):
            evictions.append(retention.sweep(records, finished,
                                             lambda r: records.remove(r[0])))
    assert STEP == 10 and max(evictions) == STEP
    assert most_kept == 20_001  # one beyond the limit, never more
    [entry] = journal.entries(kind="evicted")
    evicted = entry.detail["evicted"]
    assert entry.detail == {"store": "things", "evicted": evicted, "kept": 18_000,
                            "limit": 20_000}
    # 2,001 past the low-water mark, and the additions while the batch went on (each nets -9)
    assert evicted == sum(evictions) == retention.evicted and 2_200 < evicted < 2_260
    assert len(looked_at) == len(set(looked_at)) == evicted + len(pending)  # each once
    kept = [r[0] for r in records.oldest_first()]
    assert kept[:500] == sorted(pending)  # work in hand stays, the oldest finished went first
    assert kept[500] == 500 + evicted + 1 and kept[-1] == 20_300
    assert len(records) == 18_000 + 20_300 - (20_000 + len(evictions))
