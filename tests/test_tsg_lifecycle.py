"""TSG message lifecycle on the manual clock: new -> sent -> delivery status, deliver_at and
expires_at, the ten magic numbers, lifecycle rules and delivery_error_code."""

from __future__ import annotations

import pytest

from emulator.providers.tsg.statuses import DELIVERY_STATUSES, ERROR_CODES
from tests.conftest import Emulator, Receiver
from tests.tsg_support import get_message, send, use_receiver, webhook_objects


async def test_new_then_sent_then_delivered_on_the_clock(emulator: Emulator) -> None:
    [message] = (await send(emulator)).values()
    assert message["status"] == "new"
    await emulator.advance(0)
    sent = await get_message(emulator, message["id"])
    assert sent["status"] == "sent"
    assert sent["processed_at"] == "2026-01-01T00:00:00.000000"
    assert sent["delivered_at"] is None
    await emulator.advance(2.999)
    assert (await get_message(emulator, message["id"]))["status"] == "sent"
    await emulator.advance(0.001)
    done = await get_message(emulator, message["id"])
    assert done["status"] == "delivered"
    assert done["delivered_at"] == done["updated_at"] == "2026-01-01T00:00:03.000000"
    assert done["inserted_at"] == "2026-01-01T00:00:00.000000"
    control = await emulator.message(message["id"])
    assert [h["status"] for h in control["history"]] == ["new", "sent", "delivered"]
    assert control["final"] is True and control["origin"] == "api"


async def test_deliver_at_schedules_the_send(emulator: Emulator) -> None:
    [message] = (await send(emulator, deliver_at="2026-01-01T01:00:00")).values()
    assert message["scheduled_at"] == "2026-01-01T01:00:00.000000"
    await emulator.advance(3599)
    assert (await get_message(emulator, message["id"]))["status"] == "new"
    await emulator.advance(1)
    sent = await get_message(emulator, message["id"])
    assert (sent["status"], sent["processed_at"]) == ("sent", "2026-01-01T01:00:00.000000")
    await emulator.advance(3)
    assert (await get_message(emulator, message["id"]))["status"] == "delivered"
    # a zone is converted to UTC; a past time sends at once
    [zoned] = (await send(emulator, deliver_at="2026-01-01T05:00:00+02:00")).values()
    assert zoned["scheduled_at"] == "2026-01-01T03:00:00.000000"
    [past] = (await send(emulator, deliver_at="2020-01-01T00:00:00")).values()
    await emulator.advance(0)
    assert (await get_message(emulator, past["id"]))["status"] == "sent"


async def test_expires_at_expires_a_message_still_on_its_way(
        emulator: Emulator, receiver: Receiver) -> None:
    await use_receiver(emulator, receiver)
    # 15005551009 stays enroute; the other one is delivered before its expiry
    answer = await send(emulator, to=["15005551009", "15551234567"], registered_delivery=1,
                        expires_at="2026-01-01T00:00:30")
    stuck, fine = answer["15005551009"], answer["15551234567"]
    assert stuck["expires_at"] == "2026-01-01T00:00:30.000000"
    await emulator.advance(29)
    assert (await get_message(emulator, stuck["id"]))["status"] == "enroute"
    await emulator.advance(1)
    expired = await get_message(emulator, stuck["id"])
    assert (expired["status"], expired["updated_at"]) == ("expired", "2026-01-01T00:00:30.000000")
    assert (await get_message(emulator, fine["id"]))["status"] == "delivered"
    await emulator.advance(86400)
    receipts = [(r["sms"]["id"], r["delivery_status"], r["delivery_error_code"])
                for r in webhook_objects(receiver, "sms_dlr")]
    assert receipts == [(stuck["id"], "enroute", "000"), (fine["id"], "delivered", "000"),
                        (stuck["id"], "expired", "062")]
    status, clock = await emulator.control("GET", "/clock")
    assert status == 200 and clock["pending_jobs"] == 0  # nothing left queued for either message


async def test_an_expiry_cancels_the_remaining_steps(emulator: Emulator) -> None:
    await emulator.patch_config({"lifecycle": {"rules": [
        {"to": "15551230000", "steps": [{"status": "enroute", "after": 5},
                                         {"status": "delivered", "after": 100}]}]}})
    [message] = (await send(emulator, to=["15551230000"],
                            expires_at="2026-01-01T00:01:00")).values()
    await emulator.advance(600)
    control = await emulator.message(message["id"])
    assert [h["status"] for h in control["history"]] == ["new", "sent", "enroute", "expired"]


async def test_every_delivery_status_through_its_magic_number(
        emulator: Emulator, receiver: Receiver) -> None:
    await use_receiver(emulator, receiver)
    numbers = [f"150055510{n:02d}" for n in range(1, 11)]
    answer = await send(emulator, to=numbers, registered_delivery=1)
    await emulator.advance(3)
    finals = [(await get_message(emulator, answer[n]["id"]))["status"] for n in numbers]
    assert finals == list(DELIVERY_STATUSES)
    receipts = {r["sms"]["id"]: r for r in webhook_objects(receiver, "sms_dlr")}
    for number, status in zip(numbers, DELIVERY_STATUSES, strict=True):
        receipt = receipts[answer[number]["id"]]
        assert (receipt["to"], receipt["delivery_status"]) == (number, status)
        assert receipt["delivery_error_code"] == ERROR_CODES[status]
    assert receipts[answer["15005551001"]["id"]]["delivery_error_code"] == "000"
    assert len({receipts[answer[n]["id"]]["delivery_error_code"] for n in numbers[1:4]}) == 3
    # 11 and above are no magic number: the default lifecycle
    [other] = (await send(emulator, to=["15005551011"])).values()
    await emulator.advance(3)
    assert (await get_message(emulator, other["id"]))["status"] == "delivered"


async def test_a_lifecycle_rule_with_tsg_statuses_via_patch(
        emulator: Emulator, receiver: Receiver) -> None:
    await use_receiver(emulator, receiver)
    await emulator.patch_config({
        "lifecycle": {"rules": [{"to": "1555*", "provider": "tsg",
                                 "steps": [{"status": "undelivered", "after": 5}]}]},
        "tsg": {"delivery_error_codes": {"undelivered": "0B1"}},
    })
    [message] = (await send(emulator, to=["15551234567"], registered_delivery=3)).values()
    await emulator.advance(4)
    assert (await get_message(emulator, message["id"]))["status"] == "sent"
    await emulator.advance(1)
    assert (await get_message(emulator, message["id"]))["status"] == "undelivered"
    [receipt] = webhook_objects(receiver, "sms_dlr")
    assert (receipt["delivery_status"], receipt["delivery_error_code"]) == ("undelivered", "0B1")
    # the rule overrides a magic number too
    [magic] = (await send(emulator, to=["15005551001"])).values()
    await emulator.advance(3)
    assert (await get_message(emulator, magic["id"]))["status"] == "delivered"  # 1500... != 1555*


async def test_every_delivery_status_through_a_rule(emulator: Emulator,
                                                    receiver: Receiver) -> None:
    await use_receiver(emulator, receiver)
    numbers = [f"4477009001{n:02d}" for n in range(10)]
    await emulator.patch_config({"lifecycle": {"rules": [
        {"to": number, "provider": "tsg", "steps": [{"status": status, "after": 7}]}
        for number, status in zip(numbers, DELIVERY_STATUSES, strict=True)]}})
    answer = await send(emulator, to=numbers, registered_delivery=1)
    await emulator.advance(7)
    finals = [(await get_message(emulator, answer[n]["id"]))["status"] for n in numbers]
    assert finals == list(DELIVERY_STATUSES)
    assert ([r["delivery_status"] for r in webhook_objects(receiver, "sms_dlr")]
            == list(DELIVERY_STATUSES))


@pytest.mark.parametrize(("rule", "field"), [
    ({"to": "1*", "provider": "tsg", "steps": [{"status": 200, "after": 1}]},
     "lifecycle.rules.0.steps.0.status"),
    ({"to": "1*", "provider": "tsg", "steps": [{"status": "sent", "after": 1}]},
     "lifecycle.rules.0.steps.0.status"),
    ({"to": "1*", "steps": [{"status": "bounced", "after": 1}]},
     "lifecycle.rules.0.steps.0.status"),
])
async def test_rules_refuse_what_tsg_does_not_have(emulator: Emulator, rule, field) -> None:
    status, body = await emulator.control("PATCH", "/config",
                                          json={"lifecycle": {"rules": [rule]}})
    assert status == 400 and body["field"] == field, body


async def test_a_rule_without_provider_applies_by_its_statuses(emulator: Emulator) -> None:
    await emulator.patch_config({"lifecycle": {"rules": [
        {"to": "1555*", "steps": [{"status": 207, "after": 1}]},   # Telesign's
        {"to": "1555*", "steps": [{"status": "rejected", "after": 1}]},  # TSG's
    ]}})
    [message] = (await send(emulator, to=["15551234567"])).values()
    await emulator.advance(1)
    assert (await get_message(emulator, message["id"]))["status"] == "rejected"


@pytest.mark.parametrize(("registered_delivery", "expected"), [
    (0, []), (1, ["delivered", "undelivered"]), (2, ["delivered"]), (3, ["undelivered"]),
])
async def test_registered_delivery_picks_which_receipts_come(
        emulator: Emulator, receiver: Receiver, registered_delivery: int,
        expected: list[str]) -> None:
    await use_receiver(emulator, receiver)
    await send(emulator, to=["15005551001", "15005551004"],
               registered_delivery=registered_delivery)
    await emulator.advance(10)
    assert [r["delivery_status"] for r in webhook_objects(receiver, "sms_dlr")] == expected
