"""Conversations: ``GET /_emulator/conversations`` groups the kept messages into threads
(provider, our number or sender id, the end user), with facets, filters and pages; and the
filters it shares with ``GET /_emulator/messages`` (``q``, ``status``, ``thread``). Messages are
made through both providers' real APIs and ``POST /_emulator/inbound``."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise
from typing import Any

import pytest
from yarl import URL

from emulator.control import conversations, selection, threads
from emulator.core.store import Message, Store
from tests.conftest import Emulator, in_thread, walk_pages
from tests.tsg_support import END_USER, NUMBER, inject
from tests.tsg_support import send as tsg_send

US_USER = "14155550123"
CODE = "4442"
FAILS_207 = "15005550207"  # a Telesign magic number: ends in 207

OURS = f"telesign|{CODE}|{US_USER}"
NO_SENDER = f"telesign||{US_USER}"
TO_207 = f"telesign|{CODE}|{FAILS_207}"
TSG = f"tsg|{NUMBER}|{END_USER}"


async def ts_send(emulator: Emulator, number: str, text: str, **params: Any) -> str:
    response = await in_thread(emulator.sdk().message, number, text, "ARN", **params)
    assert response.status_code == 200, response.body
    return response.json["reference_id"]


async def ts_inbound(emulator: Emulator, **document: Any) -> list[dict[str, Any]]:
    status, body = await emulator.control("POST", "/inbound",
                                          json={"provider": "telesign", **document})
    assert status == 201, body
    return body["messages"]


async def get(emulator: Emulator, path: str, **params: str) -> dict[str, Any]:
    status, body = await emulator.control("GET", path, params=params)
    assert status == 200, body
    return body


async def threads_of(emulator: Emulator, **params: str) -> dict[str, dict[str, Any]]:
    """The first page of conversations, by key (in their order)."""
    body = await get(emulator, "/conversations", **params)
    assert body["next"] is None
    return {t["key"]: t for t in body["conversations"]}


async def message_ids(emulator: Emulator, **params: str) -> list[str]:
    body = await get(emulator, "/messages", **params)
    return [m["id"] for m in body["messages"]]


async def conversation_pages(emulator: Emulator, **params: str) -> list[dict[str, Any]]:
    """Every page, following ``next``; each answer checked against its schema."""
    found = [await get(emulator, "/conversations", **params)]
    while found[-1]["next"] is not None:
        url = URL(found[-1]["next"])
        assert url.path == "/_emulator/conversations"
        found.append(await get(emulator, "/conversations", **url.query))
    return found


@pytest.fixture
async def mixed(emulator: Emulator) -> dict[str, Any]:
    """Seven messages in four threads, lifecycles run to the end. Made in this order (seq):
    1 Telesign 4442 -> US user, 2 the user's STOP, 3 Telesign's compliance reply, 4 a send
    with no sender id (the user opted out: it ends in 510), 5 a send to a number that ends in
    207, 6 TSG to its end user, 7 the TSG end user's answer."""
    made: dict[str, Any] = {}
    made["code"] = await ts_send(emulator, US_USER, "Your code is 1234", sender_id=CODE)
    stop, reply = await ts_inbound(emulator, **{"from": US_USER, "to": CODE, "text": "STOP"})
    assert (stop["origin"], reply["origin"]) == ("end_user", "provider")
    made["stop"], made["reply"] = stop["id"], reply["id"]
    made["no_sender"] = await ts_send(emulator, US_USER, "Sent without a sender id")
    made["fails"] = await ts_send(emulator, FAILS_207, "This one fails", sender_id=CODE)
    made["tsg_out"] = (await tsg_send(emulator, to=[END_USER], body="Hello from TSG"))[
        END_USER]["id"]
    status, body = await inject(emulator, "Hi back")
    assert status == 201, body
    made["tsg_in"] = body["messages"][0]["id"]
    await emulator.advance(120)
    return made


async def test_messages_group_into_threads_newest_first(emulator: Emulator,
                                                        mixed: dict[str, Any]) -> None:
    body = await get(emulator, "/conversations")
    assert body["total"] == 4 and body["next"] is None
    found = {t["key"]: t for t in body["conversations"]}
    assert list(found) == [TSG, TO_207, NO_SENDER, OURS]  # newest last_seq first
    assert [t["last_seq"] for t in found.values()] == [7, 5, 4, 3]

    # the user's STOP and Telesign's compliance reply join the thread of the first send
    ours = found[OURS]
    assert (ours["provider"], ours["ours"], ours["end_user"]) == ("telesign", CODE, US_USER)
    assert (ours["count"], ours["inbound"], ours["outbound"]) == (3, 1, 2)
    assert ours["last"]["id"] == mixed["reply"] and ours["last"]["origin"] == "provider"
    assert ours["channels"] == ["sms"]
    # a send with no sender id is a thread of its own, ours ""
    alone = found[NO_SENDER]
    assert (alone["ours"], alone["count"], alone["last"]["id"]) == ("", 1, mixed["no_sender"])
    assert alone["last"]["from"] is None
    tsg = found[TSG]
    assert (tsg["ours"], tsg["end_user"], tsg["inbound"], tsg["outbound"]) == (
        NUMBER, END_USER, 1, 1)
    assert tsg["last"]["id"] == mixed["tsg_in"]

    # last is the message as the messages list shows it; updated_at its created_at
    listed = {m["id"]: m for m in (await get(emulator, "/messages"))["messages"]}
    for thread in found.values():
        assert thread["last"] == listed[thread["last"]["id"]]
        assert thread["updated_at"] == thread["last"]["created_at"]
        assert thread["last_seq"] == thread["last"]["seq"]
        # recent_seqs: the seqs of the thread's messages, newest first (fewer than RECENT)
        mine = (await get(emulator, "/messages", thread=thread["key"]))["messages"]
        assert thread["recent_seqs"] == sorted((m["seq"] for m in mine), reverse=True)


async def test_facets_count_every_message_whatever_the_filter(emulator: Emulator,
                                                               mixed: dict[str, Any]) -> None:
    listed = (await get(emulator, "/messages"))["messages"]
    expected = {name: dict(Counter(str(m[name]) for m in listed))
                for name in ("provider", "channel", "direction", "status", "origin")}
    assert expected["provider"] == {"telesign": 5, "tsg": 2}
    assert expected["direction"] == {"outbound": 5, "inbound": 2}
    assert expected["origin"] == {"api": 4, "end_user": 2, "provider": 1}
    assert [expected["status"][code] for code in ("200", "207", "510")] == [2, 1, 1]
    assert expected["status"]["delivered"] == 1
    for params in ({}, {"provider": "tsg"}, {"q": "nothing like this"}):
        body = await get(emulator, "/conversations", **params)
        assert body["facets"] == expected, params


async def test_filters_pick_the_messages_that_count(emulator: Emulator,
                                                    mixed: dict[str, Any]) -> None:
    inbound = await threads_of(emulator, direction="inbound")
    assert list(inbound) == [TSG, OURS]
    assert [(t["count"], t["inbound"], t["outbound"]) for t in inbound.values()] == [
        (1, 1, 0), (1, 1, 0)]
    assert inbound[OURS]["last"]["id"] == mixed["stop"]
    assert inbound[OURS]["last_seq"] == 2

    outbound = await threads_of(emulator, direction="outbound")
    assert list(outbound) == [TSG, TO_207, NO_SENDER, OURS]
    assert outbound[OURS]["count"] == 2 and outbound[TSG]["last"]["id"] == mixed["tsg_out"]

    assert list(await threads_of(emulator, provider="tsg")) == [TSG]
    assert list(await threads_of(emulator, provider="telesign")) == [TO_207, NO_SENDER, OURS]
    by_origin = await threads_of(emulator, origin="provider")
    assert list(by_origin) == [OURS] and by_origin[OURS]["last"]["id"] == mixed["reply"]
    assert list(await threads_of(emulator, status="207")) == [TO_207]
    delivered = await threads_of(emulator, status="delivered")
    assert list(delivered) == [TSG]  # the TSG answer stays "new"
    assert (delivered[TSG]["count"], delivered[TSG]["last"]["id"]) == (1, mixed["tsg_out"])
    assert list(await threads_of(emulator, status="200")) == [OURS]
    assert list(await threads_of(emulator, status="510")) == [NO_SENDER]
    assert len(await threads_of(emulator, channel="sms")) == 4
    body = await get(emulator, "/conversations", channel="whatsapp")
    assert (body["conversations"], body["total"], body["next"]) == ([], 0, None)
    assert list(await threads_of(emulator, provider="telesign", direction="inbound",
                                 origin="end_user")) == [OURS]


async def test_q_searches_text_numbers_and_ids_ignoring_case(emulator: Emulator,
                                                             mixed: dict[str, Any]) -> None:
    found = await threads_of(emulator, q="YOUR CODE")  # text, any case
    assert list(found) == [OURS] and found[OURS]["last"]["id"] == mixed["code"]
    assert list(await threads_of(emulator, q="stop")) == [OURS]
    assert list(await threads_of(emulator, q="7654")) == [TSG]  # the end user's number
    assert list(await threads_of(emulator, q=CODE)) == [TO_207, OURS]  # a sender id
    assert list(await threads_of(emulator, q="5550207")) == [TO_207]
    piece = mixed["fails"][4:16].lower()  # Telesign ids are upper-case hex
    assert list(await threads_of(emulator, q=piece)) == [TO_207]
    assert await threads_of(emulator, q="no such words") == {}

    # the same q and status on the messages list
    assert await message_ids(emulator, q="your CODE") == [mixed["code"]]
    assert await message_ids(emulator, q="hi BACK") == [mixed["tsg_in"]]
    assert await message_ids(emulator, q=mixed["tsg_out"].upper()) == [mixed["tsg_out"]]
    assert await message_ids(emulator, q="7654", direction="inbound") == [mixed["tsg_in"]]
    assert await message_ids(emulator, status="207") == [mixed["fails"]]
    assert await message_ids(emulator, status="200") == [mixed["reply"], mixed["code"]]
    assert await message_ids(emulator, status="delivered") == [mixed["tsg_out"]]
    assert await message_ids(emulator, status="Delivered") == []  # as text, exactly


async def test_thread_on_the_messages_list_gives_both_directions(emulator: Emulator,
                                                                 mixed: dict[str, Any]) -> None:
    assert await message_ids(emulator, thread=OURS) == [mixed["reply"], mixed["stop"],
                                                        mixed["code"]]
    assert await message_ids(emulator, thread=NO_SENDER) == [mixed["no_sender"]]
    assert await message_ids(emulator, thread=TSG) == [mixed["tsg_in"], mixed["tsg_out"]]
    assert await message_ids(emulator, thread=OURS, direction="inbound") == [mixed["stop"]]
    assert await message_ids(emulator, thread=f"tsg|{CODE}|{US_USER}") == []
    # every thread's messages, as its key names them, add up to its count
    for key, thread in (await threads_of(emulator)).items():
        assert len(await message_ids(emulator, thread=key)) == thread["count"]
    # paged: the cursor keeps the thread filter
    body = await get(emulator, "/messages", thread=OURS, limit="2")
    assert [m["id"] for m in body["messages"]] == [mixed["reply"], mixed["stop"]]
    rest = await get(emulator, "/messages", **URL(body["next"]).query)
    assert [m["id"] for m in rest["messages"]] == [mixed["code"]] and rest["next"] is None


async def test_a_sender_with_a_bar_or_percent_gets_an_encoded_key(emulator: Emulator) -> None:
    # an RCS sender id is free text: the key escapes | and % in it
    made = await ts_inbound(emulator, channel="rcs", to="acme|bot 100%", text="hello",
                            **{"from": US_USER})
    key = f"telesign|acme%7Cbot 100%25|{US_USER}"
    found = await threads_of(emulator)
    assert list(found) == [key]
    assert (found[key]["ours"], found[key]["channels"]) == ("acme|bot 100%", ["rcs"])
    assert await message_ids(emulator, thread=key) == [made[0]["id"]]


async def test_channels_of_one_thread(emulator: Emulator) -> None:
    await ts_inbound(emulator, **{"from": US_USER, "to": CODE, "text": "hello"})
    await ts_inbound(emulator, channel="whatsapp", **{"from": US_USER, "to": CODE,
                                                      "text": "hello again"})
    found = await threads_of(emulator)
    assert list(found) == [OURS]
    assert found[OURS]["channels"] == ["sms", "whatsapp"] and found[OURS]["count"] == 2
    assert list(await threads_of(emulator, channel="whatsapp")) == [OURS]
    assert (await threads_of(emulator, channel="whatsapp"))[OURS]["channels"] == ["whatsapp"]


async def test_recent_seqs_are_the_newest_matching_ones_at_most_recent(
        emulator: Emulator) -> None:
    for n in range(conversations.RECENT + 5):
        await ts_send(emulator, US_USER, f"message {n}", sender_id=CODE)
    await ts_inbound(emulator, **{"from": US_USER, "to": CODE, "text": "an answer"})
    listed = (await get(emulator, "/messages", provider="telesign", limit="100"))["messages"]
    outbound = sorted((m["seq"] for m in listed if m["direction"] == "outbound"), reverse=True)
    thread = (await threads_of(emulator, direction="outbound"))[OURS]
    assert thread["count"] == conversations.RECENT + 5
    assert thread["recent_seqs"] == outbound[:conversations.RECENT]
    assert thread["recent_seqs"][0] == thread["last_seq"]


async def test_pages_follow_the_cursor_to_the_end(emulator: Emulator) -> None:
    recipients = [f"1555000{n:04d}" for n in range(25)]
    await tsg_send(emulator, to=recipients, body="one each")
    await ts_send(emulator, US_USER, "and one more")
    await tsg_send(emulator, to=recipients[:3], body="again")  # three threads move up
    pages = await conversation_pages(emulator, provider="tsg", limit="10")
    assert [len(p["conversations"]) for p in pages] == [10, 10, 5]
    assert {p["total"] for p in pages} == {25}
    keys = [t["key"] for p in pages for t in p["conversations"]]
    assert len(set(keys)) == 25 and all(k.startswith(f"tsg|{NUMBER}|") for k in keys)
    assert keys[:3] == [f"tsg|{NUMBER}|{n}" for n in reversed(recipients[:3])]
    assert keys[3:] == [f"tsg|{NUMBER}|{n}" for n in reversed(recipients[3:])]
    seqs = [t["last_seq"] for p in pages for t in p["conversations"]]
    assert seqs == sorted(seqs, reverse=True)
    for page, following in pairwise(pages):
        query = URL(page["next"]).query
        assert query["cursor"] == str(page["conversations"][-1]["last_seq"])
        assert (query["provider"], query["limit"]) == ("tsg", "10")
        assert following["conversations"][0]["last_seq"] < int(query["cursor"])
    everything = await conversation_pages(emulator)  # default limit 100: one page
    assert len(everything) == 1 and everything[0]["total"] == 26
    assert [t["count"] for t in everything[0]["conversations"][:4]] == [2, 2, 2, 1]
    one = await conversation_pages(emulator, limit="1")
    assert len(one) == 26 and [t["key"] for p in one for t in p["conversations"]] == [
        t["key"] for t in everything[0]["conversations"]]


async def test_no_messages_no_conversations(emulator: Emulator) -> None:
    body = await get(emulator, "/conversations")
    assert body == {"conversations": [], "total": 0, "next": None,
                    "facets": {name: {} for name in conversations.FACETS}}


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/conversations", {"direction": "sideways"}, "direction"),
    ("/conversations", {"origin": "robot"}, "origin"),
    ("/conversations", {"limit": "0"}, "limit"),
    ("/conversations", {"limit": "1001"}, "limit"),
    ("/conversations", {"limit": "ten"}, "limit"),
    ("/conversations", {"cursor": "-1"}, "cursor"),
    ("/conversations", {"cursor": "x"}, "cursor"),
    ("/messages", {"origin": "robot"}, "origin"),
    ("/messages", {"thread": "telesign|4442"}, "thread"),
    ("/messages", {"thread": "|4442|14155550123"}, "thread"),
    ("/messages", {"thread": "a|b|c|d"}, "thread"),
    ("/messages", {"thread": ""}, "thread"),
])
async def test_bad_parameters_are_a_400_naming_them(emulator: Emulator, path: str,
                                                    params: dict[str, str], field: str) -> None:
    status, body = await emulator.control("GET", path, params=params)
    assert status == 400 and body["field"] == field, body
    assert field in body["error"]


# -- the pieces, in process -------------------------------------------------------------------
def message(seq: int, direction: str, to: str, from_: str | None, text: str = "hi",
            status: Any = 200, provider: str = "telesign") -> Message:
    return Message(id=f"id{seq}", provider=provider, direction=direction, to=to, from_=from_,
                   text=text, status=status, status_description="", created_at=float(seq),
                   updated_at=float(seq), seq=seq)


@pytest.mark.parametrize("parts", [("telesign", "4442", "14155550123"), ("tsg", "", "1"),
                                   ("telesign", "a|b", "%7C|%"), ("x", "100%25", "")])
def test_a_key_names_its_thread_and_reads_back(parts: threads.Parts) -> None:
    key = threads.key(parts)
    assert key.count("|") == 2 and threads.parse(key) == parts


def test_a_thread_is_the_same_whichever_way_its_messages_go() -> None:
    out = message(1, "outbound", "1555", "4442")
    back = message(2, "inbound", "4442", "1555")
    other = message(3, "outbound", "1555", None)
    assert threads.parts(out) == threads.parts(back) == ("telesign", "4442", "1555")
    assert threads.parts(other) == ("telesign", "", "1555")
    member = threads.member(threads.parts(out))
    assert [member(m) for m in (out, back, other)] == [True, True, False]
    found = conversations.group([other, back, out])
    assert [(t.parts, [m.seq for m in t.messages]) for t in found] == [
        (("telesign", "", "1555"), [3]), (("telesign", "4442", "1555"), [2, 1])]


def test_parts_holding_the_separators_make_distinct_threads() -> None:
    # the same characters split differently: three threads, not one
    kept = [message(3, "inbound", "a1:b", "c"), message(2, "inbound", "a", "1:bc"),
            message(1, "outbound", "c", "a1:b")]
    found = conversations.group(kept)
    assert [t.parts for t in found] == [("telesign", "a1:b", "c"), ("telesign", "a", "1:bc")]
    assert [len(t.messages) for t in found] == [2, 1]
    assert len({threads.key(t.parts) for t in found}) == 2


def test_facets_count_a_status_as_text() -> None:
    kept = [message(1, "outbound", "1", "2", status=200), message(2, "outbound", "1", "2",
                                                                  status="200"),
            message(3, "outbound", "1", "2", status="delivered", provider="tsg")]
    assert conversations.facets(kept)["status"] == {"200": 2, "delivered": 1}
    assert conversations.facets(kept)["provider"] == {"telesign": 2, "tsg": 1}


def test_a_selective_filter_pages_within_the_scan_budget() -> None:
    store = Store()
    for seq in range(1, 101):
        store.add(message(seq, "outbound", f"1555{seq:04d}", "4442",
                          text="needle" if seq % 10 == 0 else "hay"))
    test = selection.parse({"q": "NEEDLE"}).test()
    found, lengths = walk_pages(
        lambda before: store.page(before=before, limit=5, budget=20, where=test))
    assert found == list(range(100, 0, -10))
    assert lengths == [2] * 5  # 20 examined a page, two matching each time


def test_every_kept_message_newest_first_skips_the_evicted() -> None:
    store = Store(max_messages=20)  # past 20, evicts the oldest finished down to 18
    for seq in range(1, 31):
        added = store.add(message(seq, "outbound", "1555", "4442"))
        added.final = True
    kept = store.newest_first()
    assert [m.seq for m in kept] == [m.seq for m in store.page(limit=100).items]
    assert len(kept) == len(store) < 30 and kept[0].seq == 30


def test_a_page_holds_the_threads_below_any_cursor() -> None:
    kept = [message(seq, "outbound", f"u{seq % 5}", "4442") if seq % 2
            else message(seq, "inbound", "4442", f"u{seq % 7}")
            for seq in range(40, 0, -1)]  # newest first, threads interleaved
    every = conversations.group(kept)
    for before in range(0, 43):
        for limit in (1, 3, 100):
            found = conversations.page(kept, None, before, limit)
            below = [t for t in every if t.messages[0].seq < before]
            assert [t.parts for t in found.threads] == [t.parts for t in below[:limit]]
            assert [t.messages for t in found.threads] == [t.messages for t in below[:limit]]
            assert found.total == len(every)
            assert found.cursor == (found.threads[-1].messages[0].seq
                                    if len(below) > limit else None)
