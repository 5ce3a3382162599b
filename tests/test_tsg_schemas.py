"""TSG's JSON Schemas agree with the provider document's own examples (seed 002, plus the fact
sheet's quotes), and what the emulator emits has exactly the examples' shape."""

from __future__ import annotations

import pytest

from emulator import schemas
from tests import seed_examples_tsg as seeds
from tests.conftest import Emulator, Receiver, assert_valid
from tests.seed_examples import shape
from tests.tsg_support import get_message, inject, send, use_receiver, webhook_objects

ERROR_EXAMPLE = {"errors": [{"id": "not_found",
                             "message": "Resource not found. Are you using the right HTTP verb?"}]}
SEND_REQUEST_EXAMPLE = {"from": "15550555055", "to": ["9999999", "12342341234"],
                        "body": "hello world", "deliver_at": "2017-08-04T08:00:00"}
NUMBER_WEBHOOK_EXAMPLE = {"webhook_url": "https://example.com/webhook", "did": "12003004000"}


@pytest.mark.parametrize(("schema", "example"), [
    ("tsg/message", seeds.GET_SINGLE_002),
    ("tsg/message", seeds.GET_MULTIPART_002),
    ("tsg/message", seeds.WEBHOOK_SMS_002),
    ("tsg/sms-webhook", seeds.WEBHOOK_SMS_002),
    ("tsg/sms-dlr", seeds.DLR_002),
    ("tsg/sms-dlr", seeds.DLR_FACT_SHEET),
    ("tsg/send-response", seeds.SEND_RESPONSE_FACT_SHEET),
    ("tsg/error", ERROR_EXAMPLE),
    ("tsg/send-request", SEND_REQUEST_EXAMPLE),
    ("tsg/number-webhook-request", NUMBER_WEBHOOK_EXAMPLE),
    ("tsg/webhook-answer", {"body": "Thank you for texting my webhook number!"}),
])
def test_documented_examples_validate(schema: str, example: dict) -> None:
    assert_valid(schema, example)


@pytest.mark.parametrize(("schema", "bad"), [
    ("tsg/message", {**seeds.GET_SINGLE_002, "to": "+12342341234"}),
    ("tsg/message", {**seeds.GET_SINGLE_002, "inserted_at": "2017-09-17T19:12:32Z"}),
    ("tsg/message", {**seeds.GET_SINGLE_002, "status": "queued"}),
    ("tsg/message", {k: v for k, v in seeds.GET_MULTIPART_002.items() if k != "udh"}),
    ("tsg/sms-webhook", {**seeds.WEBHOOK_SMS_002, "type": "outbound"}),
    ("tsg/sms-dlr", {**seeds.DLR_002, "delivery_status": "DELIVRD"}),
    ("tsg/sms-dlr", {**seeds.DLR_002, "delivery_error_code": 0}),
    ("tsg/sms-dlr", {**seeds.DLR_002, "done_at": "2017-06-01T18:00:05.000000"}),
    ("tsg/sms-dlr", {**seeds.DLR_002, "sms": {}}),
    ("tsg/send-response", {"+9999999": seeds.SEND_RESPONSE_FACT_SHEET["9999999"]}),
    ("tsg/send-response", {"9999999": {**seeds.SEND_RESPONSE_FACT_SHEET["9999999"],
                                       "type": "inbound"}}),
    ("tsg/error", {"errors": []}),
    ("tsg/error", {"errors": [{"id": "not_found"}]}),
    ("tsg/send-request", {**SEND_REQUEST_EXAMPLE, "encoding": 5}),
    ("tsg/inbound-request", {"provider": "tsg", "from": "1555", "to": "1555", "text": ""}),
])
def test_schemas_reject_what_tsg_would_not_send(schema: str, bad: dict) -> None:
    assert schemas.errors(schema, bad)


def test_every_tsg_schema_is_known_by_its_id() -> None:
    names = [n for n in schemas.all_names() if n.startswith("tsg/")]
    assert len(names) == 11
    for name in names:
        assert schemas.load(name)["$id"] == schemas.uri(name)


async def test_emitted_objects_have_the_documented_shapes(emulator: Emulator,
                                                          receiver: Receiver) -> None:
    """With the compact settings the GET and send objects are shaped exactly as the GET and
    send examples; by default the webhook and receipt objects are shaped as theirs."""
    await use_receiver(emulator, receiver)
    await inject(emulator, "Test 4")
    [sms] = webhook_objects(receiver, "sms")
    assert shape(sms) == shape(seeds.WEBHOOK_SMS_002)
    [message] = (await send(emulator, registered_delivery=1)).values()
    await emulator.advance(3)
    [receipt] = webhook_objects(receiver, "sms_dlr")
    assert receipt["sms"]["id"] == message["id"]
    assert shape(receipt) == shape(seeds.DLR_002)

    await emulator.patch_config({"tsg": {"udh_style": "compact"}})
    [single] = (await send(emulator, body="hello")).values()  # still new, as in the examples
    assert shape(single) == shape(seeds.GET_SINGLE_002)
    [multi] = (await send(emulator, body=seeds.MULTIPART_BODY_002)).values()
    assert shape(multi) == shape(seeds.GET_MULTIPART_002)
    fetched = await get_message(emulator, multi["id"])
    assert shape({**fetched, "processed_at": None}) == shape(seeds.GET_MULTIPART_002)
    await emulator.patch_config({"tsg": {"delivery_receipt_format": "number"}})
    answer = await send(emulator, to=["9999999"], body="hello world")
    assert shape(answer) == shape(seeds.SEND_RESPONSE_FACT_SHEET)
