"""The control API's guard: a web page cannot drive the emulator through a developer's browser
(foreign Origin, text/plain "simple" requests, DNS rebinding), and a control token, when set,
is required on /_emulator/*. Provider APIs are not affected."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession

from emulator.app import CONTEXT, build_app
from emulator.cli import _exposure
from emulator.config import ConfigError, Settings
from emulator.control.guard import Guard, host_and_port, is_loopback
from tests.conftest import API_KEY, CUSTOMER_ID, SEED, START, Emulator, Receiver, assert_valid
from tests.test_serve_cli import SCRIPT, STARTUP_LIMIT

STOP = {"provider": "telesign", "channel": "sms", "from": "15557654321", "to": "4442",
        "text": "STOP"}


async def raw(emulator: Emulator, method: str, path: str, *, headers: dict[str, str],
              data: bytes | None = None) -> tuple[int, dict[str, Any]]:
    async with emulator.http.request(method, emulator.url + path, headers=headers,
                                     data=data) as response:
        return response.status, await response.json()


def refused_as(status: int, body: dict[str, Any], http: int, field: str) -> None:
    assert status == http, body
    assert_valid("control/error", body)
    assert body["field"] == field


async def test_a_cross_origin_text_plain_post_to_inbound_is_refused_and_changes_nothing(
        emulator: Emulator, receiver: Receiver) -> None:
    await emulator.patch_config({"telesign": {"callback_url": receiver.url()}})
    # what a page on another site can make a browser send without a preflight
    status, body = await raw(emulator, "POST", "/_emulator/inbound", data=json.dumps(STOP).encode(),
                             headers={"Origin": "http://evil.example",
                                      "Content-Type": "text/plain;charset=UTF-8"})
    refused_as(status, body, 403, "Origin")
    assert "evil.example" in body["error"]
    await emulator.advance(60)
    _, messages = await emulator.control("GET", "/messages")
    assert messages["messages"] == []
    assert await emulator.deliveries() == []
    assert receiver.requests == []
    _, journal = await emulator.control("GET", "/journal", params={"kind": "control_refused"})
    assert [(e["path"], e["status"], e["field"]) for e in journal["entries"]] == [
        ("/_emulator/inbound", 403, "Origin")]

    # the same body, same-origin and JSON, goes through: the guard refused only the origin
    status, body = await raw(emulator, "POST", "/_emulator/inbound", data=json.dumps(STOP).encode(),
                             headers={"Origin": emulator.url, "Content-Type": "application/json"})
    assert status == 201, body
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1",
                                    "https://localhost.evil.example", "file://", "garbage"])
@pytest.mark.parametrize(("method", "path"), [("POST", "/_emulator/reset"),
                                              ("POST", "/_emulator/clock/advance"),
                                              ("PATCH", "/_emulator/config"),
                                              ("DELETE", "/_emulator/telesign/opt-outs"),
                                              ("GET", "/_emulator/config")])
async def test_any_foreign_origin_is_refused(emulator: Emulator, origin: str, method: str,
                                             path: str) -> None:
    status, body = await raw(emulator, method, path, headers={"Origin": origin})
    refused_as(status, body, 403, "Origin")


async def test_the_emulators_own_origin_and_no_origin_pass(emulator: Emulator) -> None:
    port = host_and_port(emulator.url.split("//", 1)[1])[1]
    for origin in (None, emulator.url, f"http://localhost:{port}", f"HTTP://LOCALHOST:{port}/"):
        headers = {} if origin is None else {"Origin": origin}
        if origin is not None and "localhost" in origin.lower():
            headers["Host"] = f"localhost:{port}"
        status, body = await raw(emulator, "POST", "/_emulator/clock/advance",
                                 data=b'{"seconds": 1}',
                                 headers={**headers, "Content-Type": "application/json"})
        assert status == 200, (origin, body)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
async def test_a_body_that_is_not_json_gets_415_and_changes_nothing(
        emulator: Emulator, content_type: str | None) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    for method, path, data in [("POST", "/_emulator/inbound", json.dumps(STOP).encode()),
                               ("PATCH", "/_emulator/config",
                                b'{"webhooks": {"timeout_seconds": 1}}'),
                               ("POST", "/_emulator/reset", b'{"seed": 99}')]:
        async with emulator.http.request(method, emulator.url + path, data=data,
                                         skip_auto_headers=["Content-Type"],
                                         headers=headers) as response:
            status, body = response.status, await response.json()
        refused_as(status, body, 415, "Content-Type")
    _, config = await emulator.control("GET", "/config")
    assert config["webhooks"]["timeout_seconds"] == 10.0
    _, clock = await emulator.control("GET", "/clock")
    assert clock["cursor"]["messages"] == 0
    assert emulator.ctx.rng.seed == SEED


async def test_a_request_without_a_body_needs_no_content_type(emulator: Emulator) -> None:
    # curl -X POST http://127.0.0.1:8025/_emulator/reset: no body, no Content-Type
    reader, writer = await asyncio.open_connection(emulator.server.host, emulator.server.port)
    writer.write(f"POST /_emulator/reset HTTP/1.1\r\nHost: 127.0.0.1:{emulator.server.port}"
                 "\r\nConnection: close\r\n\r\n".encode())
    answer = await reader.read()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    async with emulator.http.post(emulator.url + "/_emulator/reset",
                                  headers={"Content-Type": "text/plain"}) as response:
        assert response.status == 200  # an empty body: its type does not matter


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8025", "localhost.evil.example",
                                  "127.0.0.1.nip.io", "sms-emulator"])
async def test_a_dns_rebinding_host_cannot_read_the_config(emulator: Emulator,
                                                           host: str) -> None:
    async with emulator.http.get(emulator.url + "/_emulator/config",
                                 headers={"Host": host}) as response:
        text = await response.text()
        status, body = response.status, await response.json()
    refused_as(status, body, 403, "Host")
    assert API_KEY not in text and "sms-emulator-tsg-key" not in text
    # nor any other page of the emulator's own (only the provider APIs take any name)
    async with emulator.http.get(emulator.url + "/", headers={"Host": host}) as response:
        assert response.status == 403


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST.", "app.localhost",
                                  "[::1]", "10.1.2.3", "[fd00::5]:8025", None])
async def test_loopback_names_and_addresses_are_served(emulator: Emulator,
                                                       host: str | None) -> None:
    port = emulator.server.port
    headers = {} if host is None else {"Host": host if "]:" in host else f"{host}:{port}"}
    if host is None:  # HTTP/1.0 without a Host header
        reader, writer = await asyncio.open_connection(emulator.server.host, port)
        writer.write(b"GET /_emulator/config HTTP/1.0\r\n\r\n")
        answer = await reader.read()
        writer.close()
        assert answer.startswith(b"HTTP/1.0 200 ") or answer.startswith(b"HTTP/1.1 200 "), answer
        return
    async with emulator.http.get(emulator.url + "/_emulator/config",
                                 headers=headers) as response:
        assert response.status == 200, (host, await response.text())


async def test_provider_apis_answer_whatever_the_host(emulator: Emulator) -> None:
    basic = base64.b64encode(f"{CUSTOMER_ID}:{API_KEY}".encode()).decode()
    async with emulator.http.post(
            emulator.url + "/v1/messaging", headers={"Host": "telesign.test",
                                                     "Authorization": f"Basic {basic}"},
            data={"phone_number": "15551234567", "message": "hi", "message_type": "ARN"}
    ) as response:
        assert response.status == 200, await response.text()


@pytest.fixture
async def guarded(aiohttp_server) -> AsyncIterator[Emulator]:
    """An emulator with a control token and an extra host name, as a docker-compose service."""
    app = build_app(Settings(clock="manual", seed=SEED, start=START, control_token="s3cret",
                             allow_hosts=("sms-emulator",)))
    server = await aiohttp_server(app)
    async with ClientSession() as http:
        yield Emulator(server, http, app[CONTEXT])


async def test_an_allowed_host_name_is_served(guarded: Emulator) -> None:
    token = {"Authorization": "Bearer s3cret"}
    status, _ = await raw(guarded, "GET", "/_emulator/config",
                          headers={**token, "Host": "Sms-Emulator:8025"})
    assert status == 200
    status, body = await raw(guarded, "GET", "/_emulator/config",
                             headers={**token, "Host": "other-service:8025"})
    refused_as(status, body, 403, "Host")


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic czNjcmV0", "Bearer",
                                           "s3cret", "Bearer s3cret-and-more"])
async def test_with_a_control_token_set_it_is_required(guarded: Emulator,
                                                       authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in [("GET", "/_emulator/config"), ("GET", "/_emulator/health"),
                         ("POST", "/_emulator/reset")]:
        async with guarded.http.request(method, guarded.url + path,
                                        headers=headers) as response:
            status, body = response.status, await response.json()
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        refused_as(status, body, 401, "Authorization")
    for header in ("Bearer s3cret", "bearer  s3cret "):
        status, body = await raw(guarded, "GET", "/_emulator/config",
                                 headers={"Authorization": header})
        assert status == 200 and body["telesign"]["api_key"] == API_KEY


async def test_the_control_token_does_not_apply_to_provider_apis(guarded: Emulator) -> None:
    async with guarded.http.post(guarded.url + "/messages",
                                 headers={"Authorization": "Bearer sms-emulator-tsg-key"},
                                 json={"from": "15550555055", "to": ["15551234567"],
                                       "body": "hi"}) as response:
        assert response.status == 200, await response.text()


def test_the_guard_reads_hosts_and_origins_as_browsers_send_them() -> None:
    assert host_and_port("[::1]:8025") == ("::1", 8025)
    assert host_and_port("Example.TEST.:80") == ("example.test", 80)
    assert host_and_port("localhost") == ("localhost", None)
    guard = Guard(bound_host="emulator.internal", allow_hosts=("Compose-Name",))
    assert guard.host_allowed("emulator.internal:8025")  # the name given to --host
    assert guard.host_allowed("compose-name")
    assert not guard.host_allowed("emulator.internal.evil.example")
    assert Guard(bound_host="0.0.0.0", allow_hosts=("*",)).host_allowed("anything.example")
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10")


def test_the_banner_warns_when_listening_beyond_loopback() -> None:
    assert _exposure(Settings(host="127.0.0.1")) == []
    open_lines = "\n".join(_exposure(Settings(host="0.0.0.0")))
    assert "WARNING: listening on 0.0.0.0" in open_lines
    assert "SMS_EMULATOR_CONTROL_TOKEN" in open_lines
    with_token = "\n".join(_exposure(Settings(host="0.0.0.0", control_token="t")))
    assert "WARNING" in with_token and "requires Authorization: Bearer" in with_token
    assert "Set SMS_EMULATOR_CONTROL_TOKEN" not in with_token


def test_the_settings_come_from_the_environment() -> None:
    settings = Settings.from_env({"SMS_EMULATOR_CONTROL_TOKEN": " t0ken ",
                                  "SMS_EMULATOR_ALLOW_HOSTS": "sms-emulator, emulator.test,"})
    assert settings.control_token == "t0ken"
    assert settings.allow_hosts == ("sms-emulator", "emulator.test")
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"SMS_EMULATOR_ALLOW_HOSTS": "http://x/"})
    assert "SMS_EMULATOR_ALLOW_HOSTS" in caught.value.problems[0]


async def test_serve_with_a_control_token_from_the_environment() -> None:
    proc = await asyncio.create_subprocess_exec(
        str(SCRIPT), "serve", "--port", "0", "--allow-host", "sms-emulator",
        env={**os.environ, "SMS_EMULATOR_CONTROL_TOKEN": "from-env"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        lines: list[str] = []
        while not lines or lines[-1] != "Press Ctrl-C to stop.":
            line = await asyncio.wait_for(proc.stdout.readline(), STARTUP_LIMIT)
            assert line, lines
            lines.append(line.decode().rstrip())
        assert any("requires Authorization: Bearer <control token>" in line for line in lines)
        assert not any("WARNING" in line for line in lines)  # loopback
        url = lines[0].rsplit(" ", 1)[1]
        async with ClientSession() as http:
            async with http.get(f"{url}/_emulator/health") as response:
                assert response.status == 401
            async with http.get(f"{url}/_emulator/health", headers={
                    "Authorization": "Bearer from-env", "Host": "sms-emulator"}) as response:
                assert response.status == 200
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.communicate(), STARTUP_LIMIT)
