"""The /_emulator control API: every path of the DESIGN.md contract."""

from __future__ import annotations

import pytest
from aiohttp import ClientSession

from emulator import __version__
from emulator.app import build_app
from emulator.config import Settings
from tests.conftest import Emulator, Receiver, in_thread


async def send(emulator: Emulator, number: str = "15551234567", **params) -> str:
    response = await in_thread(emulator.sdk().message, number, "Hello", "ARN", **params)
    assert response.status_code == 200, response.body
    return response.json["reference_id"]


async def test_health(emulator: Emulator) -> None:
    status, body = await emulator.control("GET", "/health")
    assert status == 200
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert "telesign" in body["providers"]


async def test_messages_newest_first_with_filters(emulator: Emulator) -> None:
    first = await send(emulator, "15551234567")
    second = await send(emulator, "447700900123", sender_id="ACME")
    status, body = await emulator.control("GET", "/messages")
    assert status == 200
    assert [m["id"] for m in body["messages"]] == [second, first]

    for params, expected in [
        ({"to": "15551234567"}, [first]),
        ({"from": "ACME"}, [second]),
        ({"provider": "telesign", "direction": "outbound"}, [second, first]),
        ({"direction": "inbound"}, []),
        ({"provider": "tsg"}, []),
    ]:
        status, body = await emulator.control("GET", "/messages", params=params)
        assert [m["id"] for m in body["messages"]] == expected, params

    status, body = await emulator.control("GET", "/messages", params={"direction": "sideways"})
    assert status == 400 and body["field"] == "direction"


async def test_one_message_with_history_and_deliveries(
        emulator: Emulator, receiver: Receiver) -> None:
    reference_id = await send(emulator, callback_url=receiver.url())
    await emulator.advance(10)
    message = await emulator.message(reference_id)
    assert message["provider"] == "telesign"
    assert message["direction"] == "outbound"
    assert message["status"] == 200 and message["final"] is True
    assert [h["status"] for h in message["history"]] == [290, 203, 200]
    assert [d["state"] for d in message["deliveries"]] == ["delivered"]

    status, body = await emulator.control("GET", "/messages/NOPE")
    assert status == 404 and body["field"] == "id"


async def test_deliveries_filter_and_single_delivery(
        emulator: Emulator, receiver: Receiver) -> None:
    receiver.answers = [200, 500]
    await send(emulator, callback_url=receiver.url("/ok"))
    await emulator.advance(5)
    await send(emulator, callback_url=receiver.url("/bad"))
    await emulator.advance(5)
    assert [d["url"] for d in await emulator.deliveries(state="delivered")] == [receiver.url("/ok")]
    [retrying] = await emulator.deliveries(state="retrying")
    assert retrying["url"] == receiver.url("/bad")
    assert retrying["next_attempt_at"] is not None
    status, one = await emulator.control("GET", f"/deliveries/{retrying['id']}")
    assert status == 200 and one["id"] == retrying["id"]
    assert (await emulator.control("GET", "/deliveries/D999999"))[0] == 404


async def test_clock_and_advance(emulator: Emulator) -> None:
    status, body = await emulator.control("GET", "/clock")
    assert status == 200
    assert body["mode"] == "manual"
    assert body["now"] == "2026-01-01T00:00:00.000000Z"
    await send(emulator)
    body = await emulator.advance(2.5)
    assert body["now"] == "2026-01-01T00:00:02.500000Z"
    assert body["jobs_run"] == 1
    assert body["pending_jobs"] == 1


@pytest.mark.parametrize("payload", [{}, {"seconds": "ten"}, {"seconds": -1}, {"seconds": True},
                                     {"seconds": 1e12}])
async def test_advance_refuses_bad_seconds(emulator: Emulator, payload) -> None:
    status, body = await emulator.control("POST", "/clock/advance", json=payload)
    assert status == 400
    assert body["field"] == "seconds"


async def test_advance_refuses_bad_json(emulator: Emulator) -> None:
    status, body = await emulator.control("POST", "/clock/advance", data=b"{not json",
                                          headers={"Content-Type": "application/json"})
    assert status == 400 and "not valid JSON" in body["error"]
    status, body = await emulator.control("POST", "/clock/advance", json=[1, 2])
    assert status == 400 and "JSON object" in body["error"]


async def test_advance_is_refused_with_409_on_a_real_clock(aiohttp_server) -> None:
    server = await aiohttp_server(build_app(Settings(clock="real")))
    async with ClientSession() as http:
        async with http.post(str(server.make_url("/_emulator/clock/advance")),
                             json={"seconds": 5}) as response:
            body = await response.json()
            assert response.status == 409
            assert "manual" in body["error"]
        async with http.get(str(server.make_url("/_emulator/clock"))) as response:
            assert (await response.json())["mode"] == "real"


async def test_config_get_and_deep_merge_patch(emulator: Emulator) -> None:
    status, config = await emulator.control("GET", "/config")
    assert status == 200
    assert config["telesign"]["auth"]["date_skew_seconds"] == 900
    assert config["webhooks"]["timeout_seconds"] == 10
    updated = await emulator.patch_config({"telesign": {"auth": {"date_skew_seconds": 60}}})
    assert updated["telesign"]["auth"] == {"date_skew_seconds": 60, "nonce_window_seconds": 900}
    assert updated["telesign"]["customer_id"] == config["telesign"]["customer_id"]


@pytest.mark.parametrize(("patch", "field"), [
    ({"telesign": {"callback_url": "ftp://x"}}, "telesign.callback_url"),
    ({"telesign": {"auth": {"date_skew_seconds": "soon"}}}, "telesign.auth.date_skew_seconds"),
    ({"telesign": {"api_key": "%%%%"}}, "telesign.api_key"),
    ({"telesign": {"surprise": 1}}, "telesign.surprise"),
    ({"webhooks": {"timeout_seconds": 0}}, "webhooks.timeout_seconds"),
    ({"nonsense": {}}, "nonsense"),
])
async def test_bad_config_is_refused_naming_the_field(emulator: Emulator, patch, field) -> None:
    status, body = await emulator.control("PATCH", "/config", json=patch)
    assert status == 400, body
    assert body["field"] == field, body


async def test_reset_empties_state_and_keeps_config(
        emulator: Emulator, receiver: Receiver) -> None:
    await emulator.patch_config({"telesign": {"callback_url": receiver.url()}})
    await send(emulator)
    await emulator.advance(10)
    status, body = await emulator.control("POST", "/reset")
    assert status == 200
    assert (await emulator.control("GET", "/messages"))[1]["messages"] == []
    assert await emulator.deliveries() == []
    assert body["pending_jobs"] == 0
    status, config = await emulator.control("GET", "/config")
    assert config["telesign"]["callback_url"] == receiver.url()


async def test_reset_cancels_pending_lifecycle_steps(emulator: Emulator) -> None:
    await send(emulator)
    await emulator.control("POST", "/reset")
    body = await emulator.advance(60)
    assert body["jobs_run"] == 0


async def test_journal_records_requests_and_status_changes(emulator: Emulator) -> None:
    reference_id = await send(emulator)
    await emulator.advance(10)
    status, body = await emulator.control("GET", "/journal", params={"provider": "telesign"})
    assert status == 200
    kinds = [e["kind"] for e in body["entries"]]
    assert kinds[:2] == ["message_created", "request"]
    changes = [e for e in body["entries"] if e["kind"] == "status_change"]
    assert [(c["message_id"], c["status"]) for c in changes] == [(reference_id, 203),
                                                                  (reference_id, 200)]
    since = body["entries"][-1]["seq"]
    status, body = await emulator.control("GET", "/journal", params={"since": str(since)})
    assert body["entries"] == []
    status, body = await emulator.control("GET", "/journal", params={"since": "x"})
    assert status == 400 and body["field"] == "since"


@pytest.mark.parametrize(("payload", "field"), [
    ({}, "provider"),
    ({"provider": "carrier-pigeon"}, "provider"),
])
async def test_inbound_refuses_an_unknown_provider(emulator: Emulator, payload, field) -> None:
    status, body = await emulator.control("POST", "/inbound", json=payload)
    assert status == 400
    assert body["field"] == field


async def test_unknown_control_path_is_a_json_404(emulator: Emulator) -> None:
    status, body = await emulator.control("GET", "/nothing")
    assert status == 404
    assert "error" in body


async def test_every_provider_api_call_is_journaled_with_its_answer(emulator: Emulator) -> None:
    reference_id = await send(emulator, external_id="order-7")
    async with emulator.http.get(emulator.url + "/v1/nothing") as response:
        assert response.status == 404
    _status, body = await emulator.control("GET", "/journal", params={"kind": "api_call"})
    sent, missing = body["entries"]
    assert (sent["provider"], sent["method"], sent["path"]) == ("telesign", "POST",
                                                               "/v1/messaging")
    assert sent["content_type"] == "application/x-www-form-urlencoded"
    assert "external_id=order-7" in sent["body"]
    assert sent["status"] == 200
    assert f'"reference_id": "{reference_id}"' in sent["response"]
    assert (missing["path"], missing["status"]) == ("/v1/nothing", 404)
    _, body = await emulator.control("GET", "/journal", params={"kind": "api_call",
                                                                      "provider": "nobody"})
    assert body["entries"] == []


async def test_the_clock_says_when_the_next_job_falls_due(emulator: Emulator) -> None:
    _status, body = await emulator.control("GET", "/clock")
    assert body["next_due"] is None
    await send(emulator)
    _, body = await emulator.control("GET", "/clock")
    assert body["next_due"] == "2026-01-01T00:00:02.000000Z"  # 203 two seconds after the POST


async def test_reset_can_restart_from_another_seed_and_time(emulator: Emulator) -> None:
    await emulator.advance(3600)
    first = await send(emulator)
    status, body = await emulator.control("POST", "/reset",
                                          json={"seed": 99, "now": "2030-06-01T12:00:00Z"})
    assert status == 200, body
    assert (body["seed"], body["now"]) == (99, "2030-06-01T12:00:00.000000Z")
    again = await send(emulator)
    await emulator.control("POST", "/reset", json={"seed": 99, "now": "2030-06-01T12:00:00Z"})
    assert await send(emulator) == again != first
    message = await emulator.message(again)
    assert message["created_at"] == "2030-06-01T12:00:00.000000Z"


@pytest.mark.parametrize(("payload", "field"), [
    ({"seed": -1}, "seed"), ({"seed": "7"}, "seed"), ({"now": "tomorrow"}, "now"),
    ({"now": "2030-06-01T12:00:00"}, "now"), ({"colour": 1}, "colour"),
])
async def test_reset_refuses_bad_fields(emulator: Emulator, payload, field) -> None:
    status, body = await emulator.control("POST", "/reset", json=payload)
    assert status == 400
    assert body["field"] == field


async def test_messages_say_who_made_them(emulator: Emulator) -> None:
    await send(emulator, "14155550123")
    _status, body = await emulator.control("POST", "/inbound", json={
        "provider": "telesign", "from": "14155550123", "to": "4442", "text": "HELP"})
    _, body = await emulator.control("GET", "/messages")
    assert [(m["direction"], m["origin"]) for m in body["messages"]] == [
        ("outbound", "provider"), ("inbound", "end_user"), ("outbound", "api")]
    _, body = await emulator.control("GET", "/messages", params={"origin": "provider"})
    assert [m["origin"] for m in body["messages"]] == ["provider"]
    _, body = await emulator.control("GET", "/messages", params={"channel": "whatsapp"})
    assert body["messages"] == []


async def test_put_config_replaces_the_whole_document_over_the_defaults(
        emulator: Emulator) -> None:
    await emulator.patch_config({"telesign": {"mo_callback_urls": {"sms": "http://127.0.0.1:1/a"},
                                              "callback_url": "http://127.0.0.1:1/b"}})
    status, body = await emulator.control("PUT", "/config", json={
        "telesign": {"mo_callback_urls": {"rcs": "http://127.0.0.1:1/c"}}})
    assert status == 200, body
    assert body["telesign"]["mo_callback_urls"] == {"rcs": "http://127.0.0.1:1/c"}
    assert body["telesign"]["callback_url"] is None  # back to its default
    status, body = await emulator.control("PUT", "/config", json={"telesign": {"api_key": 7}})
    assert status == 400
    assert body["field"] == "telesign.api_key"
    _, config = await emulator.control("GET", "/config")
    assert config["telesign"]["mo_callback_urls"] == {"rcs": "http://127.0.0.1:1/c"}


async def test_since_shows_only_what_came_after_a_cursor(
        emulator: Emulator, receiver: Receiver) -> None:
    await emulator.patch_config({"telesign": {"callback_url": receiver.url()}})
    await send(emulator, "15551230001")
    await emulator.advance(10)
    _, clock = await emulator.control("GET", "/clock")
    cursor = clock["cursor"]
    assert cursor["messages"] == 1 and cursor["deliveries"] == 1 and cursor["journal"] > 0
    later = await send(emulator, "15551230002")
    await emulator.advance(10)
    _, body = await emulator.control("GET", "/messages", params={"since": cursor["messages"]})
    assert [m["id"] for m in body["messages"]] == [later]
    _, body = await emulator.control("GET", "/deliveries",
                                     params={"since": cursor["deliveries"]})
    assert [d["message_id"] for d in body["deliveries"]] == [later]
    _, body = await emulator.control("GET", "/journal", params={"since": cursor["journal"]})
    assert body["entries"][0]["seq"] == cursor["journal"] + 1
    status, body = await emulator.control("GET", "/messages", params={"since": "-1"})
    assert status == 400 and body["field"] == "since"


async def test_a_deeply_nested_body_is_a_400_not_a_500(emulator: Emulator) -> None:
    for path in ("/inbound", "/config", "/clock/advance", "/reset"):
        method = "PATCH" if path == "/config" else "POST"
        status, body = await emulator.control(method, path, data=b"[" * 100_000,
                                              headers={"Content-Type": "application/json"})
        assert status == 400, (path, body)
        assert "nested too deeply" in body["error"]
