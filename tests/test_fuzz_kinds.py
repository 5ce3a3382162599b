"""Webhook kinds as the providers describe them: selection by name, credentials, and genuine
and forged headers checked with the official Telesign SDK's verifier."""

from __future__ import annotations

import pytest
from telesign.util import verify_telesign_callback_signature

from emulator.fuzz import UsageError
from emulator.fuzz.http import is_loopback, parse_target
from emulator.fuzz.kinds import credentials_for, select
from emulator.providers.telesign.callbacks import encode
from tests.conftest import API_KEY, CUSTOMER_ID

BODY = encode({"reference_id": "0123456789ABCDEF0123456789ABCDEF", "status": {
    "code": 200, "description": "Delivered to handset",
    "updated_on": "2026-01-01T00:00:05.000000Z"}, "sub_resource": "sms"})
OTHER = encode({"reference_id": "0123456789ABCDEF0123456789ABCDEF"})
CREDENTIALS = {"customer_id": CUSTOMER_ID, "api_key": API_KEY}


def verified(headers: dict[str, str], body: bytes) -> bool:
    """What a correct Telesign handler checks: both headers carry the body's signature."""
    signature = headers.get("X-TS-Authorization", "")
    return (headers.get("Authorization") == f"TSA {CUSTOMER_ID}:{signature}"
            and verify_telesign_callback_signature(API_KEY, signature, body.decode("utf-8")))


def test_kinds_are_chosen_by_name_short_name_provider_or_all() -> None:
    names = [k.name for k in select(["all"])]
    assert names[:2] == ["telesign.delivery_report", "telesign.mo_sms"]
    assert [k.name for k in select(["mo_sms"])] == ["telesign.mo_sms"]
    assert [k.name for k in select(["telesign.mo_rcs, delivery_report"])] == [
        "telesign.delivery_report", "telesign.mo_rcs"]  # provider order, each once
    assert len(select(["telesign"])) == 7
    with pytest.raises(UsageError, match="unknown kind 'sms_mo'"):
        select(["sms_mo"])


def test_credentials_default_to_the_emulators_and_are_checked() -> None:
    kinds = select(["telesign.mo_sms"])
    assert credentials_for(kinds, {}) == {"telesign": CREDENTIALS}
    mine = credentials_for(kinds, {"telesign.customer_id": "C-1"})["telesign"]
    assert mine == {"customer_id": "C-1", "api_key": API_KEY}
    with pytest.raises(UsageError, match=r"telesign\.customer_id: must be non-empty"):
        credentials_for(kinds, {"telesign.customer_id": "a b"})


def test_genuine_headers_verify_and_every_forgery_fails() -> None:
    [kind] = select(["telesign.delivery_report"])
    genuine = kind.headers(BODY, CREDENTIALS, 1_767_225_600.0)
    assert verified(genuine, BODY)
    assert genuine["Date"] == "Thu, 01 Jan 2026 00:00:00 GMT"
    assert genuine["Content-Type"] == "application/json"
    assert set(kind.forgeries) == {"missing_signature", "malformed_signature",
                                   "stale_signature", "forged_signature"}
    for name, forge in kind.forgeries.items():
        headers = forge(BODY, CREDENTIALS, 1_767_225_600.0, OTHER)
        assert not verified(headers, BODY), name
    stale = kind.forgeries["stale_signature"](BODY, CREDENTIALS, 0.0, OTHER)
    assert verified(stale, OTHER)  # a real signature, of another body
    forged = kind.forgeries["forged_signature"](BODY, CREDENTIALS, 0.0, OTHER)
    assert forged["Authorization"].startswith(f"TSA {CUSTOMER_ID}:")
    assert "Authorization" not in kind.forgeries["missing_signature"](BODY, CREDENTIALS, 0, OTHER)


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("localhost", True),
    ("LOCALHOST.", True), ("0.0.0.0", False), ("10.0.0.1", False), ("localhost.example", False),
])
def test_only_loopback_hosts_are_targets_by_default(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    url = f"http://[{host}]:9/cb" if ":" in host else f"http://{host}:9/cb"
    if loopback:
        assert parse_target(url).port == 9
    else:
        with pytest.raises(UsageError, match="not a loopback address"):
            parse_target(url)
        assert parse_target(url, allow_remote=True).host == host.lower()
