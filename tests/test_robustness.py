"""Whatever a client sends, no endpoint answers 500 or anything but JSON.

Hypothesis draws methods, paths, headers and bodies (random bytes, form bodies with hostile
values, properly signed form bodies so validation is reached, JSON of any shape) and sends them
over loopback to the emulator. Bounded: a fixed number of examples, each one request.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from email.utils import formatdate
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.providers.telesign import signing
from tests.conftest import API_KEY, CUSTOMER_ID, Emulator

PARAMS = ["phone_number", "message", "message_type", "callback_url", "account_lifecycle_event",
          "sender_id", "originating_ip", "external_id", "is_primary"]
PATHS = ["/v1/messaging", "/v1/messaging/", "/v1/messaging/0123456789ABCDEF0123456789ABCDEF",
         "/v1/voice", "/", "/_emulator/health", "/_emulator/messages", "/_emulator/messages/x",
         "/_emulator/inbound", "/_emulator/deliveries", "/_emulator/deliveries/D1",
         "/_emulator/journal", "/_emulator/clock", "/_emulator/clock/advance",
         "/_emulator/config", "/_emulator/reset"]

# what an HTTP client will put in a header: printable ASCII and Latin-1 letters
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=255,
                                    blacklist_characters="\x7f",
                                    blacklist_categories=("Cc",)), max_size=80)
hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "15551234567", "+15551234567", "15005550207", "0" * 40, "OTP",
                     "ARN", "MKT", "http://127.0.0.1:1/cb", "create", "203.0.113.45", "::1",
                     "😀" * 10, "é" * 1601, "\x00", "%", "%%", "%FF", "a=b&c", "null"]),
)


@st.composite
def form_bodies(draw) -> bytes:
    params = draw(st.dictionaries(st.sampled_from(PARAMS) | st.text(max_size=8), hostile_text,
                                  max_size=6))
    if draw(st.booleans()):
        return urlencode(params).encode()
    return "&".join(f"{k}={v}" for k, v in params.items()).encode("utf-8", "surrogatepass")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
bodies = st.one_of(st.binary(max_size=300), form_bodies(),
                   json_values.map(lambda v: json.dumps(v).encode()))


@st.composite
def requests(draw) -> tuple[str, str, dict[str, str], bytes]:
    method = draw(st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]))
    path = draw(st.sampled_from(PATHS) | st.text(max_size=20).map(lambda t: "/" + quote(t)))
    body = draw(bodies)
    headers: dict[str, str] = {}
    if draw(st.booleans()):
        headers["Content-Type"] = draw(st.sampled_from(
            ["application/x-www-form-urlencoded", "application/json", "text/plain", ""]))
    auth = draw(st.sampled_from(["none", "garbage", "tsa_garbage", "basic", "signed",
                                 "signed"]))
    if auth == "garbage":
        headers["Authorization"] = draw(header_text)
    elif auth == "tsa_garbage":  # the right customer id, so the signature itself is compared
        headers.update({"Authorization": f"TSA {CUSTOMER_ID}:" + draw(header_text),
                        "Date": formatdate(usegmt=True), "x-ts-auth-method": "HMAC-SHA256"})
    elif auth == "basic":
        secret = draw(st.sampled_from([API_KEY, "wrong"]))
        headers["Authorization"] = "Basic " + base64.b64encode(
            f"{CUSTOMER_ID}:{secret}".encode()).decode()
    elif auth == "signed":
        date = formatdate(usegmt=True)
        nonce = str(uuid.uuid4())
        content_type = headers.get("Content-Type", "")
        to_sign = signing.string_to_sign(method=method, content_type=content_type, date=date,
                                          auth_method="HMAC-SHA256", nonce=nonce, x_ts_date=None,
                                          body=body, resource=path)
        headers.update({
            "Authorization": f"TSA {CUSTOMER_ID}:"
                             f"{signing.sign(signing.decode_api_key(API_KEY), to_sign)}",
            "Date": draw(st.sampled_from([date, date, "garbage"])),
            "x-ts-auth-method": "HMAC-SHA256",
            "x-ts-nonce": nonce,
        })
    if draw(st.booleans()):
        headers[draw(st.sampled_from(["x-ts-date", "x-ts-nonce", "Date"]))] = draw(header_text)
    return method, path, headers, body


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(request=requests())
async def test_no_request_gets_a_500_or_a_non_json_answer(emulator: Emulator,
                                                          request) -> None:
    method, path, headers, body = request
    async with emulator.http.request(method, emulator.url + path, data=body,
                                     headers=headers) as response:
        text = await response.text()
        assert response.status < 500, (method, path, headers, body, text)
        assert response.content_type == "application/json", (path, text)
        json.loads(text)


async def test_an_oversized_body_gets_a_json_error(emulator: Emulator) -> None:
    async with emulator.http.post(emulator.url + "/v1/messaging",
                                  data=b"x" * (2 * 1024 * 1024)) as response:
        assert response.status == 413
        body = await response.json()
        assert body["status"]["code"] == -40006


async def raw_request(emulator: Emulator, request: bytes) -> tuple[int, bytes]:
    """Send bytes as they are (an HTTP client would refuse headers that are not UTF-8)."""
    reader, writer = await asyncio.open_connection(emulator.server.host, emulator.server.port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)  # a bound, not a sleep
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def _http(method: str, path: str, headers: list[bytes], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close",
             f"Content-Length: {len(body)}".encode(), *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@pytest.mark.parametrize("headers", [
    [f"Authorization: TSA {CUSTOMER_ID}:".encode() + b"\xe9abc",
     f"Date: {formatdate(usegmt=True)}".encode(), b"x-ts-auth-method: HMAC-SHA256"],
    [f"Authorization: TSA {CUSTOMER_ID}:abc".encode(), f"Date: {formatdate(usegmt=True)}".encode(),
     b"x-ts-auth-method: HMAC-SHA256", b"x-ts-nonce: \xff\xfe"],
    [f"Authorization: TSA {CUSTOMER_ID}:abc".encode(), f"Date: {formatdate(usegmt=True)}".encode(),
     b"x-ts-auth-method: HMAC-SHA256", b"Content-Type: text/\xff"],
    [b"Authorization: Basic \xff\xfe"],
], ids=["signature", "nonce", "content-type", "basic"])
async def test_telesign_headers_that_are_not_utf8_get_a_401(emulator: Emulator,
                                                            headers: list[bytes]) -> None:
    status, body = await raw_request(emulator, _http(
        "POST", "/v1/messaging", headers, b"phone_number=15551234567&message=hi&message_type=OTP"))
    assert status == 401, body
    assert json.loads(body)["status"]["code"] in (10008, 10028)


async def test_a_tsg_bearer_that_is_not_utf8_gets_a_401(emulator: Emulator) -> None:
    status, body = await raw_request(emulator, _http(
        "POST", "/messages", [b"Authorization: Bearer \xff\xfe",
                              b"Content-Type: application/json"], b"{}"))
    assert status == 401, body
    assert json.loads(body)["errors"][0]["id"] == "unauthenticated"


@pytest.mark.parametrize("raw", [b'{"seconds": NaN}', b'{"seconds": Infinity}',
                                 b'{"seconds": 1e400}', b'{"text": "\\ud800"}'])
@pytest.mark.parametrize("path", ["/clock/advance", "/inbound", "/config", "/reset"])
async def test_json_that_is_not_standard_is_refused_by_the_control_api(
        emulator: Emulator, path: str, raw: bytes) -> None:
    method = "PATCH" if path == "/config" else "POST"
    status, body = await emulator.control(method, path, data=raw,
                                          headers={"Content-Type": "application/json"})
    assert status == 400, body
    assert "not valid JSON" in body["error"]


@pytest.mark.parametrize("raw", [b'{"to": ["15551234567"], "body": "hi", "from": NaN}',
                                 b'{"to": ["15551234567"], "body": "hi", "from": 1e999}'])
async def test_json_that_is_not_standard_is_a_tsg_422(emulator: Emulator, raw: bytes) -> None:
    async with emulator.http.post(emulator.url + "/messages", data=raw, headers={
            "Authorization": "Bearer sms-emulator-tsg-key",
            "Content-Type": "application/json"}) as response:
        body = await response.json()
    assert response.status == 422, body
    assert body["errors"][0]["id"] == "invalid_json"


async def test_times_stay_within_what_can_be_shown(emulator: Emulator) -> None:
    status, body = await emulator.control("POST", "/reset", json={"now": "9999-12-31T23:00:00Z"})
    assert status == 400 and body["field"] == "now"
    status, body = await emulator.control("POST", "/reset", json={"now": "0001-01-01T00:00:00Z"})
    assert status == 400 and body["field"] == "now"
    status, _ = await emulator.control("POST", "/reset", json={"now": "8999-12-31T00:00:00Z"})
    assert status == 200
    status, body = await emulator.control("POST", "/clock/advance", json={"seconds": 7 * 86400})
    assert status == 400 and body["field"] == "seconds"
    status, body = await emulator.control("GET", "/clock")
    assert status == 200 and body["now"] == "8999-12-31T00:00:00.000000Z"


def test_a_config_file_cannot_hold_nan_or_infinity(tmp_path) -> None:
    from emulator.app import build_config
    from emulator.config import ConfigError, load_config_file

    path = tmp_path / "config.yaml"
    path.write_text("webhooks: {timeout_seconds: .nan}\n"
                    "telesign:\n  auth: {date_skew_seconds: .inf}\n")
    with pytest.raises(ConfigError) as caught:
        build_config(load_config_file(path))
    assert sorted(caught.value.problems) == [
        "telesign.auth.date_skew_seconds: inf is not a usable number",
        "webhooks.timeout_seconds: nan is not a usable number"]
