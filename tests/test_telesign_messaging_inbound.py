"""Telesign Messaging inbound for every other channel (seed 001): email, MMS, RCS, Viber and
WhatsApp payloads, each checked against its schema and the shape of the document's example, and
keyword handling for RCS and WhatsApp."""

from __future__ import annotations

from typing import Any

import pytest
from telesign.util import verify_telesign_callback_signature

from tests import seed_examples as seeds
from tests.conftest import API_KEY, SEED, START, Emulator, Receiver, assert_valid

USER = "11234567890"
SCHEMAS = {"email": "telesign/mo-email", "mms": "telesign/mo-mms", "rcs": "telesign/mo-rcs",
           "viber": "telesign/mo-viber", "whatsapp": "telesign/mo-whatsapp"}


def shape(value: Any) -> Any:
    """The structure of a JSON value: the keys of every object, the type of every leaf."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


async def receive(emulator: Emulator, receiver: Receiver, channel: str,
                  **document: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Inject a message on ``channel``; the callback its channel URL got, and the stored
    message."""
    await emulator.patch_config({"telesign": {"mo_callback_urls": {
        channel: receiver.url(f"/mo/{channel}")}}})
    status, body = await emulator.control("POST", "/inbound", json={
        "provider": "telesign", "channel": channel, **document})
    assert status == 201, body
    [message] = body["messages"]
    assert message["channel"] == channel
    assert message["direction"] == "inbound"
    got = receiver.requests[-1]
    assert got.path == f"/mo/{channel}"
    assert verify_telesign_callback_signature(API_KEY, got.headers["X-TS-Authorization"],
                                              got.body.decode("utf-8"))
    payload = got.json()
    assert_valid(SCHEMAS[channel], payload)
    assert payload["reference_id"] == message["id"]
    assert payload["status"]["code"] == 1500
    return payload, message


async def test_email_unsubscribe(emulator: Emulator, receiver: Receiver) -> None:
    payload, _ = await receive(emulator, receiver, "email", **{"from": "user@example.com"})
    assert shape(payload) == shape(seeds.MO_EMAIL_001)
    assert payload["email"] == "user@example.com"
    assert payload["content"] == {"end_user_action": {"template": "text",
                                                      "event": "unsubscribe"}}
    assert payload["sub_resource"] == "mo_email"


async def test_email_complaint(emulator: Emulator, receiver: Receiver) -> None:
    payload, _ = await receive(emulator, receiver, "email",
                               **{"from": "user@example.com", "event": "complaint",
                                  "template": "welcome"})
    assert payload["content"]["end_user_action"] == {"template": "welcome", "event": "complaint"}


async def test_mms_with_text_and_a_faked_image(emulator: Emulator, receiver: Receiver) -> None:
    payload, _ = await receive(emulator, receiver, "mms",
                               **{"from": USER, "text": "Thank you", "images": 1})
    assert shape(payload) == shape(seeds.MO_MMS_001)
    assert payload["content"]["text_1"] == "Thank you"
    assert payload["content"]["url_image_1"].startswith("https://")
    assert payload["content"]["subject"] == ""
    assert payload["phone_number"] == USER


async def test_mms_with_several_parts_and_media(emulator: Emulator, receiver: Receiver) -> None:
    payload, _ = await receive(emulator, receiver, "mms", **{
        "from": USER, "text": "one", "texts": ["two"], "subject": "Holiday",
        "images": ["https://example.com/a.jpg"], "videos": 1, "audios": 2})
    content = payload["content"]
    assert (content["text_1"], content["text_2"], content["subject"]) == ("one", "two",
                                                                         "Holiday")
    assert content["url_image_1"] == "https://example.com/a.jpg"
    assert {"url_video_1", "url_audio_1", "url_audio_2"} <= set(content)
    assert content["url_audio_1"] != content["url_audio_2"]


async def test_rcs_image_file(emulator: Emulator, receiver: Receiver) -> None:
    payload, _ = await receive(emulator, receiver, "rcs",
                               **{"from": USER, "to": "rcs_sender_example", "file": True})
    assert shape(payload) == shape(seeds.MO_RCS_IMAGE_001)
    file = payload["content"]["file"]["payload"]
    assert file["mime_type"] == "image/jpeg"
    assert file["name"].endswith(".jpg")
    assert file["uri"].startswith("https://")
    assert file["size_bytes"] > 0
    assert payload["rcs_sender_id"] == "rcs_sender_example"


async def test_rcs_text_and_location(emulator: Emulator, receiver: Receiver) -> None:
    payload, _ = await receive(emulator, receiver, "rcs", **{"from": USER, "text": "Hi there"})
    assert payload["content"] == {"text": "Hi there"}
    payload, _ = await receive(emulator, receiver, "rcs", **{
        "from": USER, "location": {"latitude": 44.8, "longitude": 20.46}})
    assert payload["content"] == {"location": {"latitude": 44.8, "longitude": 20.46}}


async def test_viber_text_with_emoticon(emulator: Emulator, receiver: Receiver) -> None:
    payload, _ = await receive(emulator, receiver, "viber",
                               **{"from": USER, "text": "Thank you! 😎"})
    assert shape(payload) == shape(seeds.MO_VIBER_001)
    assert payload["content"] == {"text": "Thank you! 😎"}


async def test_viber_media(emulator: Emulator, receiver: Receiver) -> None:
    payload, _ = await receive(emulator, receiver, "viber", **{"from": USER, "media": True,
                                                                "tracking_data": "t-1"})
    content = payload["content"]
    assert content["media"].startswith("https://")
    assert content["file_name"].endswith(".jpg")
    assert content["tracking_data"] == "t-1"


async def test_whatsapp_text(emulator: Emulator, receiver: Receiver) -> None:
    payload, _ = await receive(emulator, receiver, "whatsapp",
                               **{"from": USER, "to": "11234567891", "text": "Thank you"})
    assert shape(payload) == shape(seeds.MO_WHATSAPP_001)
    assert payload["content"] == {"content": {"body": "Thank you"}, "type": "text"}
    assert payload["waba_phone_number"] == "11234567891"


@pytest.mark.parametrize("kind", ["image", "audio", "video", "document", "sticker"])
async def test_whatsapp_media_types(emulator: Emulator, receiver: Receiver, kind: str) -> None:
    payload, _ = await receive(emulator, receiver, "whatsapp",
                               **{"from": USER, "to": "11234567891", "type": kind})
    assert payload["content"]["type"] == kind
    inner = payload["content"]["content"]
    assert inner["url"].startswith("https://")
    assert len(inner["sha256"]) == 64
    assert "/" in inner["mime_type"]


async def test_whatsapp_location(emulator: Emulator, receiver: Receiver) -> None:
    payload, _ = await receive(emulator, receiver, "whatsapp",
                               **{"from": USER, "to": "11234567891", "location": True})
    assert payload["content"]["type"] == "location"
    inner = payload["content"]["content"]
    assert -90 <= inner["latitude"] <= 90
    assert -180 <= inner["longitude"] <= 180
    assert inner["name"]
    assert inner["address"]


@pytest.mark.parametrize(("channel", "example", "to"), [
    ("rcs", seeds.MO_RCS_STOP_001, ""),
    ("whatsapp", seeds.MO_WHATSAPP_STOP_001, "11234567891"),
])
async def test_end_is_the_stop_action_on_rcs_and_whatsapp(
        emulator: Emulator, receiver: Receiver, channel: str, example: dict[str, Any],
        to: str) -> None:
    payload, message = await receive(emulator, receiver, channel,
                                     **{"from": "14155550123", "to": to, "text": "end"})
    assert shape(payload) == shape(example)
    assert payload["content"]["end_user_action"] == {
        "action": "stop", "iso_country_code": "US", "keyword": "end", "text": "end"}
    assert message["details"]["action"] == "stop"


@pytest.mark.parametrize("channel", ["rcs", "whatsapp"])
async def test_help_and_start_and_generic_on_rcs_and_whatsapp(
        emulator: Emulator, receiver: Receiver, channel: str) -> None:
    for text, action in (("Aide", "help"), ("START", "start")):
        payload, _ = await receive(emulator, receiver, channel,
                                   **{"from": USER, "to": "11234567891", "text": text})
        assert payload["content"]["end_user_action"]["action"] == action
        assert payload["content"]["end_user_action"]["keyword"] == text.lower()
    payload, _ = await receive(emulator, receiver, channel,
                               **{"from": USER, "to": "11234567891", "text": "see you"})
    assert "end_user_action" not in payload["content"]


async def test_a_tapped_suggestion_is_a_generic_end_user_action(
        emulator: Emulator, receiver: Receiver) -> None:
    payload, _ = await receive(emulator, receiver, "rcs", **{
        "from": USER, "text": "Yes", "postback_data": "confirm-42",
        "original_reference_id": "0123456789ABCDEF0123456789ABCDEF"})
    action = payload["content"]["end_user_action"]
    assert action["action"] == "generic"
    assert "keyword" not in action
    assert action["postback_data"] == "confirm-42"
    assert action["original_reference_id"] == "0123456789ABCDEF0123456789ABCDEF"


async def test_fake_values_repeat_with_the_seed(emulator: Emulator, receiver: Receiver) -> None:
    document = {"from": USER, "to": "11234567891", "type": "document"}
    first, _ = await receive(emulator, receiver, "whatsapp", **document)
    await emulator.control("POST", "/reset")
    second, _ = await receive(emulator, receiver, "whatsapp", **document)
    assert first == second  # same seed, same sequence after a reset: same ids and fake file
    assert emulator.ctx.rng.seed == SEED
    assert receiver.requests[0].at_emulated == START
