"""Bad input to TSG's endpoints gets TSG's error body with the documented status, naming the
field, and never a 500: fixed cases, then Hypothesis-drawn hostile bodies and headers."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from emulator import schemas
from tests.conftest import Emulator, assert_valid
from tests.tsg_support import NUMBER, TSG_KEY, call


def error_of(body: dict) -> tuple[str, str]:
    [error] = body["errors"]
    return error["id"], error["message"]


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong-key"}, {"Authorization": f"Basic {TSG_KEY}"},
    {"Authorization": "Bearer"}, {"Authorization": f"Bearer {TSG_KEY}x"},
])
async def test_wrong_bearer_is_a_401_in_tsg_format(emulator: Emulator, headers) -> None:
    for method, path, kwargs in [("POST", "/messages", {"data": b"not even json"}),
                                 ("GET", "/messages/03b4641f-17a6-4565-bdba-1ce905be3312", {}),
                                 ("POST", "/v1/sms/webhook", {"json": {"did": "1"}})]:
        answer = await call(emulator, method, path, key=None, headers=headers, **kwargs)
        assert answer.status == 401
        error_id, message = error_of(answer.body)
        assert error_id == "unauthenticated" and "Bearer" in message
    assert (await emulator.control("GET", "/messages"))[1]["messages"] == []


async def test_the_right_bearer_is_case_insensitive_in_its_scheme(emulator: Emulator) -> None:
    answer = await call(emulator, "POST", "/messages", key=None,
                        headers={"Authorization": f"bearer {TSG_KEY}"},
                        json={"from": NUMBER, "to": ["15551234567"], "body": "hi"})
    assert answer.status == 200


VALID = {"from": NUMBER, "to": ["15551234567"], "body": "hello"}


@pytest.mark.parametrize(("document", "field"), [
    ({"from": NUMBER, "body": "hello"}, "to"),
    ({**VALID, "encoding": 7}, "encoding"),
    ({**VALID, "encoding": "3"}, "encoding"),
    ({**VALID, "encoding": True}, "encoding"),
    ({**VALID, "force_encoding": 1}, "force_encoding"),
    ({**VALID, "to": "15551234567"}, "to"),
    ({**VALID, "to": []}, "to"),
    ({**VALID, "to": ["15551234567", "call me"]}, "to.1"),
    ({**VALID, "from": ""}, "from"),
    ({**VALID, "from": "A sender ID far too long"}, "from"),
    ({**VALID, "body": ""}, "body"),
    ({**VALID, "body": None}, "body"),
    ({**VALID, "body": "x" * 671}, "body"),           # 6 Latin-1 parts; TSG allows 5
    ({**VALID, "body": "😀" * 205}, "body"),          # 7 UCS-2 parts of 68 units; 6 allowed
    ({**VALID, "body": "lone \ud800"}, "body"),
    ({**VALID, "body": "😀", "force_encoding": 3}, "body"),
    ({**VALID, "body": "á", "force_encoding": 0}, "body"),
    ({**VALID, "registered_delivery": 4}, "registered_delivery"),
    ({**VALID, "deliver_at": "tomorrow"}, "deliver_at"),
    ({**VALID, "deliver_at": "2029-01-01T00:00:00"}, "deliver_at"),  # beyond two years
    ({**VALID, "expires_at": "2025-12-31T23:59:59"}, "expires_at"),
    ({**VALID, "expires_at": "9999-12-31T23:59:59.999999"}, "expires_at"),  # year 10000 in UTC
    ({**VALID, "expires_at": "9999-12-31T23:59:59-14:00"}, "expires_at"),
    ({**VALID, "deliver_at": "2026-02-01T00:00:00", "expires_at": "2026-01-15T00:00:00"},
     "expires_at"),
])
async def test_invalid_parameters_are_a_422_naming_the_field(emulator: Emulator, document,
                                                             field: str) -> None:
    data = json.dumps(document).encode()  # json= would refuse the lone surrogate
    answer = await call(emulator, "POST", "/messages", data=data,
                        headers={"Content-Type": "application/json"})
    assert answer.status == 422, answer.body
    error_id, message = error_of(answer.body)
    assert error_id == "invalid_parameter"
    assert message.startswith(f"{field}: "), message


@pytest.mark.parametrize("raw", [b"", b"not json", b"{\"to\": [", b"[1, 2]", b"\xff\xfe{}",
                                 b"null", b"[" * 100_000])
async def test_a_body_that_is_not_a_json_object_is_a_422(emulator: Emulator, raw: bytes) -> None:
    answer = await call(emulator, "POST", "/messages", data=raw)
    assert answer.status == 422
    error_id, message = error_of(answer.body)
    assert error_id == "invalid_json" and message.startswith("(request body): ")


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/messages"), ("DELETE", "/messages/03b4641f-17a6-4565-bdba-1ce905be3312"),
    ("GET", "/messages/a/b"), ("GET", "/v1/sms/webhook"), ("POST", "/v1/sms/enablement-x"),
])
async def test_unknown_paths_and_verbs_are_tsg_404s(emulator: Emulator, method: str,
                                                    path: str) -> None:
    async with emulator.http.request(method, emulator.url + path) as response:
        body = await response.json()
        assert response.status == 404
        assert response.headers["X-Request-Id"]
    assert_valid("tsg/error", body)
    assert error_of(body) == ("not_found",
                              "Resource not found. Are you using the right HTTP verb?")


async def test_v1_stays_telesign_except_v1_sms(emulator: Emulator) -> None:
    async with emulator.http.get(emulator.url + "/v1/voice") as response:
        assert response.status == 404
        assert (await response.json())["status"]["code"] == -40004


async def test_an_oversized_body_is_a_tsg_422(emulator: Emulator) -> None:
    async with emulator.http.post(emulator.url + "/messages",
                                  data=b"x" * (2 * 1024 * 1024)) as response:
        body = await response.json()
        assert response.status == 422
    assert_valid("tsg/error", body)


async def test_number_webhook_validation(emulator: Emulator) -> None:
    for document, field in [({}, "did"), ({"did": "12a"}, "did"),
                            ({"did": "1200", "webhook_url": "ftp://x"}, "webhook_url"),
                            ({"did": "1200", "webhook_type": "carrier-pigeon"}, "webhook_type")]:
        answer = await call(emulator, "POST", "/v1/sms/webhook", json=document)
        assert answer.status == 422
        assert error_of(answer.body)[1].startswith(f"{field}: ")


# -- robustness -------------------------------------------------------------------------------
ENDPOINTS = ([("POST", "/messages")] * 6 + [("POST", "/v1/sms/webhook")] * 2
             + [("GET", "/messages/03b4641f-17a6-4565-bdba-1ce905be3312"),
                ("GET", "/messages/..%2F"), ("PUT", "/messages"), ("DELETE", "/v1/sms/webhook"),
                ("POST", "/v1/sms"), ("GET", "/messages/")])
#: a closed port on loopback: any webhook the fuzzed configuration causes fails at once
LOOPBACK_HOOK = "http://127.0.0.1:9/hook"
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=255,
                                    blacklist_characters="\x7f",
                                    blacklist_categories=("Cc",)), max_size=60)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
field_values = st.one_of(json_values, st.sampled_from(
    ["", "😀" * 80, "\x00", "2026-01-01T00:00:00", "9999-12-31T23:59:59.999999", "0001-01-01",
     "0001-01-01T00:00:00+14:00",
     ["15005551004"] * 3, 3.0, -1, 2**70, 1e308, LOOPBACK_HOOK, "+15550555055"]))


def objects_from_schema(schema: dict) -> st.SearchStrategy[dict]:
    """``from_schema`` one property at a time: hypothesis-jsonschema 0.23 fails on an array
    nested in an object with this Hypothesis ("'many' object has no attribute 'more'")."""
    properties, required = schema["properties"], set(schema["required"])
    return st.fixed_dictionaries(
        {name: from_schema(sub) for name, sub in properties.items() if name in required},
        optional={name: from_schema(sub) for name, sub in properties.items()
                  if name not in required})


VALID_BODIES = {"/messages": objects_from_schema(schemas.load("tsg/send-request")),
                "/v1/sms/webhook": objects_from_schema(
                    schemas.load("tsg/number-webhook-request"))}


@st.composite
def bodies(draw, path: str) -> bytes:
    kind = draw(st.sampled_from(["valid", "valid", "mutated", "mutated", "json", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "json" or path not in VALID_BODIES:
        return json.dumps(draw(json_values)).encode()
    document = draw(VALID_BODIES[path])
    if kind == "mutated":
        key = draw(st.sampled_from([*sorted(document), "encoding", "deliver_at", "expires_at",
                                     "webhook_url", "did"]))
        document[key] = draw(field_values)
    if isinstance(document.get("webhook_url"), str) and "://" in document["webhook_url"]:
        document["webhook_url"] = LOOPBACK_HOOK  # webhooks never leave this machine
    return json.dumps(document).encode()


@st.composite
def requests(draw) -> tuple[str, str, dict[str, str], bytes]:
    method, path = draw(st.sampled_from(ENDPOINTS))
    headers = {"Content-Type": draw(st.sampled_from(["application/json", "text/plain", ""]))}
    auth = draw(st.sampled_from(["right", "right", "right", "none", "garbage"]))
    if auth == "right":
        headers["Authorization"] = f"Bearer {TSG_KEY}"
    elif auth == "garbage":
        headers["Authorization"] = draw(header_text)
    if draw(st.booleans()):
        headers[draw(st.sampled_from(["x-api-key", "X-Request-Id", "Accept"]))] = \
            draw(header_text)
    return method, path, headers, draw(bodies(path))


@settings(max_examples=250, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(request=requests())
async def test_hostile_requests_never_get_a_500(emulator: Emulator, request) -> None:
    method, path, headers, body = request
    async with emulator.http.request(method, emulator.url + path, data=body,
                                     headers=headers) as response:
        text = await response.text()
        status = response.status
    assert status < 500, (method, path, headers, body, text)
    answer = json.loads(text)
    if status >= 400:
        assert_valid("tsg/error", answer)
    elif (method, path) == ("POST", "/messages"):
        assert_valid("tsg/send-response", answer)
    elif path == "/v1/sms/webhook":
        assert_valid("tsg/number-webhook-response", answer)
    else:
        assert_valid("tsg/message", answer)
    await emulator.advance(3)  # receipts and statuses run too, without an error
