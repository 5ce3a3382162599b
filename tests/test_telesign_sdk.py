"""The official Telesign SDK works against the emulator unchanged but for rest_endpoint."""

from __future__ import annotations

import re

from tests.conftest import Emulator, assert_valid, in_thread


async def test_sdk_message_with_hmac_answers_200_290(emulator: Emulator) -> None:
    client = emulator.sdk()
    response = await in_thread(client.message, "15551234567", "Your code is 123456", "OTP")
    assert response.status_code == 200, response.body
    body = response.json
    assert_valid("telesign/send-response", body)
    assert re.fullmatch(r"[0-9A-F]{32}", body["reference_id"])
    assert body["status"]["code"] == 290
    assert body["status"]["description"] == "Message in progress"
    assert body["status"]["updated_on"] == "2026-01-01T00:00:00.000000Z"
    stored = await emulator.message(body["reference_id"])
    assert stored["details"]["auth_method"] == "HMAC-SHA256"
    assert stored["text"] == "Your code is 123456"


async def test_sdk_message_with_basic_auth_answers_200_290(emulator: Emulator) -> None:
    client = emulator.sdk(auth_method="Basic")
    response = await in_thread(client.message, "447700900123", "Hello", "ARN")
    assert response.status_code == 200, response.body
    assert response.json["status"]["code"] == 290
    stored = await emulator.message(response.json["reference_id"])
    assert stored["details"]["auth_method"] == "Basic"


async def test_sdk_status_follows_290_203_200_as_the_clock_advances(emulator: Emulator) -> None:
    client = emulator.sdk()
    sent = await in_thread(client.message, "15551234567", "héllo wörld & más=1 +x 😀", "ARN")
    reference_id = sent.json["reference_id"]

    seen = []
    for step in (0, 1, 1, 2, 1, 60):
        await emulator.advance(step)
        status = await in_thread(client.status, reference_id)
        assert status.status_code == 200, status.body
        assert_valid("telesign/status-response", status.json)
        assert status.json["reference_id"] == reference_id
        assert status.json["submit_timestamp"] == "2026-01-01T00:00:00.000000Z"
        seen.append(status.json["status"]["code"])
    assert seen == [290, 290, 203, 203, 200, 200]

    history = (await emulator.message(reference_id))["history"]
    assert [(h["status"], h["at"]) for h in history] == [
        (290, "2026-01-01T00:00:00.000000Z"),
        (203, "2026-01-01T00:00:02.000000Z"),
        (200, "2026-01-01T00:00:05.000000Z"),
    ]


async def test_sdk_passes_extra_parameters_through(emulator: Emulator) -> None:
    client = emulator.sdk()
    response = await in_thread(
        client.message, "15551234567", "Hi", "MKT", external_id="order-42",
        account_lifecycle_event="sign-in", originating_ip="203.0.113.45", sender_id="ACME",
        is_primary="true", dlt_template_id="T1")
    assert response.status_code == 200, response.body
    assert response.json["external_id"] == "order-42"
    stored = await emulator.message(response.json["reference_id"])
    assert stored["from"] == "ACME"
    assert stored["details"]["extra_params"] == {"is_primary": "true", "dlt_template_id": "T1"}
    status = await in_thread(client.status, response.json["reference_id"])
    assert status.json["external_id"] == "order-42"


async def test_same_seed_gives_the_same_reference_ids(emulator: Emulator) -> None:
    client = emulator.sdk()
    first = [(await in_thread(client.message, "15551234567", "a", "OTP")).json["reference_id"]
             for _ in range(3)]
    status, _ = await emulator.control("POST", "/reset")
    assert status == 200
    again = [(await in_thread(client.message, "15551234567", "a", "OTP")).json["reference_id"]
             for _ in range(3)]
    assert first == again
    assert len(set(first)) == 3
