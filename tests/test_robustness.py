"""Whatever a client sends, no endpoint answers 500 or anything but JSON.

Hypothesis draws methods, paths, headers and bodies (random bytes, form bodies with hostile
values, properly signed form bodies so validation is reached, JSON of any shape) and sends them
over loopback to the emulator. Bounded: a fixed number of examples, each one request.
"""

from __future__ import annotations

import base64
import json
import uuid
from email.utils import formatdate
from urllib.parse import quote, urlencode

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
    auth = draw(st.sampled_from(["none", "garbage", "basic", "signed", "signed"]))
    if auth == "garbage":
        headers["Authorization"] = draw(header_text)
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
