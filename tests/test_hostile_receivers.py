"""The hostile-receiver table, for both providers: a receiver that refuses the connection,
hangs, resets it mid-request, trickles its answer past the timeout, answers 10 MB, redirects
or answers 200 after the timeout. All of them get webhooks in the same run; each delivery ends
``delivered`` or ``exhausted`` with its exact cause, and every delivery document is valid
against its schema."""

from __future__ import annotations

import contextlib
import socket
from typing import Any

import pytest

from emulator.core import logline
from emulator.core.dispatcher import KEPT_ANSWER_BYTES
from tests.conftest import Emulator, in_thread
from tests.hostile import Hostile, MakeHostile, hostile  # noqa: F401  (the fixture)
from tests.tsg_support import send as tsg_send

TIMEOUT = 0.25
TABLE = ("refuse", "hang", "reset", "trickle", "huge", "redirect", "late")


def expected_cause(kind: str, receiver: Hostile, elsewhere: Hostile) -> str | None:
    """How the last attempt to ``receiver`` went; None when the delivery succeeds."""
    return {
        "refuse": f"connection failed: 127.0.0.1:{receiver.port} refused the connection",
        "hang": f"timeout: no answer within {TIMEOUT:g} s",
        "reset": "connection reset by the receiver before it answered",
        "trickle": f"HTTP 200 (timeout: the answer did not end within {TIMEOUT:g} s)",
        "huge": None,
        "redirect": f"HTTP 302 (redirect to {elsewhere.url} not followed)",
        "late": f"timeout: no answer within {TIMEOUT:g} s",
    }[kind]


async def fire_telesign(emulator: Emulator, receivers: dict[str, Hostile]) -> None:
    """A delivery report per receiver: its final status comes at 5 s; 10 s and 30 s later
    the retries."""
    for receiver in receivers.values():
        response = await in_thread(emulator.sdk().message, "15551234567", "Your code is 1234",
                                   "OTP", callback_url=receiver.url)
        assert response.status_code == 200, response.body
    await emulator.advance(5)
    await emulator.advance(60)


async def fire_tsg(emulator: Emulator, receivers: dict[str, Hostile]) -> None:
    """An sms_dlr per receiver (one number each, its webhook pointing there): the receipt comes
    at 3 s, then 17 redeliveries over 2-3 days."""
    dids = {kind: f"1555000{n:04d}" for n, kind in enumerate(receivers)}
    await emulator.patch_config({"tsg": {"numbers": {
        did: {"webhook_url": receivers[kind].url, "x_api_key": None}
        for kind, did in dids.items()}}})
    for did in dids.values():
        await tsg_send(emulator, to=["15551234567"], registered_delivery=1, **{"from": did})
    await emulator.advance(3)
    await emulator.advance(3 * 86400)


PROVIDERS = {"telesign": (fire_telesign, 3), "tsg": (fire_tsg, 18)}


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
async def test_each_hostile_receiver_ends_delivered_or_exhausted_with_its_cause(
        emulator: Emulator, hostile: MakeHostile, provider: str) -> None:  # noqa: F811
    fire, attempts = PROVIDERS[provider]
    await emulator.patch_config({"webhooks": {"timeout_seconds": TIMEOUT}})
    elsewhere = await hostile("ok")
    receivers = {kind: await hostile(kind, late_by=TIMEOUT + 0.25, redirect_to=elsewhere.url)
                 for kind in TABLE}
    await fire(emulator, receivers)

    found: dict[str, dict[str, Any]] = {}
    for kind, receiver in receivers.items():
        [delivery] = await emulator.deliveries(provider=provider, url=receiver.url)
        status, again = await emulator.control("GET", f"/deliveries/{delivery['id']}")
        assert status == 200 and again == delivery  # and valid against control/delivery
        found[kind] = delivery

    def outcome(kind: str) -> tuple[str, str | None]:
        cause = expected_cause(kind, receivers[kind], elsewhere)
        if cause is None:
            return ("delivered", None)
        return ("exhausted", f"{attempts} attempts failed; last: {cause}")

    assert {k: (d["state"], d["reason"]) for k, d in found.items()} == {
        kind: outcome(kind) for kind in TABLE}
    # every attempt failed the same way, and none was held up by the others
    for kind in set(TABLE) - {"huge"}:
        tries = found[kind]["attempts"]
        assert len(tries) == attempts
        cause = expected_cause(kind, receivers[kind], elsewhere)
        assert {(a["status"], a["error"]) for a in tries} == {{
            "trickle": (200, f"timeout: the answer did not end within {TIMEOUT:g} s"),
            "redirect": (302, f"redirect to {elsewhere.url} not followed"),
        }.get(kind, (None, cause))}, kind
        assert all(a["queued_ms"] < TIMEOUT * 1000 for a in tries), (kind, tries)
        assert all(a["response_truncated"] is False for a in tries)

    [huge] = found["huge"]["attempts"]
    assert (huge["status"], huge["error"], huge["response_truncated"]) == (200, None, True)
    assert huge["response_body"] == "x" * KEPT_ANSWER_BYTES  # read to 64 KiB, 4 KiB kept
    assert huge["latency_ms"] < TIMEOUT * 1000  # the other 9 MB were never waited for

    assert found["trickle"]["attempts"][0]["response_body"].strip("x") == ""  # what came
    assert elsewhere.hits == 0  # the redirect was not followed
    for kind in ("hang", "reset", "trickle", "redirect", "late"):
        assert receivers[kind].hits == attempts, kind  # each attempt did reach it
    assert receivers["huge"].hits == 1

    lines = {kind: [logline.event(e) for e in emulator.ctx.journal.entries()
                    if e.kind == "webhook_attempt" and e.detail["attempt"]["url"] == r.url][-1]
             for kind, r in receivers.items()}
    assert f"-> 200 (timeout: the answer did not end within {TIMEOUT:g} s) in " in lines[
        "trickle"]
    assert f"-> 302 (redirect to {elsewhere.url} not followed) in " in lines["redirect"]
    assert lines["huge"].endswith(", delivered")

    status, journal = await emulator.control("GET", "/journal",
                                             params={"kind": "webhook_exhausted"})
    assert status == 200
    assert sorted(e["url"] for e in journal["entries"]) == sorted(
        receivers[kind].url for kind in TABLE if kind != "huge")


async def test_a_receiver_that_never_accepts_is_a_timeout_without_a_connection(
        emulator: Emulator, hostile: MakeHostile) -> None:  # noqa: F811
    """A listening socket whose backlog is full: the kernel drops the SYN, so the connection
    itself never comes; the cause says so, apart from a receiver that connects but is mute."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):  # fill the backlog, never accepted
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        await emulator.patch_config({"webhooks": {"timeout_seconds": 0.2}})
        response = await in_thread(emulator.sdk().message, "15551234567", "Your code is 1234",
                                   "OTP", callback_url=f"http://127.0.0.1:{port}/hook")
        assert response.status_code == 200, response.body
        await emulator.advance(5)
        [delivery] = await emulator.deliveries()
        [attempt] = delivery["attempts"]
        assert (attempt["status"], attempt["error"]) == (None,
                                                         "timeout: no connection within 0.2 s")
        assert attempt["latency_ms"] >= 200 and attempt["queued_ms"] < 200
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
