"""The pytest plugin, used the way a team would: only the ``sms_emulator`` fixture (plus their
own system under test), synchronously and from asyncio tests, and installed through its entry
point in a project that has no conftest at all."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from telesign.messaging import MessagingClient

from emulator.examples.shop import Shop
from emulator.pytest_plugin import ControlFailure, SmsEmulator


def test_a_synchronous_test_sends_and_follows_the_lifecycle(sms_emulator: SmsEmulator) -> None:
    client = MessagingClient(sms_emulator.telesign_customer_id, sms_emulator.telesign_api_key,
                             rest_endpoint=sms_emulator.telesign_url)
    response = client.message("15551234567", "Your code is 123456", "OTP")
    assert response.status_code == 200
    reference_id = response.json["reference_id"]
    assert sms_emulator.message(reference_id)["status"] == 290
    sms_emulator.advance(5)
    assert client.status(reference_id).json["status"]["code"] == 200
    found = sms_emulator.wait_for_message(to="15551234567", text="^Your code", status=200)
    assert found["id"] == reference_id
    assert sms_emulator.messages(to="15550000000") == []


def test_each_test_starts_from_a_reset_with_the_same_ids(sms_emulator: SmsEmulator) -> None:
    """Same seed and start in every test: the first reference id is always the same."""
    client = MessagingClient(sms_emulator.telesign_customer_id, sms_emulator.telesign_api_key,
                             rest_endpoint=sms_emulator.telesign_url)
    assert sms_emulator.messages() == []
    first = client.message("15551234567", "a", "OTP").json["reference_id"]
    sms_emulator.reset()  # the id sequence restarts from the seed
    assert client.message("15551234567", "a", "OTP").json["reference_id"] == first
    assert sms_emulator.now() == datetime(2026, 1, 1, tzinfo=UTC)


async def test_an_end_to_end_flow_through_the_plugin_alone(sms_emulator: SmsEmulator,
                                                           aiohttp_server) -> None:
    """A shop (the example shop, on this test's loop) sends a notice, gets its delivery
    report, then the user answers STOP and the shop stops sending."""
    shop = Shop(sms_emulator.url, sms_emulator.telesign_customer_id,
                        sms_emulator.telesign_api_key)
    server = await aiohttp_server(shop.app())
    shop_url = str(server.make_url("")).rstrip("/")
    emulator = sms_emulator.aio
    await emulator.patch_config({"telesign": {"callback_url": f"{shop_url}/telesign/callback"}})

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{shop_url}/notify", json={"to": "14155550123",
                                                         "text": "Your order shipped"}) as r:
            assert r.status == 200
            reference_id = (await r.json())["reference_id"]
        await emulator.advance(5)
        assert await emulator.now() == datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC)
        assert await emulator.now_iso() == "2026-01-01T00:00:05.000000Z"
        assert (await emulator.message(reference_id))["status"] == 200
        assert (await emulator.config())["telesign"]["callback_url"].startswith(shop_url)
        [report] = await emulator.deliveries(message_id=reference_id)
        assert report["state"] == "delivered"
        assert shop.reports == {reference_id: 200}

        messages = await emulator.send_inbound("STOP", from_="14155550123", to="4442")
        assert [m["origin"] for m in messages] == ["end_user", "provider"]
        assert shop.opted_out == {"14155550123"}
        reply = await emulator.wait_for_message(to="14155550123", origin="provider",
                                                text="unsubscribed")
        assert reply["from"] == "4442"

        async with http.post(f"{shop_url}/notify", json={"to": "14155550123",
                                                         "text": "Flash sale"}) as r:
            assert r.status == 409
        await emulator.advance(60)
        sent = await emulator.messages(to="14155550123", direction="outbound")
        assert [m["text"] for m in sent if m["origin"] == "api"] == ["Your order shipped"]


def test_time_helpers_speak_datetime_and_the_control_apis_text(
        sms_emulator: SmsEmulator) -> None:
    start = sms_emulator.now()
    assert start.tzinfo is not None and start.utcoffset() == timedelta(0)
    assert sms_emulator.now_iso() == sms_emulator.control("GET", "/clock")["now"]
    sms_emulator.advance(timedelta(minutes=2))
    sms_emulator.advance(0.5)
    assert sms_emulator.now() - start == timedelta(minutes=2, seconds=0.5)
    assert sms_emulator.now_iso() == "2026-01-01T00:02:00.500000Z"
    later = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert sms_emulator.reset(now=later)["now"] == "2026-03-01T12:00:00.000000Z"
    assert sms_emulator.now() == later
    sms_emulator.reset(now="2026-01-01T00:00:00Z")
    assert sms_emulator.now() == start
    with pytest.raises(ValueError, match="timezone-aware"):
        sms_emulator.reset(now=datetime(2026, 1, 1))


@pytest.mark.parametrize("path", ["/health", "health", "/_emulator/health", "_emulator/health"])
def test_control_paths_are_relative_to_the_control_api_with_or_without_it(
        sms_emulator: SmsEmulator, path: str) -> None:
    assert sms_emulator.control("GET", path)["status"] == "ok"


async def test_the_async_helpers_take_the_same_paths_and_durations(
        sms_emulator: SmsEmulator) -> None:
    emulator = sms_emulator.aio
    assert (await emulator.control("GET", "/_emulator/clock"))["mode"] == "manual"
    await emulator.advance(timedelta(seconds=90))
    assert await emulator.now() == datetime(2026, 1, 1, 0, 1, 30, tzinfo=UTC)
    await emulator.reset(seed=5, now=datetime(2026, 1, 2, tzinfo=UTC))
    assert await emulator.now_iso() == "2026-01-02T00:00:00.000000Z"


def test_a_refused_control_call_names_the_path_and_the_reason(sms_emulator: SmsEmulator) -> None:
    with pytest.raises(ControlFailure, match=r"GET /_emulator/messages/NOPE answered 404"):
        sms_emulator.message("NOPE")


def test_installing_the_package_is_enough(tmp_path: Path) -> None:
    """A project with no conftest gets the fixture through the entry point."""
    (tmp_path / "test_theirs.py").write_text('''
from telesign.messaging import MessagingClient

def test_send(sms_emulator):
    client = MessagingClient(sms_emulator.telesign_customer_id, sms_emulator.telesign_api_key,
                             rest_endpoint=sms_emulator.telesign_url)
    reference_id = client.message("15005550510", "hello", "ARN").json["reference_id"]
    sms_emulator.advance(10)
    assert sms_emulator.message(reference_id)["status"] == 510
''')
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "--sms-emulator-seed", "3", str(tmp_path)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
