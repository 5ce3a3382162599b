"""POST /v1/messaging parameter validation: documented codes and HTTP statuses, JSON always."""

from __future__ import annotations

import pytest

from tests.conftest import Emulator, assert_valid, in_thread


async def send(emulator: Emulator, phone: str, message: str, message_type: str, **params):
    response = await in_thread(emulator.sdk().message, phone, message, message_type, **params)
    return response.status_code, response.json


def expect_error(status: int, body: dict, http: int, code: int, description: str) -> None:
    assert status == http, body
    assert_valid("telesign/error", body)
    assert body["status"]["code"] == code
    assert body["status"]["description"] == description


@pytest.mark.parametrize(("phone", "message", "message_type", "params", "code", "description"), [
    (None, "Hi", "OTP", {}, 12000, "Missing Required Parameter phone_number"),
    ("", "Hi", "OTP", {}, 12000, "Missing Required Parameter phone_number"),
    ("15551234567", None, "OTP", {}, 12009, "Missing Required Parameter message"),
    ("15551234567", "Hi", None, {}, 12017, "Missing Required Parameter message_type"),
    ("+15551234567", "Hi", "OTP", {}, 11000, "Invalid value for parameter phone_number."),
    ("1555-123-4567", "Hi", "OTP", {}, 11000, "Invalid value for parameter phone_number."),
    ("1555", "Hi", "OTP", {}, 11000, "Invalid value for parameter phone_number."),
    ("1", "Hi", "OTP", {}, 11000, "Invalid value for parameter phone_number."),
    ("99912345678", "Hi", "OTP", {}, 11001, "Invalid country code for parameter phone_number."),
    ("15551234567", "x" * 1601, "OTP", {}, 11009, "Invalid value for parameter message."),
    ("15551234567", "Hi", "SPAM", {}, 11017, "Invalid value for parameter message_type."),
    ("15551234567", "Hi", "otp", {}, 11017, "Invalid value for parameter message_type."),
    ("15551234567", "Hi", "OTP", {"callback_url": "not a url"}, 11004,
     "Invalid value for parameter callback_url."),
    ("15551234567", "Hi", "OTP", {"account_lifecycle_event": "born"}, 11003,
     "Invalid value for parameter account_lifecycle_event."),
    ("15551234567", "Hi", "OTP", {"originating_ip": "300.1.2.3"}, 11010,
     "Invalid value for parameter originating_ip."),
    ("15551234567", "Hi", "OTP", {"sender_id": "A" * 21}, 11013,
     "Invalid value for parameter sender_id."),
    ("15551234567", "Hi", "OTP", {"external_id": "e" * 101}, 11016,
     "Invalid value for parameter external_id."),
])
async def test_invalid_requests_get_the_documented_400(
        emulator: Emulator, phone, message, message_type, params, code, description) -> None:
    status, body = await send(emulator, phone, message, message_type, **params)
    expect_error(status, body, 400, code, description)
    assert "external_id" in body  # a real 400 echoes external_id (null when not given)


async def test_1600_characters_is_the_limit(emulator: Emulator) -> None:
    status, body = await send(emulator, "15551234567", "é" * 1600, "ARN")
    assert status == 200, body
    status, body = await send(emulator, "15551234567", "é" * 1601, "ARN")
    expect_error(status, body, 400, 11009, "Invalid value for parameter message.")


async def test_error_echoes_external_id(emulator: Emulator) -> None:
    status, body = await send(emulator, "+15551234567", "Hi", "OTP", external_id="abc")
    assert status == 400
    assert body["external_id"] == "abc"


async def test_unknown_parameters_are_tolerated(emulator: Emulator) -> None:
    status, body = await send(emulator, "15551234567", "Hi", "OTP", something_new="1",
                              template_id="x")
    assert status == 200, body


async def test_non_utf8_parameter_gets_that_parameters_code(emulator: Emulator) -> None:
    from tests.test_telesign_auth import post, signed_headers

    raw = "phone_number=15551234567&message=%FF%FE&message_type=ARN"
    status, body = await post(emulator, signed_headers(body=raw), body=raw)
    expect_error(status, body, 400, 11009, "Invalid value for parameter message.")


async def test_unknown_reference_id_is_404_and_a_malformed_one_400(emulator: Emulator) -> None:
    client = emulator.sdk()
    response = await in_thread(client.status, "0123456789ABCDEF0123456789ABCDEF")
    expect_error(response.status_code, response.json, 404, 10017,
                 "Customer ID / Reference ID not found")
    response = await in_thread(client.status, "not-a-reference")
    expect_error(response.status_code, response.json, 400, 11011,
                 "Invalid value for parameter reference_id.")


async def test_lower_case_reference_id_finds_the_message(emulator: Emulator) -> None:
    client = emulator.sdk()
    sent = await in_thread(client.message, "15551234567", "Hi", "OTP")
    response = await in_thread(client.status, sent.json["reference_id"].lower())
    assert response.status_code == 200
    assert response.json["reference_id"] == sent.json["reference_id"]


async def test_unknown_path_and_wrong_method_answer_in_telesign_format(
        emulator: Emulator) -> None:
    async with emulator.http.get(f"{emulator.url}/v1/nothing-here") as response:
        body = await response.json()
        expect_error(response.status, body, 404, -40004, "Resource not found")
    async with emulator.http.delete(f"{emulator.url}/v1/messaging") as response:
        body = await response.json()
        expect_error(response.status, body, 405, -40005, "Method not allowed")
        assert response.headers["Allow"] == "GET,POST"


async def test_status_shows_only_the_accounts_own_sends(emulator: Emulator) -> None:
    """An inbound message and Telesign's own compliance reply have ids too, but they are not
    transactions of this account's ``POST /v1/messaging``."""
    status, body = await emulator.control("POST", "/inbound", json={
        "provider": "telesign", "from": "14155550123", "to": "4442", "text": "HELP"})
    assert status == 201
    client = emulator.sdk()
    for message in body["messages"]:  # the inbound HELP and the auto-reply
        response = await in_thread(client.status, message["id"])
        expect_error(response.status_code, response.json, 404, 10017,
                     "Customer ID / Reference ID not found")
