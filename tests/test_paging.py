"""Every list of the control API comes in pages: ``limit`` (default 100, at most 1000), a
cursor, ``next`` (null on the last page). Following ``next`` gives every item exactly once, in
the list's order, with filters and while items are added; a bad limit or cursor is a 400 naming
it. The pytest plugin's helpers and replay follow ``next``, so they see everything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from yarl import URL

from emulator.core.paging import take
from emulator.core.records import Records
from emulator.pytest_plugin import SmsEmulator
from emulator.replay import replay_with
from emulator.replay.control import ControlClient
from emulator.replay.report import text
from tests import readme
from tests.conftest import Emulator, Receiver, assert_valid, walk_pages
from tests.tsg_support import NUMBER
from tests.tsg_support import send as tsg_send

OTHER_NUMBER = "15550555066"


async def pages(emulator: Emulator, path: str, **params: str) -> list[dict[str, Any]]:
    """Every page of a list, following ``next``; each answer checked against its schema."""
    status, body = await emulator.control("GET", path, params=params)
    found = [body]
    while True:
        assert status == 200, body
        if body["next"] is None:
            return found
        url = URL(body["next"])
        assert url.path == f"/_emulator{path}"
        status, body = await emulator.control("GET", url.path.removeprefix("/_emulator"),
                                              params=url.query)
        found.append(body)


def numbers(first: int, count: int) -> list[str]:
    return [f"1555{n:07d}" for n in range(first, first + count)]


def ids(page_list: list[dict[str, Any]], key: str = "messages") -> list[str]:
    return [item["id"] for page in page_list for item in page[key]]


async def test_messages_come_newest_first_each_exactly_once(emulator: Emulator) -> None:
    sent = await tsg_send(emulator, to=numbers(0, 250))
    made = [sent[n]["id"] for n in numbers(0, 250)]
    found = await pages(emulator, "/messages")  # the default limit is 100
    assert [len(p["messages"]) for p in found] == [100, 100, 50]
    assert ids(found) == made[::-1]
    seqs = [m["seq"] for p in found for m in p["messages"]]
    assert seqs == sorted(seqs, reverse=True)
    found = await pages(emulator, "/messages", limit="1000")
    assert [len(p["messages"]) for p in found] == [250] and found[0]["next"] is None


async def test_filters_hold_on_every_page(emulator: Emulator) -> None:
    first = await tsg_send(emulator, to=numbers(0, 120))
    await tsg_send(emulator, to=numbers(200, 120), **{"from": OTHER_NUMBER})
    last = await tsg_send(emulator, to=numbers(400, 60))
    mine = [m["id"] for m in (*first.values(), *last.values())][::-1]
    found = await pages(emulator, "/messages", limit="40", **{"from": NUMBER})
    assert [len(p["messages"]) for p in found] == [40] * 4 + [20]
    assert ids(found) == mine
    assert "from=15550555055" in found[0]["next"] and "limit=40" in found[0]["next"]
    one = numbers(100, 1)[0]
    assert ids(await pages(emulator, "/messages", to=one)) == [first[one]["id"]]
    nothing = await pages(emulator, "/messages", direction="inbound")
    assert nothing == [{"messages": [], "next": None}]


async def test_items_added_between_pages_do_not_shift_the_pages(emulator: Emulator) -> None:
    sent = await tsg_send(emulator, to=numbers(0, 250))
    made = [sent[n]["id"] for n in numbers(0, 250)][::-1]
    status, first = await emulator.control("GET", "/messages", params={"limit": "100"})
    assert status == 200 and ids([first]) == made[:100]
    _, clock = await emulator.control("GET", "/clock")
    newer = await tsg_send(emulator, to=numbers(1000, 30))
    url = URL(first["next"])
    rest: list[str] = []
    while True:
        _, body = await emulator.control("GET", "/messages", params=url.query)
        rest += ids([body])
        if body["next"] is None:
            break
        url = URL(body["next"])
    assert rest == made[100:]  # every old one once, none of the new ones
    since = await pages(emulator, "/messages", limit="7", since=str(clock["cursor"]["messages"]))
    assert ids(since) == [m["id"] for m in newer.values()][::-1]
    assert [len(p["messages"]) for p in since] == [7, 7, 7, 7, 2]


async def test_deliveries_page_with_filters(emulator: Emulator, receiver: Receiver) -> None:
    await emulator.patch_config({
        "tsg": {"numbers": {NUMBER: {"webhook_url": receiver.url("/tsg"), "x_api_key": None}}},
        "lifecycle": {"rules": [{"to": "15557000000", "provider": "tsg", "steps": [
            {"status": "accepted", "after": 1}, {"status": "enroute", "after": 1},
            {"status": "delivered", "after": 1}]}]}})
    for n in range(5):
        status, _ = await emulator.control("POST", "/inbound", json={
            "provider": "tsg", "from": f"1555765432{n}", "to": NUMBER, "text": f"hi {n}"})
        assert status == 201
    [message] = (await tsg_send(emulator, to=["15557000000"], registered_delivery=1)).values()
    await emulator.advance(5)
    found = await pages(emulator, "/deliveries", limit="3")
    assert [len(p["deliveries"]) for p in found] == [3, 3, 2]
    assert ids(found, "deliveries") == [f"D{n:06d}" for n in range(8, 0, -1)]
    receipts = await pages(emulator, "/deliveries", limit="2", message_id=message["id"])
    assert [[d["kind"] for d in p["deliveries"]] for p in receipts] == [["sms_dlr"] * 2,
                                                                       ["sms_dlr"]]
    assert ids(receipts, "deliveries") == ["D000008", "D000007", "D000006"]
    delivered = await pages(emulator, "/deliveries", limit="4", state="delivered",
                            provider="tsg")
    assert ids(delivered, "deliveries") == [f"D{n:06d}" for n in range(8, 0, -1)]
    assert len((await emulator.message(message["id"]))["deliveries"]) == 3


async def test_the_journal_comes_oldest_first_with_since_and_kind(emulator: Emulator) -> None:
    await tsg_send(emulator, to=numbers(0, 20))
    await emulator.advance(5)
    everything = [e.seq for e in emulator.ctx.journal.entries()]
    found = await pages(emulator, "/journal", limit="10")
    seqs = [e["seq"] for p in found for e in p["entries"]]
    assert seqs == everything and len(found) == -(-len(everything) // 10)
    created = await pages(emulator, "/journal", limit="6", kind="message_created")
    assert [len(p["entries"]) for p in created] == [6, 6, 6, 2]
    assert all(e["kind"] == "message_created" for p in created for e in p["entries"])
    middle = everything[len(everything) // 2]
    since = await pages(emulator, "/journal", limit="25", since=str(middle))
    assert [e["seq"] for p in since for e in p["entries"]] == [s for s in everything
                                                               if s > middle]


async def test_journal_entries_added_between_pages_come_once_at_the_end(
        emulator: Emulator) -> None:
    await tsg_send(emulator, to=numbers(0, 10))
    status, first = await emulator.control("GET", "/journal", params={"limit": "5"})
    assert status == 200 and first["next"] is not None
    await tsg_send(emulator, to=numbers(100, 10))
    seqs = [e["seq"] for e in first["entries"]]
    url = URL(first["next"])
    while True:
        _, body = await emulator.control("GET", "/journal", params=url.query)
        seqs += [e["seq"] for e in body["entries"]]
        if body["next"] is None:
            break
        url = URL(body["next"])
    assert seqs == [e.seq for e in emulator.ctx.journal.entries()]


async def test_the_opt_out_list_pages_oldest_first(emulator: Emulator) -> None:
    users = [f"1415555{n:04d}" for n in range(5)]
    for user in users:
        status, _ = await emulator.control("POST", "/inbound", json={
            "provider": "telesign", "from": user, "to": "4442", "text": "STOP"})
        assert status == 201
    found = await pages(emulator, "/telesign/opt-outs", limit="2")
    assert [[o["phone_number"] for o in p["opt_outs"]] for p in found] == [
        users[:2], users[2:4], users[4:]]
    status, body = await emulator.control("DELETE", "/telesign/opt-outs",
                                          params={"phone_number": users[0], "limit": "2"})
    assert status == 200 and body["removed"] == 1
    assert [o["phone_number"] for o in body["opt_outs"]] == users[1:3]
    assert URL(body["next"]).path == "/_emulator/telesign/opt-outs"
    assert URL(body["next"]).query == {"limit": "2", "cursor": URL(body["next"]).query["cursor"]}


@pytest.mark.parametrize("path", ["/messages", "/deliveries", "/journal", "/telesign/opt-outs"])
@pytest.mark.parametrize(("name", "value"), [
    ("limit", "0"), ("limit", "1001"), ("limit", "x"), ("limit", "-1"), ("limit", "1.5"),
    ("limit", ""), ("limit", "1" * 5000), ("cursor", "x"), ("cursor", "-3"),
    ("cursor", "1" * 30), ("cursor", "")])
async def test_a_bad_limit_or_cursor_is_a_400_naming_it(emulator: Emulator, path: str,
                                                        name: str, value: str) -> None:
    status, body = await emulator.control("GET", path, params={name: value})
    assert status == 400 and body["field"] == name, body
    assert name in body["error"]


async def test_a_bad_since_is_still_a_400_naming_it(emulator: Emulator) -> None:
    for path in ("/messages", "/deliveries", "/journal"):
        status, body = await emulator.control("GET", path, params={"since": "x"})
        assert status == 400 and body["field"] == "since"


# -- the pieces, in process -------------------------------------------------------------------
class Item:
    def __init__(self, seq: int) -> None:
        self.seq = seq
        self.key = f"k{seq}"


def test_a_sparse_filter_pages_within_the_scan_budget() -> None:
    records: Records[str, Item] = Records(lambda i: i.key, lambda i: i.seq)
    for seq in range(1, 101):
        records.add(Item(seq))
    found, lengths = walk_pages(lambda before: take(
        records.newest_first(before), lambda i: i.seq, limit=5, keep=lambda i: i.seq % 10 == 0,
        budget=20))
    assert found == list(range(100, 0, -10))
    assert lengths == [2] * 5  # 20 examined a page, two matching each time
    none = take(records.newest_first(), lambda i: i.seq, limit=5, keep=lambda i: False)
    assert none.items == [] and none.cursor is None


def test_records_stay_ordered_through_removals_and_compaction() -> None:
    records: Records[str, Item] = Records(lambda i: i.key, lambda i: i.seq)
    for seq in range(1, 5001):
        records.add(Item(seq))
    for seq in range(1, 5001, 3):  # 1667 holes: past the compaction threshold
        assert records.remove(f"k{seq}") is not None
    kept = [seq for seq in range(1, 5001) if seq % 3 != 1]
    assert [i.seq for i in records.oldest_first()] == kept
    assert [i.seq for i in records.newest_first()] == kept[::-1]
    assert [i.seq for i in records.newest_first(before=10, after=3)] == [9, 8, 6, 5]
    assert [i.seq for i in records.oldest_first(after=4990)] == [s for s in kept if s > 4990]
    assert len(records) == len(kept) and records.get("k1") is None and "k2" in records
    with pytest.raises(ValueError, match="not above"):
        records.add(Item(3))


def test_records_removed_oldest_first_are_dropped_from_the_front() -> None:
    """Eviction removes the oldest: the walk oldest first starts at the first kept record, and
    compaction drops the front's holes (some holes between kept records stay, in order)."""
    records: Records[str, Item] = Records(lambda i: i.key, lambda i: i.seq)
    for seq in range(1, 5001):
        records.add(Item(seq))
    records.remove("k3001")  # a hole between kept records
    for seq in range(1, 3001):
        assert records.remove(f"k{seq}") is not None
        assert next(records.oldest_first()).seq == (seq + 1 if seq < 3000 else 3002)
    kept = list(range(3002, 5001))
    assert [i.seq for i in records.oldest_first()] == kept
    assert [i.seq for i in records.newest_first()] == kept[::-1]
    assert [i.seq for i in records.oldest_first(after=3500)] == list(range(3501, 5001))
    assert len(records._slots) < 3000  # the front's holes went: compacted
    records.add(Item(5001))
    assert [i.seq for i in records.newest_first(before=5002, after=4998)] == [5001, 5000, 4999]
    for seq in kept:
        records.remove(f"k{seq}")
    assert [i.seq for i in records.oldest_first()] == [5001] and len(records) == 1


# -- the helpers that follow next -------------------------------------------------------------
def test_the_plugin_helpers_read_every_page(sms_emulator: SmsEmulator) -> None:
    import json
    import urllib.request

    def post(to: list[str], **extra: Any) -> None:
        request = urllib.request.Request(
            f"{sms_emulator.tsg_url}/messages", method="POST",
            data=json.dumps({"from": NUMBER, "to": to, "body": "hi", **extra}).encode(),
            headers={"Authorization": f"Bearer {sms_emulator.tsg_api_key}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200

    post(numbers(0, 800))
    post(numbers(1000, 700))  # 1,500 messages: two pages of the helpers' 1,000
    messages = sms_emulator.messages()
    assert len(messages) == 1500 and len({m["id"] for m in messages}) == 1500
    assert [m["to"] for m in messages[-3:]] == numbers(0, 3)[::-1]
    oldest = sms_emulator.wait_for_message(to=numbers(0, 1)[0], timeout=0)
    assert oldest["seq"] == 1
    assert len(sms_emulator.messages(provider="tsg", direction="outbound")) == 1500

    sms_emulator.patch_config({"tsg": {"numbers": {NUMBER: {
        "webhook_url": "http://127.0.0.1:9/nothing-listens", "x_api_key": None}}}})
    for n in range(5):
        sms_emulator.send_inbound(f"hi {n}", from_=f"1555765432{n}", to=NUMBER, provider="tsg")
    sms_emulator.page_size = 2  # five deliveries: three pages
    assert [d["id"] for d in sms_emulator.deliveries()] == [f"D{n:06d}" for n in range(5, 0, -1)]
    assert [d["id"] for d in sms_emulator.deliveries(
        url="http://127.0.0.1:9/nothing-listens")][-1] == "D000001"
    entries = sms_emulator.journal(kind="inbound_message")
    assert len(entries) == 5 and [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)


async def test_the_async_helpers_read_every_page(sms_emulator: SmsEmulator) -> None:
    for n in range(5):
        await sms_emulator.aio.send_inbound(f"STOP{n}", from_=f"1415555{n:04d}", to="4442")
    sms_emulator.aio.page_size = 3
    inbound = await sms_emulator.aio.messages(direction="inbound")
    assert [m["text"] for m in inbound] == [f"STOP{n}" for n in range(4, -1, -1)]
    assert len(await sms_emulator.aio.journal(kind="inbound_message")) == 5
    found = await sms_emulator.aio.wait_for_message(text="^STOP0$", timeout=0)
    assert found["from"] == "14155550000"


async def test_the_replay_client_follows_next(emulator: Emulator, receiver: Receiver) -> None:
    await emulator.patch_config({"tsg": {"numbers": {NUMBER: {
        "webhook_url": receiver.url("/tsg"), "x_api_key": None}}}})
    for n in range(5):
        status, _ = await emulator.control("POST", "/inbound", json={
            "provider": "tsg", "from": f"1555765432{n}", "to": NUMBER, "text": f"hi {n}"})
        assert status == 201
    async with aiohttp.ClientSession() as session:
        client = ControlClient(emulator.url, session, page_size=2)
        assert [d["id"] for d in await client.deliveries()] == [
            f"D{n:06d}" for n in range(5, 0, -1)]
        assert len(await client.messages(provider="tsg")) == 5
        seqs = [e["seq"] for e in await client.journal()]
        assert seqs == [e.seq for e in emulator.ctx.journal.entries()]


async def test_a_scenario_sees_messages_beyond_the_first_page(emulator: Emulator,
                                                              tmp_path: Path) -> None:
    def send(to: list[str]) -> dict[str, Any]:
        return {"request": {"url": "${emulator}/messages",
                            "headers": {"Authorization": "Bearer sms-emulator-tsg-key"},
                            "json": {"from": NUMBER, "to": to, "body": "hello"}}}

    scenario = tmp_path / "many.yaml"
    scenario.write_text(yaml.safe_dump({"name": "more than a page", "steps": [
        {"name": "a thousand", **send(numbers(0, 1000))},
        {**send(numbers(5000, 200)), "name": "two hundred more"},
        {"expect_message": {"provider": "tsg", "to": numbers(0, 1)[0], "since": "a thousand"}},
        {"expect_message": {"provider": "tsg", "count": 1200, "since": "a thousand"}},
        {"expect_api_call": {"provider": "tsg", "path": "/messages", "count": 2,
                             "since": "a thousand"}},
    ]}))
    [outcome] = await replay_with(emulator.url, [scenario], step_timeout=0.5,
                                  quiet_period=0.02)
    assert outcome.passed, text([outcome])


# -- the README's examples ------------------------------------------------------------------
async def test_the_readmes_paging_example(emulator: Emulator) -> None:
    import json

    from tests.test_readme_commands import run_example

    await tsg_send(emulator, to=numbers(0, 3))
    answer = await run_example(emulator, "_emulator/messages?provider=tsg&limit=2")
    assert_valid("control/messages", answer)
    assert [m["seq"] for m in answer["messages"]] == [3, 2]
    assert answer["next"] == "/_emulator/messages?provider=tsg&limit=2&cursor=2"
    shown = readme.block("sh", "_emulator/messages?provider=tsg&limit=2")
    assert '"next": "/_emulator/messages?provider=tsg&limit=2&cursor=249"' in shown
    assert_valid("control/health", json.loads(readme.block("json", '"retention"')))
