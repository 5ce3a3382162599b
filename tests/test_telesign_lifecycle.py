"""Telesign status lifecycles: the default path, magic numbers for every status, and rules."""

from __future__ import annotations

import pytest

from emulator.providers.telesign.statuses import STATUSES
from tests.conftest import Emulator, Receiver, assert_valid, in_thread


async def send(emulator: Emulator, number: str, **params) -> str:
    response = await in_thread(emulator.sdk().message, number, "Hello", "ARN", **params)
    assert response.status_code == 200, response.body
    return response.json["reference_id"]


async def statuses_of(emulator: Emulator, reference_id: str) -> list[int]:
    return [h["status"] for h in (await emulator.message(reference_id))["history"]]


async def test_15005550207_ends_in_207_with_a_callback_saying_so(
        emulator: Emulator, receiver: Receiver) -> None:
    reference_id = await send(emulator, "15005550207", callback_url=receiver.url())
    await emulator.advance(60)
    assert await statuses_of(emulator, reference_id) == [290, 203, 207]
    [callback] = receiver.requests
    payload = callback.json()
    assert_valid("telesign/delivery-callback", payload)
    assert payload["reference_id"] == reference_id
    assert payload["status"]["code"] == 207
    assert payload["status"]["description"] == "Error delivering SMS to handset (reason unknown)"
    status = await in_thread(emulator.sdk().status, reference_id)
    assert status.json["status"]["code"] == 207


@pytest.mark.parametrize("code", sorted(STATUSES))
async def test_every_status_of_the_table_is_reachable_by_magic_number(
        emulator: Emulator, code: int) -> None:
    reference_id = await send(emulator, f"15005550{code:03d}")
    await emulator.advance(60)
    status = await in_thread(emulator.sdk().status, reference_id)
    assert status.json["status"]["code"] == code
    assert status.json["status"]["description"] == STATUSES[code].description
    path = await statuses_of(emulator, reference_id)
    assert path[0] == 290 and path[-1] == code
    if STATUSES[code].via_gateway and code not in (203, 290):
        assert path == [290, 203, code]


async def test_a_block_goes_straight_from_290_to_its_status(
        emulator: Emulator, receiver: Receiver) -> None:
    reference_id = await send(emulator, "15005550230", callback_url=receiver.url())
    await emulator.advance(60)
    assert await statuses_of(emulator, reference_id) == [290, 230]
    assert [r.json()["status"]["code"] for r in receiver.requests] == [230]


async def test_a_number_outside_the_table_follows_the_default(emulator: Emulator) -> None:
    reference_id = await send(emulator, "15005550999")
    await emulator.advance(60)
    assert await statuses_of(emulator, reference_id) == [290, 203, 200]


async def test_a_lifecycle_rule_set_through_patch_changes_a_numbers_path(
        emulator: Emulator, receiver: Receiver) -> None:
    await emulator.patch_config({"lifecycle": {"rules": [
        {"to": "15557654321", "provider": "telesign",
         "steps": [{"status": 292, "after": 1}, {"status": 203, "after": 30},
                   {"status": 514, "after": 600}]},
    ]}})
    reference_id = await send(emulator, "15557654321", callback_url=receiver.url())
    other = await send(emulator, "15557654322")
    await emulator.advance(30)
    assert await statuses_of(emulator, reference_id) == [290, 292]
    await emulator.advance(601)
    assert await statuses_of(emulator, reference_id) == [290, 292, 203, 514]
    assert await statuses_of(emulator, other) == [290, 203, 200]
    assert [r.json()["status"]["code"] for r in receiver.requests] == [514]


async def test_rules_override_magic_numbers_and_match_globs(emulator: Emulator) -> None:
    await emulator.patch_config({"lifecycle": {"rules": [
        {"to": "1500555*", "steps": [{"status": 200, "after": 0.5}]},
    ]}})
    reference_id = await send(emulator, "15005550207")
    await emulator.advance(1)
    assert await statuses_of(emulator, reference_id) == [290, 200]


async def test_a_rule_for_another_provider_does_not_apply(emulator: Emulator) -> None:
    await emulator.patch_config({"lifecycle": {"rules": [
        {"to": "*", "provider": "telesign", "steps": [{"status": 221, "after": 9}]},
    ]}})
    reference_id = await send(emulator, "447700900123")
    await emulator.advance(9)
    assert await statuses_of(emulator, reference_id) == [290, 221]


@pytest.mark.parametrize(("rules", "field"), [
    ([{"to": "1555", "steps": [{"status": 777, "after": 1}]}], "lifecycle.rules.0.steps.0.status"),
    ([{"to": "1555", "steps": [{"status": 200}]}], "lifecycle.rules.0.steps.0.after"),
    ([{"to": "1555", "steps": [{"status": 200, "after": -1}]}], "lifecycle.rules.0.steps.0.after"),
    ([{"steps": []}], "lifecycle.rules.0.to"),
    ([{"to": "1555", "provider": "nobody", "steps": []}], "lifecycle.rules.0.provider"),
])
async def test_a_bad_rule_is_refused_naming_the_field(emulator: Emulator, rules, field) -> None:
    status, body = await emulator.control("PATCH", "/config", json={"lifecycle": {"rules": rules}})
    assert status == 400, body
    assert body["field"] == field, body
    status, config = await emulator.control("GET", "/config")
    assert config["lifecycle"]["rules"] == []  # all or nothing
