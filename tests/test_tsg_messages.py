"""TSG's send and get: POST /messages answers an object keyed by recipient, long bodies become UDH
parts fetchable by their own ids, and every field has TSG's format."""

from __future__ import annotations

import re

from tests.conftest import Emulator
from tests.seed_examples_tsg import GET_SINGLE_002, MULTIPART_BODY_002, WEBHOOK_SMS_002
from tests.tsg_support import NUMBER, call, get_message, send

NAIVE_MICRO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")


async def test_two_recipients_get_two_keyed_message_objects(emulator: Emulator) -> None:
    answer = await send(emulator, to=["+15551234567", "447700900123", "15551234567"],
                        body="hello world")
    assert list(answer) == ["15551234567", "447700900123"]  # no +, de-duplicated, in order
    first, second = answer.values()
    assert first["id"] != second["id"]
    for recipient, message in answer.items():
        assert message["to"] == recipient
        assert message["from"] == NUMBER
        assert (message["type"], message["object"], message["status"]) == ("outbound", "sms",
                                                                            "new")
        assert (message["body"], message["encoding"]) == ("hello world", 3)
        assert message["delivery_receipt"] == "no"
        assert message["location"] is None
        assert message["inserted_at"] == "2026-01-01T00:00:00.000000"
        assert NAIVE_MICRO.match(message["updated_at"])
        assert [message[k] for k in ("scheduled_at", "processed_at", "delivered_at",
                                     "expires_at")] == [None] * 4
        assert message["udh"] == {"ref_num": None, "count": None, "seq_num": None}
        assert "parts" not in message
        # the same fields, nesting and types as the document's single-message example
        assert set(message) - {"udh"} == set(GET_SINGLE_002)
        assert set(message) == set(WEBHOOK_SMS_002)
        fetched = await get_message(emulator, message["id"])
        assert fetched["id"] == message["id"] and fetched["to"] == recipient


async def test_a_362_character_latin1_body_is_three_parts_each_fetchable(
        emulator: Emulator) -> None:
    [message] = (await send(emulator, body=MULTIPART_BODY_002)).values()
    assert message["encoding"] == 3
    assert message["body"] == MULTIPART_BODY_002
    assert message["udh"]["count"] == 3
    assert 0 <= message["udh"]["ref_num"] <= 65535 and message["udh"]["seq_num"] is None
    part_ids = [part["id"] for part in message["parts"]]
    assert len(set(part_ids)) == 3 and message["id"] not in part_ids

    whole = await get_message(emulator, message["id"])
    assert whole["parts"] == message["parts"] and whole["body"] == MULTIPART_BODY_002
    bodies = []
    for seq, part_id in enumerate(part_ids, start=1):
        part = await get_message(emulator, part_id)
        assert part["id"] == part_id
        assert part["udh"] == {**message["udh"], "seq_num": seq}
        assert "parts" not in part
        assert (part["to"], part["from"], part["encoding"]) == (message["to"], NUMBER, 3)
        bodies.append(part["body"])
    assert [len(b) for b in bodies] == [134, 134, 94]
    assert "".join(bodies) == MULTIPART_BODY_002


async def test_an_emoji_body_is_ucs2(emulator: Emulator) -> None:
    [message] = (await send(emulator, body="On my way 🚗")).values()
    assert message["encoding"] == 8
    [long_one] = (await send(emulator, body="🚗" * 36)).values()  # 72 units > 70: 68 + 4
    assert long_one["encoding"] == 8 and long_one["udh"]["count"] == 2
    part = await get_message(emulator, long_one["parts"][0]["id"])
    assert part["body"] == "🚗" * 34  # a surrogate pair is never split


async def test_encoding_is_a_preference_and_force_encoding_is_obeyed(emulator: Emulator) -> None:
    answers = [
        (await send(emulator, body="5 € [ok]", encoding=0)),  # fits GSM-7
        (await send(emulator, body="Olá", encoding=0)),       # á is not GSM-7: inferred 3
        (await send(emulator, body="hello", encoding=8)),
        (await send(emulator, body="hello", force_encoding=0, encoding=8)),
    ]
    assert [next(iter(a.values()))["encoding"] for a in answers] == [0, 3, 8, 0]
    # 160 GSM septets fit one SMS; one extension character more makes two parts
    [single] = (await send(emulator, body="a" * 158 + "€", encoding=0)).values()
    assert single["udh"]["count"] is None
    [double] = (await send(emulator, body="a" * 159 + "€", encoding=0)).values()
    assert double["udh"]["count"] == 2


async def test_compact_udh_and_numeric_delivery_receipt_settings(emulator: Emulator) -> None:
    await emulator.patch_config({"tsg": {"udh_style": "compact",
                                         "delivery_receipt_format": "number"}})
    [single] = (await send(emulator, body="hi", registered_delivery=1)).values()
    assert "udh" not in single and single["delivery_receipt"] == 1
    [multi] = (await send(emulator, body=MULTIPART_BODY_002)).values()
    assert set(multi["udh"]) == {"ref_num", "count"} and multi["delivery_receipt"] == 0
    part = await get_message(emulator, multi["parts"][2]["id"])
    assert part["udh"]["seq_num"] == 3


async def test_delivery_receipt_names_what_registered_delivery_asked(emulator: Emulator) -> None:
    names = []
    for value in (0, 1, 2, 3):
        [message] = (await send(emulator, registered_delivery=value)).values()
        names.append(message["delivery_receipt"])
    assert names == ["no", "always", "on_success", "on_error"]


async def test_sender_id_and_3gpp_segments(emulator: Emulator) -> None:
    await emulator.patch_config({"tsg": {"segments": "3gpp"}})
    [message] = (await send(emulator, body="😀" * 35 + "a", **{"from": "ACME Ltd"})).values()
    assert message["from"] == "ACME Ltd"
    assert message["udh"]["count"] == 2 and message["udh"]["ref_num"] <= 255  # 8-bit reference
    first = await get_message(emulator, message["parts"][0]["id"])
    assert first["body"] == "😀" * 33  # 67 units per part: the 34th emoji would need 68


async def test_ids_come_from_the_seed(emulator: Emulator) -> None:
    first = await send(emulator, body=MULTIPART_BODY_002)
    await emulator.control("POST", "/reset")
    again = await send(emulator, body=MULTIPART_BODY_002)
    assert first == again


async def test_an_unknown_id_is_a_404_in_tsg_format(emulator: Emulator) -> None:
    answer = await call(emulator, "GET", "/messages/03b4641f-17a6-4565-bdba-1ce905be3312")
    assert answer.status == 404
    assert answer.body["errors"][0]["id"] == "not_found"
    telesign_id = (await emulator.control("GET", "/messages"))[1]["messages"]
    assert telesign_id == []
