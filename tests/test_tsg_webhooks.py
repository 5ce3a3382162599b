"""TSG webhooks to a real receiver: sms_dlr receipts, the number configuration endpoint and
x-api-key, inbound sms objects (long ones as UDH multipart), auto-replies from the webhook's
answer, and redelivery up to 17 times over 2-3 days."""

from __future__ import annotations

import itertools
import time

from emulator.providers.tsg.webhooks import RETRY_DELAYS
from tests.conftest import START, Emulator, Receiver
from tests.seed_examples_tsg import DLR_002, MULTIPART_BODY_002, WEBHOOK_SMS_002
from tests.tsg_support import (
    END_USER,
    NUMBER,
    call,
    get_message,
    inject,
    journal,
    send,
    use_receiver,
    webhook_objects,
)


async def test_a_receipt_per_recipient_whose_sms_id_matches(
        emulator: Emulator, receiver: Receiver) -> None:
    url = await use_receiver(emulator, receiver)
    answer = await send(emulator, to=["15551234567", "447700900123"], registered_delivery=1)
    await emulator.advance(3)
    receipts = webhook_objects(receiver, "sms_dlr")
    assert len(receipts) == 2
    assert {r["sms"]["id"]: r["to"] for r in receipts} == {m["id"]: to for to, m in answer.items()}
    for receipt in receipts:
        assert set(receipt) == set(DLR_002)
        assert (receipt["object"], receipt["type"]) == ("sms_dlr", "inbound")
        assert (receipt["delivery_status"], receipt["delivery_error_code"]) == ("delivered", "000")
        assert receipt["from"] == NUMBER
        assert receipt["submitted_at"] == receipt["done_at"] == "2026-01-01T00:00:00"
        assert receipt["inserted_at"] == "2026-01-01T00:00:03.000000"
        assert receipt["id"] not in (m["id"] for m in answer.values())
    assert all(r.path == "/tsg" and r.method == "POST" for r in receiver.requests)
    assert receiver.requests[0].headers["Content-Type"] == "application/json"
    assert "x-api-key" not in {k.lower() for k in receiver.requests[0].headers}
    deliveries = await emulator.deliveries(provider="tsg")
    assert {(d["kind"], d["url"], d["state"]) for d in deliveries} == {("sms_dlr", url,
                                                                        "delivered")}


async def test_15005551004_ends_undelivered(emulator: Emulator, receiver: Receiver) -> None:
    await use_receiver(emulator, receiver)
    [message] = (await send(emulator, to=["15005551004"], registered_delivery=1)).values()
    await emulator.advance(3)
    assert (await get_message(emulator, message["id"]))["status"] == "undelivered"
    [receipt] = webhook_objects(receiver, "sms_dlr")
    assert (receipt["sms"]["id"], receipt["delivery_status"]) == (message["id"], "undelivered")
    assert receipt["delivery_error_code"] != "000"


async def test_receipt_times_keep_seconds_when_asked(emulator: Emulator,
                                                     receiver: Receiver) -> None:
    await use_receiver(emulator, receiver)
    await emulator.patch_config({"tsg": {"dlr_time_precision": "second"}})
    await emulator.advance(42)
    await send(emulator, registered_delivery=2)
    await emulator.advance(3)
    [receipt] = webhook_objects(receiver, "sms_dlr")
    assert (receipt["submitted_at"], receipt["done_at"]) == ("2026-01-01T00:00:42",
                                                             "2026-01-01T00:00:45")


async def test_no_receipt_unless_asked_and_none_without_a_webhook(
        emulator: Emulator, receiver: Receiver) -> None:
    await send(emulator, registered_delivery=1)  # the default number has no webhook_url
    await send(emulator, registered_delivery=1, **{"from": "ACME"})  # no such number
    await emulator.advance(3)
    reasons = [e["reason"] for e in await journal(emulator, "webhook_skipped")]
    assert reasons == [f"number {NUMBER} has no webhook_url (it is set up for SMPP)",
                       "number ACME is not configured (tsg.numbers or POST /v1/sms/webhook)"]
    await use_receiver(emulator, receiver)
    await send(emulator)  # registered_delivery not set
    await emulator.advance(3)
    assert receiver.requests == []


async def test_the_number_webhook_endpoint_and_x_api_key(emulator: Emulator,
                                                          receiver: Receiver) -> None:
    answer = await call(emulator, "POST", "/v1/sms/webhook", json={
        "did": "+12003004000", "webhook_url": receiver.url("/hook"),
        "x_api_key_header": "s3cret", "webhook_type": "postv2"})
    assert answer.status == 200
    assert answer.body == {"did": "12003004000", "webhook_url": receiver.url("/hook"),
                           "webhook_type": "postv2", "x_api_key_header": "s3cret"}
    config = (await emulator.control("GET", "/config"))[1]["tsg"]["numbers"]
    assert config["12003004000"] == {"webhook_url": receiver.url("/hook"), "x_api_key": "s3cret",
                                     "webhook_type": "postv2"}

    await send(emulator, registered_delivery=1, **{"from": "12003004000"})
    await emulator.advance(3)
    [got] = receiver.requests
    assert got.path == "/hook" and got.headers["x-api-key"] == "s3cret"
    [receipt] = webhook_objects(receiver, "sms_dlr")
    assert receipt["from"] == "12003004000"

    # a blank webhook_url turns the number to SMPP: no more webhooks
    answer = await call(emulator, "POST", "/v1/sms/webhook", json={"did": "12003004000",
                                                                    "webhook_url": ""})
    assert answer.body == {"did": "12003004000", "webhook_url": None, "webhook_type": "smpp",
                           "x_api_key_header": None}
    await send(emulator, registered_delivery=1, **{"from": "12003004000"})
    await emulator.advance(3)
    assert len(receiver.requests) == 1
    [skipped] = await journal(emulator, "webhook_skipped")
    assert "webhook_type smpp" in skipped["reason"]

    # and back to HTTP: nothing of the SMPP set-up lingers
    answer = await call(emulator, "POST", "/v1/sms/webhook", json={
        "did": "12003004000", "webhook_url": receiver.url("/again")})
    assert answer.body["webhook_type"] == "postv2"
    await send(emulator, registered_delivery=1, **{"from": "12003004000"})
    await emulator.advance(3)
    assert [r.path for r in receiver.requests] == ["/hook", "/again"]
    assert len(webhook_objects(receiver, "sms_dlr")) == 2
    assert "x-api-key" not in receiver.requests[1].headers


async def test_an_inbound_message_reaches_the_webhook_and_its_answer_is_sent_back(
        emulator: Emulator, receiver: Receiver) -> None:
    await use_receiver(emulator, receiver, x_api_key="k-123")
    receiver.reply_body = '{"body": "Thanks"}'
    status, created = await inject(emulator, "Hello there", sender="+" + END_USER)
    assert status == 201
    [inbound, answered] = created["messages"]  # the answer came back before the 201
    assert (inbound["direction"], inbound["origin"], inbound["from"]) == ("inbound", "end_user",
                                                                          END_USER)
    [sms] = webhook_objects(receiver, "sms")
    assert receiver.requests[0].headers["x-api-key"] == "k-123"
    assert set(sms) == set(WEBHOOK_SMS_002)
    assert (sms["id"], sms["type"], sms["object"], sms["status"]) == (inbound["id"], "inbound",
                                                                      "sms", "new")
    assert (sms["from"], sms["to"], sms["body"], sms["encoding"]) == (END_USER, NUMBER,
                                                                      "Hello there", 3)
    assert sms["udh"] == {"ref_num": None, "count": None, "seq_num": None}

    status, body = await emulator.control("GET", "/messages", params={
        "provider": "tsg", "direction": "outbound"})
    [reply] = body["messages"]
    assert reply["id"] == answered["id"]
    assert (reply["from"], reply["to"], reply["text"]) == (NUMBER, END_USER, "Thanks")
    assert reply["details"]["in_reply_to"] == inbound["id"]
    fetched = await get_message(emulator, reply["id"])
    assert (fetched["type"], fetched["encoding"], fetched["delivery_receipt"]) == ("outbound", 3,
                                                                                   "no")
    await emulator.advance(3)
    assert (await get_message(emulator, reply["id"]))["status"] == "delivered"
    assert len(receiver.requests) == 1  # replies are not receipted unless configured
    [entry] = await journal(emulator, "auto_reply")
    assert entry["in_reply_to"] == inbound["id"] and entry["message_id"] == reply["id"]


async def test_an_auto_reply_is_receipted_when_configured(emulator: Emulator,
                                                          receiver: Receiver) -> None:
    await use_receiver(emulator, receiver)
    await emulator.patch_config({"tsg": {"auto_reply": {"registered_delivery": 1}}})
    receiver.reply_body = '{"body": "Ça marche 👍", "encoding": 0}'
    await inject(emulator, "ok?")
    await emulator.advance(3)
    [receipt] = webhook_objects(receiver, "sms_dlr")
    reply = await get_message(emulator, receipt["sms"]["id"])
    assert (reply["body"], reply["encoding"], reply["to"]) == ("Ça marche 👍", 8, END_USER)
    [entry] = await journal(emulator, "auto_reply")
    assert entry["ignored_keys"] == ["encoding"]  # only body is supported, as documented


async def test_other_answers_send_nothing_and_the_journal_says_why(
        emulator: Emulator, receiver: Receiver) -> None:
    await use_receiver(emulator, receiver)
    answers = ["OK", "", "[1, 2]", '{"text": "hi"}', '{"body": ""}', '{"body": 5}',
               '{"body": "' + "x" * 700 + '"}']
    for answer in answers:
        receiver.reply_body = answer
        await inject(emulator, "hi")
    reasons = [e["reason"] for e in await journal(emulator, "auto_reply_ignored")]
    assert reasons[:4] == ["the answer is not JSON", "the answer was empty",
                           "the answer is JSON but not an object (list)",
                           "body: is required"]
    assert reasons[4].startswith("body:") and reasons[5].startswith("body:")
    assert reasons[6].startswith("body: needs 6 parts")  # Latin-1 allows at most 5
    status, body = await emulator.control("GET", "/messages", params={"direction": "outbound"})
    assert status == 200 and body["messages"] == []


async def test_a_long_inbound_message_arrives_as_udh_multipart(emulator: Emulator,
                                                               receiver: Receiver) -> None:
    await use_receiver(emulator, receiver)
    await inject(emulator, MULTIPART_BODY_002)
    [sms] = webhook_objects(receiver, "sms")
    assert sms["body"] == MULTIPART_BODY_002 and sms["encoding"] == 3
    assert sms["udh"]["count"] == 3 and len(sms["parts"]) == 3
    parts = [await get_message(emulator, p["id"]) for p in sms["parts"]]
    assert "".join(p["body"] for p in parts) == MULTIPART_BODY_002
    assert [p["udh"]["seq_num"] for p in parts] == [1, 2, 3]
    assert all(p["type"] == "inbound" for p in parts)


async def test_inbound_refuses_bad_documents_naming_the_field(emulator: Emulator) -> None:
    for document, field in [
        ({"from": END_USER, "to": NUMBER}, "text"),
        ({"from": "not a number", "to": NUMBER, "text": "x"}, "from"),
        ({"from": END_USER, "to": NUMBER, "text": "x" * 900}, "text"),
        ({"from": END_USER, "to": NUMBER, "text": "x", "channel": "mms"}, "channel"),
        ({"from": END_USER, "to": NUMBER, "text": "x\ud800"}, "text"),
    ]:
        status, body = await emulator.control("POST", "/inbound",
                                              json={"provider": "tsg", **document})
        assert (status, body["field"]) == (400, field), body


async def test_a_500_receiver_sees_17_redeliveries_over_2_to_3_days(
        emulator: Emulator, receiver: Receiver) -> None:
    await use_receiver(emulator, receiver)
    receiver.answers = [500]
    started = time.perf_counter()
    await inject(emulator, "hello?")
    await emulator.advance(5 * 86400)
    elapsed = time.perf_counter() - started

    times = [r.at_emulated - START for r in receiver.requests]
    assert len(times) == 1 + 17
    assert times[0] == 0
    assert 2 * 86400 <= times[-1] <= 3 * 86400
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps == list(RETRY_DELAYS)
    assert all(b >= a for a, b in itertools.pairwise(gaps))  # backing off
    assert gaps[1] == 2 * gaps[0]
    assert len({r.body for r in receiver.requests}) == 1
    assert len(webhook_objects(receiver, "sms")) == 18
    # a bound against real-time waiting (the schedule spans 2.7 days), not a speed test:
    # it runs in tens of milliseconds (see the closing note's figures)
    assert elapsed < 10.0, elapsed

    [delivery] = await emulator.deliveries(provider="tsg")
    assert (delivery["state"], delivery["max_attempts"]) == ("exhausted", 18)
    assert delivery["reason"] == "18 attempts failed; last: HTTP 500"
    [exhausted] = await journal(emulator, "webhook_exhausted")
    assert exhausted["delivery"] == delivery["id"]
    assert await journal(emulator, "auto_reply") == []


async def test_anything_but_200_is_retried(emulator: Emulator, receiver: Receiver) -> None:
    await use_receiver(emulator, receiver)
    receiver.answers = [204, 302, 200]
    receiver.reply_body = '{"body": "late but fine"}'
    await inject(emulator, "hello?")
    await emulator.advance(3600)
    assert [r.at_emulated - START for r in receiver.requests] == [0, 60, 180]
    assert len(webhook_objects(receiver, "sms")) == 3
    [delivery] = await emulator.deliveries(provider="tsg")
    assert [a["status"] for a in delivery["attempts"]] == [204, 302, 200]
    assert delivery["state"] == "delivered"
    [entry] = await journal(emulator, "auto_reply")  # the answer that counted
    assert (await get_message(emulator, entry["message_id"]))["body"] == "late but fine"
