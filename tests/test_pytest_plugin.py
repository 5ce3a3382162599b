"""The pytest plugin, used the way a team would: only the ``sms_emulator`` fixture (plus their
own system under test), synchronously and from asyncio tests, and installed through its entry
point in a project that has no conftest at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aiohttp
from telesign.messaging import MessagingClient

from emulator.examples.shop import Shop
from emulator.pytest_plugin import SmsEmulator


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
    assert sms_emulator.now() == 1_767_225_600.0


async def test_an_end_to_end_flow_through_the_plugin_alone(sms_emulator: SmsEmulator,
                                                           aiohttp_server) -> None:
    """A shop (the sample system, on this test's loop) sends a notice, gets its delivery
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
        assert await emulator.now() == 1_767_225_605.0  # 2026-01-01T00:00:05Z
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
