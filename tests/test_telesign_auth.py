"""Telesign REST auth: Basic and TSA HMAC-SHA256, each documented 401 code with its text."""

from __future__ import annotations

import base64
import time
import uuid
from email.utils import formatdate

import pytest
from telesign.rest import RestClient

from emulator.providers.telesign import signing
from emulator.providers.telesign.auth import NonceCache
from tests.conftest import API_KEY, CUSTOMER_ID, Emulator, assert_valid, in_thread

BODY = "phone_number=15551234567&message=Hello&message_type=ARN"
FORM = "application/x-www-form-urlencoded"


def signed_headers(*, body: str = BODY, method: str = "POST", resource: str = "/v1/messaging",
                   api_key: str = API_KEY, customer_id: str = CUSTOMER_ID,
                   date: str | None = None, nonce: str | None = None,
                   content_type: str = FORM) -> dict[str, str]:
    headers = RestClient.generate_telesign_headers(
        customer_id, api_key, method, resource, body if method == "POST" else "",
        date_rfc2616=date or formatdate(usegmt=True), nonce=nonce or str(uuid.uuid4()),
        user_agent="tests", content_type=content_type if method == "POST" else "")
    return dict(headers)


async def post(emulator: Emulator, headers: dict[str, str], body: str = BODY,
               path: str = "/v1/messaging"):
    async with emulator.http.post(emulator.url + path, data=body.encode(),
                                  headers=headers) as response:
        return response.status, await response.json()


def expect(status: int, body: dict, http: int, code: int, description: str) -> None:
    assert status == http, body
    assert_valid("telesign/error", body)
    assert body["status"]["code"] == code
    assert body["status"]["description"] == description


# -- the official SDK's own test vectors (key, date, nonce and bodies from its tests) -----------
SDK_KEY = "EXAMPLE----TE8sTgg45yusumoN6BYsBVkh+yRJ5czgsnCehZaOYldPJdmFh6NeX8kunZ2zU1YWaUw/0wV6xfw=="
SDK_DATE = "Wed, 14 Dec 2016 18:20:12 GMT"
SDK_NONCE = "A1592C6F-E384-4CDB-BC42-C3AB970369E9"


@pytest.mark.parametrize(("method", "body", "expected"), [
    ("POST", b"test=param", "2xVlmbrxLjYrrPun3G3WMNG6Jon4yKcTeOoK9DjXJ/Q="),
    ("POST", b"test=%CF%BF", "h8d4I0RTxErbxYXuzCOtNqb/f0w3Ck8e5SEkGNj01+8="),
    ("GET", b"", "aUm7I+9GKl3ww7PNeeJntCT0iS7b+EmRKEE4LnRzChQ="),
])
def test_string_to_sign_matches_the_sdk_test_vectors(method: str, body: bytes,
                                                     expected: str) -> None:
    content_type = FORM if method == "POST" else ""
    message = signing.string_to_sign(method=method, content_type=content_type, date=SDK_DATE,
                                      auth_method="HMAC-SHA256", nonce=SDK_NONCE, x_ts_date=None,
                                      body=body, resource="/v1/resource")
    assert signing.sign(signing.decode_api_key(SDK_KEY), message) == expected


def test_callback_signature_matches_the_sdk_test_vector() -> None:
    assert signing.callback_signature(SDK_KEY, b"{'test': 123}") == \
        "B97g3N9lPdVaptvifxRau7bzVAC5hhRBZ6HKXABN744="


# -- 401s ------------------------------------------------------------------------------------
async def test_wrong_key_gets_10008_with_the_servers_signature_string(emulator: Emulator) -> None:
    wrong_key = base64.b64encode(b"not the configured key").decode()
    client = emulator.sdk(api_key=wrong_key)
    response = await in_thread(client.message, "15551234567", "Hello", "ARN")
    expect(response.status_code, response.json, 401, 10008, "Invalid Signature.")
    signature_string = response.json["signature_string"]
    lines = signature_string.split("\n")
    assert lines[0] == "POST"
    assert lines[1] == FORM
    assert lines[3] == "x-ts-auth-method:HMAC-SHA256"
    assert lines[4].startswith("x-ts-nonce:")
    assert lines[5] == "phone_number=15551234567&message=Hello&message_type=ARN"
    assert lines[6] == "/v1/messaging"
    # the string is the one the right key would have signed: a user can diff it against theirs
    good = signing.sign(signing.decode_api_key(API_KEY), signature_string.encode())
    assert len(good) == 44


async def test_replayed_nonce_gets_10002(emulator: Emulator) -> None:
    headers = signed_headers(nonce="fixed-nonce-1")
    status, body = await post(emulator, headers)
    assert status == 200, body
    status, body = await post(emulator, headers)
    expect(status, body, 401, 10002, "'x-ts-nonce' header value has been used recently")


async def test_a_nonce_is_kept_while_its_date_is_in_the_skew_window(emulator: Emulator) -> None:
    # a window of 0 s used to forget a nonce the instant after its first use, while the Date
    # check still let the very same request through for another 900 s
    await emulator.patch_config({"telesign": {"auth": {"nonce_window_seconds": 0}}})
    headers = signed_headers(nonce="fixed-nonce-2")
    assert (await post(emulator, headers))[0] == 200
    status, body = await post(emulator, headers)
    expect(status, body, 401, 10002, "'x-ts-nonce' header value has been used recently")
    # a request dated ahead (within the skew) is remembered at least until that Date + skew
    await emulator.patch_config({"telesign": {"auth": {"nonce_window_seconds": 20,
                                                       "date_skew_seconds": 20}}})
    ahead = signed_headers(nonce="fixed-nonce-3", date=formatdate(time.time() + 19, usegmt=True))
    assert (await post(emulator, ahead))[0] == 200
    expect(*(await post(emulator, ahead)), 401, 10002,
           "'x-ts-nonce' header value has been used recently")


def test_the_nonce_cache_forgets_a_nonce_once_its_date_leaves_the_skew_window() -> None:
    # the case, on explicit wall-clock times: skew = window = 20 s, a request dated
    # 19 s ahead first seen at t = 1000 is kept until 1000 + 19 + 20, not 1000 + 20
    cache = NonceCache()
    cache.add("n", max(1000 + 20, 1000 + 19 + 20))
    assert cache.seen("n", 1021.5)  # the replay that used to get 200
    assert cache.seen("n", 1039)
    assert not cache.seen("n", 1039.5)  # by now its Date is 20.5 s off: 10004 anyway
    assert len(cache) == 0


def test_the_nonce_cache_is_bounded_and_forgets_the_soonest_to_expire_first() -> None:
    cache = NonceCache(limit=3)
    for nonce, until in [("a", 50.0), ("b", 10.0), ("c", 30.0), ("d", 40.0)]:
        cache.add(nonce, until)
    assert len(cache) == 3 and cache.evicted == 1
    assert not cache.seen("b", 0) and all(cache.seen(n, 0) for n in "acd")
    cache.add("e", 60.0)
    assert not cache.seen("c", 0) and cache.evicted == 2
    assert [n for n in "ade" if cache.seen(n, 45)] == ["a", "e"]


async def test_date_an_hour_off_gets_10004(emulator: Emulator) -> None:
    import time

    status, body = await post(emulator, signed_headers(date=formatdate(time.time() - 3600,
                                                                      usegmt=True)))
    expect(status, body, 401, 10004, "'Date' or 'x-ts-date' header is not within tolerable range")
    status, body = await post(emulator, signed_headers(date=formatdate(time.time() + 3600,
                                                                      usegmt=True)))
    assert body["status"]["code"] == 10004


async def test_date_skew_is_a_setting(emulator: Emulator) -> None:
    import time

    await emulator.patch_config({"telesign": {"auth": {"date_skew_seconds": 7200}}})
    status, body = await post(emulator, signed_headers(date=formatdate(time.time() - 3600,
                                                                      usegmt=True)))
    assert status == 200, body


async def test_skew_is_measured_on_the_wall_clock_not_the_emulated_one(emulator: Emulator) -> None:
    await emulator.advance(3 * 86400)
    status, body = await post(emulator, signed_headers())
    assert status == 200, body


@pytest.mark.parametrize(("mutate", "code", "description"), [
    (lambda h: h.pop("Authorization"), 10009, "Missing required 'Authorization' header"),
    (lambda h: h.update(Authorization="Bearer abc"), 10028,
     "Required 'Authorization' header is not in the correct format"),
    (lambda h: h.update(Authorization="TSA no-colon-here"), 10028,
     "Required 'Authorization' header is not in the correct format"),
    (lambda h: h.update(Authorization="Basic !!!notbase64"), 10028,
     "Required 'Authorization' header is not in the correct format"),
    (lambda h: h.update(Authorization="TSA 00000000-0000-0000-0000-000000000000:abc"), 10015,
     "Invalid Customer ID."),
    (lambda h: h.update({"x-ts-auth-method": "HMAC-MD5"}), 10006,
     "Invalid 'x-ts-auth-method' header."),
    (lambda h: h.pop("x-ts-auth-method"), 10006, "Invalid 'x-ts-auth-method' header."),
    (lambda h: h.pop("Date"), 10007, "Missing required 'Date' or 'x-ts-date' header"),
    (lambda h: h.update(Date="yesterday at noon"), 10005,
     "'Date' or 'x-ts-date' header is not RFC822 compliant"),
    (lambda h: h.update({"x-ts-nonce": "n" * 65}), 10003,
     "'x-ts-nonce' header value is either too long or too short"),
    (lambda h: h.update({"x-ts-nonce": ""}), 10003,
     "'x-ts-nonce' header value is either too long or too short"),
])
async def test_each_documented_401(emulator: Emulator, mutate, code: int,
                                   description: str) -> None:
    headers = signed_headers()
    mutate(headers)
    status, body = await post(emulator, headers)
    expect(status, body, 401, code, description)


async def test_basic_with_a_wrong_key_gets_10022(emulator: Emulator) -> None:
    token = base64.b64encode(f"{CUSTOMER_ID}:wrong".encode()).decode()
    status, body = await post(emulator, {"Authorization": f"Basic {token}",
                                         "Content-Type": FORM})
    expect(status, body, 401, 10022, "Invalid API Key.")


async def test_basic_without_date_or_nonce_is_accepted(emulator: Emulator) -> None:
    """The Java SDK sends only Authorization with Basic."""
    token = base64.b64encode(f"{CUSTOMER_ID}:{API_KEY}".encode()).decode()
    status, body = await post(emulator, {"Authorization": f"Basic {token}",
                                         "Content-Type": FORM})
    assert status == 200, body


async def test_signature_is_checked_over_the_raw_body(emulator: Emulator) -> None:
    """The official sample posts a literal space; re-encoding the form would break it."""
    raw = "phone_number=15551234567&message=Hello world&message_type=ARN"
    status, body = await post(emulator, signed_headers(body=raw), body=raw)
    assert status == 200, body
    assert (await emulator.message(body["reference_id"]))["text"] == "Hello world"

    tampered = raw.replace("Hello", "Hallo")
    status, body = await post(emulator, signed_headers(body=raw), body=tampered)
    assert body["status"]["code"] == 10008


async def test_x_ts_date_variants_are_accepted(emulator: Emulator) -> None:
    key = signing.decode_api_key(API_KEY)
    date = formatdate(usegmt=True)
    for date_line in ("", date):  # legacy SDKs leave the Date line blank; the sample keeps it
        nonce = str(uuid.uuid4())
        to_sign = signing.string_to_sign(method="POST", content_type=FORM, date=date_line,
                                          auth_method="HMAC-SHA256", nonce=nonce, x_ts_date=date,
                                          body=BODY.encode(), resource="/v1/messaging")
        headers = {"Authorization": f"TSA {CUSTOMER_ID}:{signing.sign(key, to_sign)}",
                   "Content-Type": FORM, "x-ts-auth-method": "HMAC-SHA256",
                   "x-ts-date": date, "x-ts-nonce": nonce}
        if date_line:
            headers["Date"] = date
        status, body = await post(emulator, headers)
        assert status == 200, body


async def test_hmac_sha1_and_no_nonce_are_accepted(emulator: Emulator) -> None:
    key = signing.decode_api_key(API_KEY)
    date = formatdate(usegmt=True)
    to_sign = signing.string_to_sign(method="POST", content_type=FORM, date=date,
                                      auth_method="HMAC-SHA1", nonce=None, x_ts_date=None,
                                      body=BODY.encode(), resource="/v1/messaging")
    headers = {"Authorization": f"TSA {CUSTOMER_ID}:{signing.sign(key, to_sign, 'HMAC-SHA1')}",
               "Content-Type": FORM, "x-ts-auth-method": "HMAC-SHA1", "Date": date}
    status, body = await post(emulator, headers)
    assert status == 200, body


async def test_status_lookup_is_authenticated_too(emulator: Emulator) -> None:
    sent = await in_thread(emulator.sdk().message, "15551234567", "Hi", "OTP")
    reference_id = sent.json["reference_id"]
    async with emulator.http.get(f"{emulator.url}/v1/messaging/{reference_id}") as response:
        body = await response.json()
        expect(response.status, body, 401, 10009, "Missing required 'Authorization' header")
    wrong = emulator.sdk(api_key=base64.b64encode(b"other").decode())
    response = await in_thread(wrong.status, reference_id)
    expect(response.status_code, response.json, 401, 10008, "Invalid Signature.")
    assert response.json["signature_string"].split("\n")[1] == ""  # GET: empty Content-Type


async def test_configured_credentials_replace_the_defaults(emulator: Emulator) -> None:
    new_key = base64.b64encode(b"a brand new key for this account").decode()
    await emulator.patch_config({"telesign": {"customer_id": "11111111-2222-3333-4444-555555555555",
                                              "api_key": new_key}})
    old = await in_thread(emulator.sdk().message, "15551234567", "Hi", "OTP")
    assert old.json["status"]["code"] == 10015
    new = emulator.sdk(customer_id="11111111-2222-3333-4444-555555555555", api_key=new_key)
    response = await in_thread(new.message, "15551234567", "Hi", "OTP")
    assert response.status_code == 200, response.body
