"""The fuzzer against real handlers over loopback HTTP: a correct one passes clean, a crashing one
is caught and shrunk with a reproduction that fails, a trusting one is caught accepting forgeries.

The handlers run on the test's event loop (pytest-aiohttp); :func:`fuzz_async` runs the
fuzzer in a worker thread, so the loop keeps serving them.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import pytest
import yaml
from aiohttp import ClientSession, web

from emulator.fuzz import UsageError, fuzz, fuzz_async
from emulator.fuzz.findings import ACCEPTED_FORGERY, CONNECTION_FAILURE, SERVER_ERROR, TIMEOUT
from tests.conftest import API_KEY, CUSTOMER_ID, assert_valid
from tests.fuzz_handlers import TSG_KEY, correct_handler, crashing_handler, trusting_handler

SEED = 20260101


@pytest.fixture
def serve(aiohttp_server):
    """Serve a handler; its base URL (Telesign's webhooks go to /telesign/..., TSG's to
    /tsg/...)."""
    async def start(app: web.Application) -> str:
        server = await aiohttp_server(app)
        return str(server.make_url("")).rstrip("/")
    return start


async def replay_red(scenario_text: str) -> list[int]:
    """Re-send a reproduction scenario's requests; assert the last one still fails."""
    document = yaml.safe_load(scenario_text)
    assert document["name"].startswith("fuzz: ")
    assert_valid("replay/scenario", document)
    statuses = []
    async with ClientSession() as http:
        for step in document["steps"]:
            spec = step["request"]
            async with http.request(spec["method"], spec["url"], headers=spec["headers"],
                                    data=spec["body"].encode("utf-8")) as answer:
                statuses.append(answer.status)
    expected = document["steps"][-1]["request"]["status"]
    assert statuses[-1] not in (expected if isinstance(expected, list) else [expected])
    return statuses


async def test_a_correct_handler_passes_clean(serve) -> None:
    app, store = correct_handler(CUSTOMER_ID, API_KEY)
    base = await serve(app)
    result = await fuzz_async(f"{base}/telesign/callback", "telesign", examples=10, seed=SEED)
    assert result.ok, result.text()
    assert result.stopped == "completed"
    assert [k.kind for k in result.kinds] == [
        "telesign.delivery_report", "telesign.mo_sms", "telesign.mo_email", "telesign.mo_mms",
        "telesign.mo_rcs", "telesign.mo_viber", "telesign.mo_whatsapp"]
    assert all(k.completed and k.examples == 10 and k.sweep > 5 for k in result.kinds)
    total = sum(k.requests for k in result.kinds)
    assert len(store.bodies) == total
    # it was sent what breaks handlers: forgeries (refused), duplicates, unicode, 1600 characters
    assert any(body == store.bodies[i - 1] for i, body in enumerate(store.bodies) if i)
    texts = [json.loads(b).get("user_response", {}).get("mo_message", "") for b in store.bodies]
    assert any(not t.isascii() for t in texts) and any(len(t) == 1600 for t in texts)
    report = result.report()
    assert_valid("fuzz/report", report)
    assert report["totals"]["requests"] == total and report["findings"] == []

    tsg = await fuzz_async(f"{base}/tsg/webhook", ["tsg"], examples=10, seed=SEED,
                           credentials={"tsg.x_api_key": TSG_KEY})
    assert tsg.ok, tsg.text()
    assert [k.kind for k in tsg.kinds] == ["tsg.sms", "tsg.sms_dlr"]
    assert any(len(text) > 160 for text in store.inbound.values())  # sent as UDH parts
    receipts = [json.loads(b) for b in store.bodies if b"sms_dlr" in b]
    assert {r["delivery_status"] for r in receipts} == {  # every one, thanks to the sweep
        "delivered", "expired", "deleted", "undelivered", "accepted", "unknown", "rejected",
        "failed", "enroute", "skipped"}


async def test_tsg_without_an_api_key_gets_no_forgeries(serve) -> None:
    app, store = trusting_handler()
    result = await fuzz_async(f"{await serve(app)}/tsg/webhook", ["tsg.sms"], examples=15,
                              seed=SEED)
    assert result.ok and result.kinds[0].note.startswith("no forgery probes")
    assert store.bodies  # and TSG sends no key when the number has none: nothing to forge


@pytest.mark.parametrize("bug", ["non_ascii", "missing_price"])
async def test_a_crash_is_found_shrunk_and_its_reproduction_fails(serve, bug: str) -> None:
    app, _ = crashing_handler(CUSTOMER_ID, API_KEY, bug)
    url = f"{await serve(app)}/telesign/callback"
    result = await fuzz_async(url, ["telesign.mo_sms"], examples=60, seed=SEED)
    [finding] = result.findings
    assert (finding.cls, finding.kind, finding.source) == (SERVER_ERROR, "telesign.mo_sms",
                                                           "hypothesis")
    assert finding.shrunk and not finding.flaky and finding.response.status == 500
    user = finding.payload["user_response"]
    if bug == "non_ascii":  # one character, the smallest that is not ASCII
        assert len(user["mo_message"]) == 1 and not user["mo_message"].isascii()
    else:  # the optional field is absent, and everything else is as small as it gets
        assert user["mo_message"] == ""
    assert "price" not in user
    assert finding.request.body == json.dumps(finding.payload, ensure_ascii=False,
                                              separators=(", ", ": ")).encode("utf-8")

    report = result.report()
    assert_valid("fuzz/report", report)
    [entry] = report["findings"]
    assert entry["class"] == "server_error" and entry["curl"].startswith("curl ")
    assert await replay_red(entry["scenario"]) == [500]
    assert not result.ok
    with pytest.raises(AssertionError, match=r"server error on telesign\.mo_sms"):
        result.assert_clean()


async def test_a_handler_that_skips_signature_checks_accepts_forgeries(serve) -> None:
    app, _ = trusting_handler()
    base = await serve(app)
    result = await fuzz_async(f"{base}/telesign/callback", ["telesign.delivery_report",
                                                           "mo_sms"], examples=20, seed=SEED,
                              sweep=False)
    assert {(f.cls, f.kind) for f in result.findings} == {
        (ACCEPTED_FORGERY, "telesign.delivery_report"), (ACCEPTED_FORGERY, "telesign.mo_sms")}
    for finding in result.findings:
        assert finding.probe in ("missing_signature", "malformed_signature", "stale_signature",
                                 "forged_signature")
        assert finding.request.forged and finding.response.status == 200
        assert finding.expected == [[400, 401, 403]]
        assert await replay_red(finding_scenario(result, finding)) == [200]

    tsg = await fuzz_async(f"{base}/tsg/webhook", ["tsg.sms_dlr"], examples=20, seed=SEED,
                           credentials={"tsg.x_api_key": TSG_KEY}, sweep=False)
    [finding] = tsg.findings
    assert finding.cls == ACCEPTED_FORGERY and finding.probe in ("missing_api_key",
                                                                 "empty_api_key", "wrong_api_key")
    assert finding.request.headers.get("x-api-key", "") != TSG_KEY


def finding_scenario(result: Any, finding: Any) -> str:
    [entry] = [f for f in result.report()["findings"] if f["kind"] == finding.kind]
    return entry["scenario"]


async def test_the_same_seed_sends_the_same_payloads(serve) -> None:
    bodies = []
    digests = []
    for run_seed in (7, 7, 8):
        app, store = correct_handler(CUSTOMER_ID, API_KEY)
        result = await fuzz_async(f"{await serve(app)}/telesign/callback", ["mo_sms"],
                                  examples=25, seed=run_seed, sweep=False)
        bodies.append(store.bodies)
        digests.append(result.kinds[0].sequence_sha256)
    assert bodies[0] == bodies[1] and digests[0] == digests[1]
    assert bodies[0] != bodies[2] and digests[0] != digests[2]


async def test_two_hundred_examples_take_seconds(serve) -> None:
    app, store = correct_handler(CUSTOMER_ID, API_KEY)
    started = time.monotonic()
    result = await fuzz_async(f"{await serve(app)}/telesign/callback", ["telesign.mo_sms"],
                              examples=200, seed=SEED, sweep=False)
    elapsed = time.monotonic() - started
    assert result.ok and result.kinds[0].examples == 200
    assert len(store.bodies) >= 200
    assert elapsed < 30, f"200 examples took {elapsed:.1f} s"


async def test_the_time_budget_stops_the_traffic(serve) -> None:
    app, store = correct_handler(CUSTOMER_ID, API_KEY)
    started = time.monotonic()
    result = await fuzz_async(f"{await serve(app)}/telesign/callback", "telesign",
                              examples=1_000_000, seed=SEED, max_time=0.5)
    elapsed = time.monotonic() - started
    sent = len(store.bodies)
    await asyncio.sleep(0)  # let the loop serve anything still in flight
    assert len(store.bodies) == sent
    assert elapsed < 5, elapsed  # loose: a 2-core CI machine is shared; the point is it stops
    assert result.stopped == "time_budget" and result.ok
    assert result.kinds[0].note == "stopped by the time budget"
    assert result.kinds[-1].note == "not run: the time budget ran out"
    assert sum(k.requests for k in result.kinds) == sent
    assert_valid("fuzz/report", result.report())


async def test_a_handler_that_hangs_is_a_timeout_and_the_budget_still_holds(serve) -> None:
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await release.wait()  # released at the end of the test
        return web.Response(text="late")

    app = web.Application()
    app.router.add_post("/{tail:.*}", hang)
    url = f"{await serve(app)}/hook"
    try:
        result = await fuzz_async(url, ["telesign.mo_email"], examples=5, seed=SEED,
                                  timeout=0.02, sweep=False, max_time=10)
        [finding] = result.findings
        assert finding.cls == TIMEOUT and finding.shrunk
        assert finding.response.error == "timeout: no answer within 0.02 s"
        assert "timeout: 0." in finding_scenario(result, finding)

        started = time.monotonic()  # a per-request timeout longer than the budget is cut short
        result = await fuzz_async(url, ["telesign.mo_email"], examples=5, seed=SEED,
                                  timeout=30, max_time=0.3)
        assert time.monotonic() - started < 5  # loose, as above: 30 s would fail it
        assert result.stopped == "time_budget" and result.findings == []
    finally:
        release.set()


async def test_a_target_that_refuses_connections_is_reported(unused_tcp_port: int) -> None:
    result = await fuzz_async(f"http://127.0.0.1:{unused_tcp_port}/cb", ["mo_email"],
                              examples=5, seed=SEED)
    [finding] = result.findings
    assert finding.cls == CONNECTION_FAILURE and finding.response.status is None
    assert finding.response.error.startswith("connection failed: ")
    assert_valid("fuzz/report", result.report())


@pytest.mark.parametrize(("target", "options", "message"), [
    ("http://203.0.113.7/cb", {}, "is not a loopback address"),
    ("http://example.com/cb", {}, "pass --allow-remote"),
    ("ftp://127.0.0.1/cb", {}, "must be an http:// or https:// URL"),
    ("http://127.0.0.1:99999/cb", {}, "is not a valid URL"),
    ("http://127.0.0.1/cb", {"kinds": ["telesign.mo_fax"]}, "unknown kind 'telesign.mo_fax'"),
    ("http://127.0.0.1/cb", {"credentials": {"telesign.api_key": "***"}},
     "credential telesign.api_key: must be base64"),
    ("http://127.0.0.1/cb", {"credentials": {"telesign.secret": "x"}},
     "unknown credential 'telesign.secret'"),
    ("http://127.0.0.1/cb", {"examples": 0}, "examples must be"),
    ("http://127.0.0.1/cb", {"expect": [42]}, "42 is not an HTTP status"),
])
def test_bad_input_is_refused_before_any_traffic(target: str, options: dict[str, Any],
                                                 message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        fuzz(target, **{"kinds": ["mo_sms"], **options})
