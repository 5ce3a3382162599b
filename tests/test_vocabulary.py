"""The names each provider describes in ``Provider.vocabulary()`` are the names the emulator
really uses, so that scenario files checked against them are checked against the truth: every
webhook kind described is the ``kind`` of a real delivery and every real one is described, and
every channel and status a message takes is one its provider describes."""

from __future__ import annotations

from emulator.core.dispatcher import DELIVERY_STATES
from emulator.core.store import DIRECTIONS, ORIGINS
from emulator.providers import discover
from tests.conftest import Emulator, Receiver, in_thread
from tests.tsg_support import NUMBER, inject, send

USER = "15551234567"
#: an end user's message on every channel Telesign describes
TELESIGN_INBOUND = {
    "sms": {"from": USER, "to": "4442", "text": "hello"},
    "email": {"from": "user@example.com"},
    "mms": {"from": USER, "text": "a picture", "images": 1},
    "rcs": {"from": USER, "text": "hello"},
    "viber": {"from": USER, "text": "hello"},
    "whatsapp": {"from": USER, "to": "11234567891", "text": "hello"},
}


async def test_described_names_are_the_names_deliveries_and_messages_use(
        emulator: Emulator, receiver: Receiver) -> None:
    vocabularies = {cls.name: cls.vocabulary() for cls in discover()}
    assert set(vocabularies) == {"telesign", "tsg"}
    await emulator.patch_config({
        "telesign": {"callback_url": receiver.url("/telesign")},
        "tsg": {"numbers": {NUMBER: {"webhook_url": receiver.url("/tsg"), "x_api_key": None}}}})
    sent = await in_thread(emulator.sdk().message, USER, "Your order shipped", "ARN")
    assert sent.status_code == 200
    assert set(TELESIGN_INBOUND) == set(vocabularies["telesign"].channels)
    for channel, document in TELESIGN_INBOUND.items():
        status, body = await emulator.control("POST", "/inbound", json={
            "provider": "telesign", "channel": channel, **document})
        assert status == 201, body
    await send(emulator, registered_delivery=1)
    status, body = await inject(emulator, "hello")
    assert status == 201, body
    await emulator.advance(10)

    deliveries = await emulator.deliveries()
    for name, vocabulary in vocabularies.items():
        kinds = {d["kind"] for d in deliveries if d["provider"] == name}
        assert kinds == set(vocabulary.webhook_kinds), name
    assert {d["state"] for d in deliveries} <= set(DELIVERY_STATES)

    status, body = await emulator.control("GET", "/messages")
    assert status == 200
    messages = body["messages"]
    assert {m["provider"] for m in messages} == set(vocabularies)
    for message in messages:
        vocabulary = vocabularies[message["provider"]]
        assert message["channel"] in vocabulary.channels, message
        assert message["direction"] in DIRECTIONS and message["origin"] in ORIGINS, message
        for change in message["history"]:
            assert change["status"] in vocabulary.statuses, message


async def test_an_inbound_field_outside_the_vocabulary_is_refused(emulator: Emulator) -> None:
    documents = {"telesign": TELESIGN_INBOUND["sms"],
                 "tsg": {"from": USER, "to": NUMBER, "text": "hello"}}
    for cls in discover():
        assert "txt" not in cls.vocabulary().inbound_fields
        status, body = await emulator.control("POST", "/inbound", json={
            "provider": cls.name, **documents[cls.name], "txt": "hi"})
        assert status == 400, (cls.name, body)
        assert "txt" in body["error"] or body["field"] == "txt", body
