"""The example shop (``emulator.examples.shop``): its webhook handlers pass the fuzzer clean,
as the README says, and bad requests get a clear 4xx or 502, never a 500."""

from __future__ import annotations

import socket

import pytest
from aiohttp import ClientSession

from emulator.examples.shop import Shop
from emulator.fuzz import fuzz_async
from emulator.replay.runner import EMULATOR_URL_HEADER
from tests.conftest import API_KEY, CUSTOMER_ID, Emulator


@pytest.fixture
async def shop_url(aiohttp_server, emulator: Emulator) -> str:
    server = await aiohttp_server(Shop(emulator.url, CUSTOMER_ID, API_KEY).app())
    return str(server.make_url("")).rstrip("/")


async def test_the_shops_webhook_handlers_pass_the_fuzzer_clean(shop_url: str) -> None:
    # the two Telesign kinds the shop reads; it only records the others
    telesign = await fuzz_async(f"{shop_url}/telesign/callback",
                                ["telesign.delivery_report", "telesign.mo_sms"], examples=5,
                                seed=1)
    assert telesign.ok, telesign.text()
    tsg = await fuzz_async(f"{shop_url}/tsg/webhook", "tsg", examples=5, seed=1)
    assert tsg.ok, tsg.text()


@pytest.mark.parametrize(("path", "body", "headers", "status", "error"), [
    ("/notify", b"{not json", {}, 400, "the body is not JSON"),
    ("/notify", b"[1]", {}, 400, "the body must be a JSON object"),
    ("/notify", b'{"to": "15551234567"}', {}, 400, "text: a non-empty string is required"),
    ("/otp", b'{"to": "15551234567"}', {EMULATOR_URL_HEADER: "nowhere"}, 400,
     "SMS-Emulator-URL: 'nowhere' is not an http(s) URL"),
    ("/otp", b'{"to": "15551234567"}', {EMULATOR_URL_HEADER: "http://127.0.0.1:9"}, 502,
     "Telesign at http://127.0.0.1:9 cannot be reached"),
    ("/tsg/send", b'{"to": ["15551234567"]}', {EMULATOR_URL_HEADER: "http://127.0.0.1:9"},
     502, "TSG at http://127.0.0.1:9 cannot be reached"),
    ("/telesign/callback", b"{}", {"Authorization": "TSA x:y"}, 401, "bad signature"),
])
async def test_bad_requests_get_a_clear_answer(shop_url: str, path: str, body: bytes,
                                               headers: dict, status: int, error: str) -> None:
    async with ClientSession() as http, http.post(f"{shop_url}{path}", data=body,
                                                  headers=headers) as response:
        assert response.status == status
        assert error in (await response.json())["error"]


async def test_the_header_names_the_emulator_to_use(aiohttp_server, emulator: Emulator) -> None:
    """Configured for an emulator that is not there, the shop follows the header."""
    server = await aiohttp_server(Shop("http://127.0.0.1:9", CUSTOMER_ID, API_KEY).app())
    async with ClientSession() as http:
        async with http.post(server.make_url("/otp"), json={"to": "15551234567"},
                             headers={EMULATOR_URL_HEADER: emulator.url + "/"}) as response:
            assert response.status == 200
            assert (await response.json())["status"]["code"] == 290
        async with http.get(server.make_url("/state")) as response:
            assert (await response.json())["emulator"] == emulator.url
        async with http.post(server.make_url("/otp"), json={"to": "15551234567"}) as response:
            assert response.status == 502  # without it: the configured one


def test_example_sut_on_a_taken_port_or_a_bad_url_says_so(capsys) -> None:
    from emulator.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["example-sut", "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main(["example-sut", "--emulator", "127.0.0.1:8025"])
    assert caught.value.code == 2
    assert "'127.0.0.1:8025' is not an http(s) URL" in capsys.readouterr().err
