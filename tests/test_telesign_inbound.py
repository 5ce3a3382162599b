"""Telesign inbound SMS (MO): ``mo_sms`` callbacks with keyword actions, the US/Canada compliance
auto-replies and opt-out list, MO retries, and bad input to ``POST /_emulator/inbound``."""

from __future__ import annotations

from typing import Any

import pytest
from telesign.util import verify_telesign_callback_signature

from tests import seed_examples as seeds
from tests.conftest import API_KEY, CUSTOMER_ID, START, Emulator, Receiver, assert_valid, in_thread

US_USER = "14155550123"
CA_USER = "16135550123"
CODE = "4442"


async def inbound(emulator: Emulator, expect: int = 201, **document: Any) -> dict[str, Any]:
    status, body = await emulator.control("POST", "/inbound",
                                          json={"provider": "telesign", **document})
    assert status == expect, body
    return body


async def get(emulator: Emulator, path: str, **kwargs: Any) -> dict[str, Any]:
    status, body = await emulator.control("GET", path, **kwargs)
    assert status == 200, body
    return body


async def with_account_callback(emulator: Emulator, receiver: Receiver) -> None:
    await emulator.patch_config({"telesign": {"callback_url": receiver.url("/mo")}})


def mo_payloads(receiver: Receiver) -> list[dict[str, Any]]:
    payloads = [r.json() for r in receiver.requests]
    for payload in payloads:
        assert_valid(f"telesign/{payload.get('sub_resource', 'mo_sms').replace('_', '-')}",
                     payload)
    return payloads


async def send(emulator: Emulator, number: str, **params: Any) -> str:
    response = await in_thread(emulator.sdk().message, number, "Your order shipped", "ARN",
                               **params)
    assert response.status_code == 200, response.body
    assert response.json["status"]["code"] == 290
    return response.json["reference_id"]


async def status_of(emulator: Emulator, reference_id: str) -> int:
    response = await in_thread(emulator.sdk().status, reference_id)
    assert response.status_code == 200, response.body
    assert_valid("telesign/status-response", response.json)
    return response.json["status"]["code"]


async def test_arret_reaches_the_receiver_as_a_signed_mo_sms_stop(
        emulator: Emulator, receiver: Receiver) -> None:
    await with_account_callback(emulator, receiver)
    body = await inbound(emulator, **{"from": "11234567890", "to": "6281298636572",
                                      "text": "arrêt"})
    [stored] = [m for m in body["messages"] if m["direction"] == "inbound"]

    [got] = receiver.requests
    payload = got.json()
    assert_valid("telesign/mo-sms", payload)
    assert set(payload) == set(seeds.MO_SMS_000)
    assert set(payload["user_response"]) == set(seeds.MO_SMS_000["user_response"])
    assert payload["sub_resource"] == "mo_sms"
    assert payload["reference_id"] == stored["id"]
    assert payload["status"] == {"code": 1500, "description": "Delivered to customer",
                                 "updated_on": "2026-01-01T00:00:00.000000Z"}
    assert payload["errors"] == []
    assert payload["user_response"] == {
        "action": "stop", "iso_country_code": "US", "keyword": "arrêt",
        "sender_id": "6281298636572", "phone_number": "11234567890", "price": "0.0075",
        "mo_message": "arrêt"}

    signature = got.headers["X-TS-Authorization"]
    assert verify_telesign_callback_signature(API_KEY, signature, got.body.decode("utf-8"))
    assert got.headers["Authorization"] == f"TSA {CUSTOMER_ID}:{signature}"

    [delivery] = await emulator.deliveries(message_id=stored["id"])
    assert delivery["kind"] == "mo_sms"
    assert delivery["state"] == "delivered"


@pytest.mark.parametrize(("text", "action", "keyword"), [
    ("Hello there", "generic", None),
    ("STOP", "stop", "stop"),
    ("  Stop!  ", "stop", "stop"),
    ("Start", "start", "start"),
    ("UNSUBSCRIBE", "stop", "unsubscribe"),
    ("info?", "help", "info"),
    ("Arret", "stop", "arret"),
    ("please stop", "generic", None),  # exact mode: a keyword inside a sentence is not one
    ("STOP please", "generic", None),
])
async def test_keyword_actions(emulator: Emulator, receiver: Receiver, text: str, action: str,
                               keyword: str | None) -> None:
    await with_account_callback(emulator, receiver)
    await inbound(emulator, **{"from": "447700900123", "to": CODE, "text": text})
    [payload] = mo_payloads(receiver)
    response = payload["user_response"]
    assert response["action"] == action
    assert response.get("keyword") == keyword
    assert ("keyword" in response) == (keyword is not None)
    assert response["mo_message"] == text
    assert response["iso_country_code"] == "GB"


async def test_first_word_mode_treats_a_leading_keyword_as_the_keyword(
        emulator: Emulator, receiver: Receiver) -> None:
    await emulator.patch_config({"telesign": {"callback_url": receiver.url(),
                                              "inbound": {"keyword_match": "first_word"}}})
    await inbound(emulator, **{"from": US_USER, "to": CODE, "text": "STOP please"})
    await inbound(emulator, **{"from": US_USER, "to": CODE, "text": "please stop"})
    first, second = mo_payloads(receiver)
    assert first["user_response"]["action"] == "stop"
    assert first["user_response"]["keyword"] == "stop"
    assert second["user_response"]["action"] == "generic"


async def test_price_is_a_setting_and_null_leaves_it_out(
        emulator: Emulator, receiver: Receiver) -> None:
    await emulator.patch_config({"telesign": {"callback_url": receiver.url(),
                                              "inbound": {"price": None}}})
    await inbound(emulator, **{"from": US_USER, "to": CODE, "text": "hi"})
    [payload] = mo_payloads(receiver)
    assert "price" not in payload["user_response"]


async def test_help_from_canada_gets_the_help_auto_reply(
        emulator: Emulator, receiver: Receiver) -> None:
    await with_account_callback(emulator, receiver)
    await inbound(emulator, **{"from": CA_USER, "to": CODE, "text": "HELP"})
    [payload] = mo_payloads(receiver)
    assert payload["user_response"]["iso_country_code"] == "CA"
    assert payload["user_response"]["action"] == "help"

    listed = await get(emulator, "/messages",
                                            params={"direction": "outbound", "to": CA_USER})
    [reply] = listed["messages"]
    assert reply["from"] == CODE
    assert reply["text"].startswith("For help")
    assert reply["details"]["auto_response"] is True
    await emulator.advance(10)
    assert (await emulator.message(reply["id"]))["status"] == 200
    assert len(receiver.requests) == 1  # Telesign's own reply is not reported to the customer


async def test_no_auto_reply_outside_the_us_and_canada(emulator: Emulator) -> None:
    await inbound(emulator, **{"from": "447700900123", "to": CODE, "text": "HELP"})
    listed = await get(emulator, "/messages", params={"direction": "outbound"})
    assert listed["messages"] == []


async def test_arret_answers_with_its_french_template(emulator: Emulator) -> None:
    body = await inbound(emulator, **{"from": CA_USER, "to": CODE, "text": "ARRÊT"})
    [reply] = [m for m in body["messages"] if m["direction"] == "outbound"]
    assert reply["text"].startswith("Vous êtes désabonné")
    await emulator.patch_config({"telesign": {"compliance": {
        "templates": {"help": "Call 555-0100."}}}})
    body = await inbound(emulator, **{"from": CA_USER, "to": CODE, "text": "help"})
    [reply] = [m for m in body["messages"] if m["direction"] == "outbound"]
    assert reply["text"] == "Call 555-0100."


async def test_stop_blocks_later_sends_with_510_until_start(
        emulator: Emulator, receiver: Receiver) -> None:
    await inbound(emulator, **{"from": US_USER, "to": CODE, "text": "STOP"})
    listed = await get(emulator, "/telesign/opt-outs")
    assert listed["opt_outs"] == [{"sender_id": CODE, "phone_number": US_USER,
                                   "keyword": "stop", "at": "2026-01-01T00:00:00.000000Z"}]

    blocked = await send(emulator, US_USER, sender_id=CODE, callback_url=receiver.url())
    other_code = await send(emulator, US_USER, sender_id="5550")
    await emulator.advance(10)
    assert await status_of(emulator, blocked) == 510
    assert await status_of(emulator, other_code) == 200  # opted out of 4442 only
    [report] = [r.json() for r in receiver.requests]
    assert_valid("telesign/delivery-callback", report)
    assert report["status"]["code"] == 510
    assert report["status"]["description"] == "Message blocked by subscriber action or request"

    await inbound(emulator, **{"from": US_USER, "to": CODE, "text": "start"})
    listed = await get(emulator, "/telesign/opt-outs")
    assert listed["opt_outs"] == []
    allowed = await send(emulator, US_USER, sender_id=CODE)
    await emulator.advance(10)
    assert await status_of(emulator, allowed) == 200


async def test_the_opt_out_list_is_resettable(emulator: Emulator) -> None:
    for user in (US_USER, CA_USER):
        await inbound(emulator, **{"from": user, "to": CODE, "text": "stop"})
    status, body = await emulator.control("DELETE", "/telesign/opt-outs",
                                          params={"phone_number": CA_USER})
    assert status == 200
    assert body["removed"] == 1
    assert [o["phone_number"] for o in body["opt_outs"]] == [US_USER]
    status, body = await emulator.control("DELETE", "/telesign/opt-outs")
    assert body == {"removed": 1, "opt_outs": [], "next": None}
    reference_id = await send(emulator, US_USER)
    await emulator.advance(10)
    assert await status_of(emulator, reference_id) == 200


async def test_mo_callbacks_follow_the_telesign_retry_schedule(
        emulator: Emulator, receiver: Receiver) -> None:
    receiver.answers = [500]
    await with_account_callback(emulator, receiver)
    await inbound(emulator, **{"from": US_USER, "to": CODE, "text": "Hello"})
    await emulator.advance(3600)
    assert [r.at_emulated - START for r in receiver.requests] == [0, 10, 40]
    [delivery] = await emulator.deliveries(state="exhausted")
    assert delivery["kind"] == "mo_sms"
    assert delivery["reason"] == "3 attempts failed; last: HTTP 500"


async def test_a_channel_callback_url_wins_over_the_account_one(
        emulator: Emulator, receiver: Receiver) -> None:
    await emulator.patch_config({"telesign": {"callback_url": receiver.url("/account"),
                                              "mo_callback_urls": {"sms": receiver.url("/sms")}}})
    await inbound(emulator, **{"from": US_USER, "to": CODE, "text": "Hello"})
    assert [r.path for r in receiver.requests] == ["/sms"]


async def test_without_a_callback_url_the_journal_says_so(emulator: Emulator) -> None:
    body = await inbound(emulator, **{"from": US_USER, "to": CODE, "text": "Hello"})
    journal = await get(emulator, "/journal",
                                             params={"kind": "callback_skipped"})
    [entry] = journal["entries"]
    assert entry["message_id"] == body["messages"][0]["id"]


@pytest.mark.parametrize(("document", "field"), [
    ({"channel": "fax", "from": US_USER, "to": CODE, "text": "hi"}, "channel"),
    ({"to": CODE, "text": "hi"}, "from"),
    ({"from": "not a number", "to": CODE, "text": "hi"}, "from"),
    ({"from": "+1 415", "to": CODE, "text": "hi"}, "from"),
    ({"from": "99912345678", "to": CODE, "text": "hi"}, "from"),
    ({"from": US_USER, "to": "four", "text": "hi"}, "to"),
    ({"from": US_USER, "to": CODE}, "text"),
    ({"from": US_USER, "to": CODE, "text": "x" * 1601}, "text"),
    ({"from": US_USER, "to": CODE, "text": 42}, "text"),
    ({"from": US_USER, "to": CODE, "text": "hi", "colour": "red"}, "colour"),
    ({"channel": "email", "from": "nobody", "event": "unsubscribe"}, "from"),
    ({"channel": "email", "from": "a@example.com", "event": "bounce"}, "event"),
])
async def test_bad_inbound_input_gets_a_400_naming_the_field(
        emulator: Emulator, document: dict[str, Any], field: str) -> None:
    body = await inbound(emulator, expect=400, **document)
    assert body["field"] == field
    assert body["error"]
    listed = await get(emulator, "/messages")
    assert listed["messages"] == []
