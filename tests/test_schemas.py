"""The JSON Schemas are well-formed and agree with the provider documents' own examples."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from emulator import schemas
from emulator.app import build_config
from emulator.config import ConfigError
from emulator.providers.telesign.validation import parse_form
from tests import seed_examples as seeds
from tests.conftest import assert_valid


@pytest.mark.parametrize("name", schemas.all_names())
def test_every_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = schemas.load(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_the_default_configuration_is_valid() -> None:
    """Start-up no longer validates the defaults (they are the code's own): this does, each
    section against its schema and the extra checks, as a PATCH would."""
    config = build_config()
    document = config.document
    assert set(document) >= {"webhooks", "lifecycle", "telesign", "tsg", "smpp"}
    config.validate(document)  # raises ConfigError on any problem, as the next line shows
    document["webhooks"]["timeout_seconds"] = 0
    with pytest.raises(ConfigError, match=r"webhooks\.timeout_seconds"):
        config.validate(document)


# Examples copied from the Telesign Standard Messaging API document (seed 003).
SEED_POST_RESPONSE = {
    "reference_id": "0123456789ABCDEF0123456789ABCDEF",
    "status": {"code": 290, "updated_on": "2015-10-03T14:51:28.709526Z",
               "description": "Message in progress"},
}
# The document's second copy of the POST answer, with its typo'd month (31) kept.
SEED_POST_RESPONSE_TYPO = {
    "reference_id": "0123456789ABCDEF0123456789ABCDEF",
    "status": {"code": 290, "updated_on": "2017-31-03T14:51:28.709526Z",
               "description": "Message in progress"},
}
SEED_GET_RESPONSE = {
    "reference_id": "ABCDEF0123456789ABCDEF0123456789",
    "submit_timestamp": "Tue, 31 Jan 2017 13:36:07 GMT",
    "status": {"code": 290, "updated_on": "Tue, 31 Jan 2017 13:36:11 GMT",
               "description": "Message in progress"},
}
SEED_REQUEST_BODY = (b"phone_number=15555551234&message=Your message here.&"
                     b"account_lifecycle_event=create&originating_ip=203.0.113.45")
# Telesign's SMS callback documentation example (research fact sheet, section 3.2).
DOC_CALLBACK = {
    "status": {"updated_on": "Thu, 23 Jun 2022 19:03:44 GMT", "code": 200,
               "description": "Delivered to handset"},
    "errors": [], "sub_resource": "sms",
    "additional_info": {"mcc": "310", "mnc": "004", "price": "0.01", "currency": "USD",
                        "message_parts_count": "2",
                        "message_parts_reference_ids": "35E63E88CB000E049196AD1CFCFFB89C,"
                                                       "35E63E88CC7C050491613443467F3F12"},
    "reference_id": "0123456789ABCDEF0123456789ABCDEF",
}
# Real error bodies recorded in third-party code (fact sheet section 2.2).
REAL_400 = {"external_id": None, "status": {"code": 11000,
                                            "description": "Invalid value for parameter "
                                                           "phone_number."}}
REAL_401 = {"status": {"code": 10008, "description": "Invalid Signature.",
                       "updated_on": "2019-11-01T00:26:16Z"}}


@pytest.mark.parametrize(("schema", "example"), [
    ("telesign/send-response", SEED_POST_RESPONSE),
    ("telesign/send-response", SEED_POST_RESPONSE_TYPO),
    ("telesign/status-response", SEED_GET_RESPONSE),
    ("telesign/delivery-callback", DOC_CALLBACK),
    ("telesign/error", REAL_400),
    ("telesign/error", REAL_401),
    ("telesign/mo-sms", seeds.MO_SMS_000),
    ("telesign/mo-sms", seeds.MO_SMS_001),
    ("telesign/mo-email", seeds.MO_EMAIL_001),
    ("telesign/mo-mms", seeds.MO_MMS_001),
    ("telesign/mo-rcs", seeds.MO_RCS_IMAGE_001),
    ("telesign/mo-rcs", seeds.MO_RCS_STOP_001),
    ("telesign/mo-viber", seeds.MO_VIBER_001),
    ("telesign/mo-whatsapp", seeds.MO_WHATSAPP_001),
    ("telesign/mo-whatsapp", seeds.MO_WHATSAPP_STOP_001),
])
def test_documented_examples_validate(schema: str, example: dict) -> None:
    assert_valid(schema, example)


def test_the_seed_request_example_validates_but_for_its_missing_message_type() -> None:
    """The document marks message_type [Required] but its example omits it; the emulator
    follows the parameter list (12017), so the example is valid once message_type is added."""
    params = parse_form(SEED_REQUEST_BODY)
    assert schemas.errors("telesign/messaging-request", params) == [
        "message_type: is required"]
    assert_valid("telesign/messaging-request", {**params, "message_type": "ARN"})


@pytest.mark.parametrize(("schema", "bad"), [
    ("telesign/send-response", {**SEED_POST_RESPONSE, "reference_id": "abc"}),
    ("telesign/send-response", {"status": SEED_POST_RESPONSE["status"]}),
    ("telesign/status-response", {**SEED_GET_RESPONSE, "submit_timestamp": "yesterday"}),
    ("telesign/delivery-callback", {**DOC_CALLBACK, "sub_resource": "mo_sms"}),
    ("telesign/error", {"status": {"code": "10008", "description": "x"}}),
    ("telesign/messaging-request", {"phone_number": "+1555", "message": "x",
                                    "message_type": "ARN"}),
    ("telesign/mo-sms", {**seeds.MO_SMS_000, "user_response": {
        **seeds.MO_SMS_000["user_response"], "action": "generic"}}),  # generic has no keyword
    ("telesign/mo-sms", {**seeds.MO_SMS_000, "status": {**seeds.MO_SMS_000["status"],
                                                        "code": 200}}),
    ("telesign/mo-whatsapp", {**seeds.MO_WHATSAPP_001, "content": {"type": "text"}}),
])
def test_schemas_reject_what_the_provider_would_not_send(schema: str, bad: dict) -> None:
    assert schemas.errors(schema, bad)
