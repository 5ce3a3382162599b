"""``GET /_emulator/events``: the journal as server-sent events, read over real HTTP.

Every wait is for bytes from the stream (or the stream's end) with a timeout; nothing sleeps.
The keep-alive and the noticing of a vanished client use a heartbeat of a few hundredths of a
second (``Settings.events_heartbeat_seconds``), so those tests take that long in real time.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientResponse, ClientSession

from emulator.app import CONTEXT
from emulator.control.events import EVENT_STREAMS, REPLAY_BATCH
from tests.conftest import Emulator, assert_valid
from tests.test_serve_cli import start

#: real seconds any one event may take to arrive
LIMIT = 5.0


@dataclass
class Event:
    """One block of the stream (up to a blank line)."""

    event: str | None = None
    id: int | None = None
    data: Any = None
    retry: int | None = None
    comment: str | None = None


def parse(block: str) -> Event:
    found = Event()
    for line in block.split("\n"):
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "":
            found.comment = value
        elif name == "event":
            found.event = value
        elif name == "id":
            found.id = int(value)
        elif name == "data":
            assert found.data is None, f"one data line per event: {block!r}"
            found.data = json.loads(value)
        elif name == "retry":
            found.retry = int(value)
        else:
            raise AssertionError(f"unexpected line {line!r}")
    if found.data is not None:
        assert_valid("control/event", found.data)
    return found


class Stream:
    def __init__(self, response: ClientResponse) -> None:
        self.response = response

    async def block(self) -> Event:
        raw = await asyncio.wait_for(self.response.content.readuntil(b"\n\n"), LIMIT)
        assert raw.endswith(b"\n\n"), f"the stream ended: {raw!r}"
        return parse(raw.decode()[:-2])

    async def event(self) -> Event:
        """The next event, past comments."""
        while (found := await self.block()).event is None:
            assert found.comment == "keep-alive", found
        return found

    async def events(self, count: int) -> list[Event]:
        return [await self.event() for _ in range(count)]

    async def until(self, kind: str) -> Event:
        while (found := await self.event()).event != kind:
            pass
        return found

    async def ended(self) -> bytes:
        """What is left once the server has ended the stream."""
        return await asyncio.wait_for(self.response.content.read(), LIMIT)


@asynccontextmanager
async def opened(emu: Emulator, params: Any = None,
                 headers: dict[str, str] | None = None,
                 http: ClientSession | None = None) -> AsyncIterator[Stream]:
    """An event stream, read up to its ``retry`` line: from there on it is subscribed."""
    async with (http or emu.http).get(f"{emu.url}/_emulator/events", params=params,
                                      headers=headers) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"] == "text/event-stream"
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["X-Accel-Buffering"] == "no"
        stream = Stream(response)
        assert (await stream.block()).retry == 1000
        yield stream


async def journal_entries(emu: Emulator, **params: str) -> list[dict[str, Any]]:
    status, body = await emu.control("GET", "/journal", params={"limit": "1000", **params})
    assert status == 200, body
    return body["entries"]


async def inbound(emu: Emulator, provider: str = "telesign") -> None:
    payload = {"telesign": {"provider": "telesign", "from": "14155550123", "to": "4442",
                            "text": "HELLO"},
               "tsg": {"provider": "tsg", "from": "14155550123", "to": "15550555055",
                       "text": "HELLO"}}[provider]
    status, body = await emu.control("POST", "/inbound", json=payload)
    assert status == 201, body


def record(emu: Emulator, count: int) -> list[int]:
    """Entries recorded in one go (as a busy request records them): their seqs."""
    return [emu.ctx.journal.record("test_note", None, n=n).seq for n in range(count)]


async def test_live_events_are_every_entry_in_order_without_replay(emulator: Emulator) -> None:
    await emulator.patch_config({"webhooks": {"timeout_seconds": 5}})
    before = emulator.ctx.journal.last_seq
    async with opened(emulator) as stream:
        await inbound(emulator)
        await emulator.advance(1)
        entries = await journal_entries(emulator, since=str(before))
        got = await stream.events(len(entries))
    assert [e.data for e in got] == entries
    assert [(e.id, e.event) for e in got] == [(e["seq"], e["kind"]) for e in entries]
    assert got[0].id == before + 1  # nothing from before the stream opened
    assert "inbound_message" in [e.event for e in got]


async def test_since_replays_what_is_kept_then_goes_live_with_no_gap_or_duplicate(
        emulator: Emulator) -> None:
    first = record(emulator, 5)
    async with opened(emulator, {"since": str(first[1])}) as stream:
        replayed = await stream.events(3)
        assert [e.id for e in replayed] == first[2:]
        await emulator.advance(1)
        live = await stream.event()
    assert (live.event, live.id) == ("clock_advanced", first[-1] + 1)


async def test_a_long_replay_meets_entries_recorded_while_it_is_written(
        emulator: Emulator) -> None:
    """Several replay batches, with entries recorded between the reads, then live ones: every
    seq once, in order."""
    expected = len(record(emulator, 3 * REPLAY_BATCH + 17))
    seqs: list[int] = []
    async with opened(emulator, {"since": "0"}) as stream:
        while len(seqs) < expected:
            seqs.append((await stream.event()).id)
            if len(seqs) % 500 == 1:  # while the replay is under way
                expected += len(record(emulator, 5))
        expected += len(record(emulator, 10))  # live by now
        seqs += [e.id for e in await stream.events(10)]
    assert seqs == list(range(1, expected + 1))
    assert seqs[-1] == emulator.ctx.journal.last_seq


async def test_last_event_id_resumes_and_the_later_of_it_and_since_wins(
        emulator: Emulator) -> None:
    seqs = record(emulator, 6)
    for params, header, first in (({}, seqs[2], seqs[3]),
                                  ({"since": str(seqs[4])}, seqs[1], seqs[5]),
                                  ({"since": str(seqs[1])}, seqs[3], seqs[4])):
        async with opened(emulator, params, {"Last-Event-ID": str(header)}) as stream:
            assert (await stream.event()).id == first
    # an empty Last-Event-ID (an EventSource before any event) is none
    async with opened(emulator, {"since": str(seqs[4])}, {"Last-Event-ID": ""}) as stream:
        assert (await stream.event()).id == seqs[5]


async def test_kind_and_provider_filter_the_replay_and_the_live_entries(
        emulator: Emulator) -> None:
    await emulator.patch_config({"webhooks": {"timeout_seconds": 5}})
    since = emulator.ctx.journal.last_seq
    await inbound(emulator, "telesign")
    await inbound(emulator, "tsg")
    await emulator.advance(1)
    params = {"since": str(since), "kind": "inbound_message,clock_advanced"}
    async with opened(emulator, params) as stream:
        replayed = await stream.events(3)
        await inbound(emulator, "tsg")
        live = await stream.event()
    assert [(e.event, e.data["provider"]) for e in replayed] == [
        ("inbound_message", "telesign"), ("inbound_message", "tsg"), ("clock_advanced", None)]
    assert (live.event, live.data["provider"]) == ("inbound_message", "tsg")

    params = {"since": str(since), "provider": "tsg", "kind": "inbound_message"}
    async with opened(emulator, params) as stream:
        got = await stream.events(2)
        await inbound(emulator, "telesign")  # filtered out
        await inbound(emulator, "tsg")
        got.append(await stream.event())
    assert [(e.event, e.data["provider"]) for e in got] == [("inbound_message", "tsg")] * 3
    assert got[0].id < got[1].id < got[2].id
    # kind may also repeat
    params = [("since", str(since)), ("kind", "clock_advanced"), ("kind", "inbound_message"),
              ("provider", "telesign")]
    async with opened(emulator, params) as stream:
        assert [e.event for e in await stream.events(2)] == ["inbound_message", "inbound_message"]


async def test_a_since_older_than_the_journal_keeps_starts_with_a_gap(emulator_with) -> None:
    emu = await emulator_with(journal_max_entries=5)
    seqs = record(emu, 10)
    async with opened(emu, {"since": str(seqs[1])}) as stream:
        gap = await stream.event()
        assert (gap.event, gap.id, gap.data) == ("gap", None, {"since": seqs[1],
                                                                "oldest": seqs[5]})
        assert [e.id for e in await stream.events(5)] == seqs[5:]
    # just inside what is kept: no gap
    async with opened(emu, {"since": str(seqs[4])}) as stream:
        assert (await stream.event()).id == seqs[5]

    status, _ = await emu.control("POST", "/reset")
    assert status == 200
    [reset] = await journal_entries(emu)
    assert reset["seq"] == seqs[-1] + 1  # seq goes on counting across a reset
    async with opened(emu, {"since": str(seqs[-1] - 1)}) as stream:
        gap = await stream.event()
        assert gap.data == {"since": seqs[-1] - 1, "oldest": reset["seq"]}
        assert (await stream.event()).data == reset

    # a seq beyond the newest (from before the emulator restarted): everything kept is replayed
    async with opened(emu, {"since": "9999"}) as stream:
        gap = await stream.event()
        assert gap.data == {"since": 9999, "oldest": reset["seq"]}
        assert (await stream.event()).id == reset["seq"]


async def test_a_gap_with_nothing_kept_has_no_oldest(emulator: Emulator) -> None:
    seqs = record(emulator, 3)
    emulator.ctx.journal.clear()  # as a reset does, before it records itself
    async with opened(emulator, {"since": "1"}) as stream:
        gap = await stream.event()
        assert gap.data == {"since": 1, "oldest": None}
        live = record(emulator, 1)
        assert (await stream.event()).id == live[0] == seqs[-1] + 1


async def test_a_reader_that_falls_behind_gets_overflow_and_the_stream_ends(
        emulator_with) -> None:
    emu = await emulator_with(events_queue_limit=3)
    async with opened(emu) as stream:
        first = record(emu, 2)
        assert [e.id for e in await stream.events(2)] == first
        burst = record(emu, 10)  # in one go: more than the stream may queue
        overflow = await stream.event()
        assert (overflow.event, overflow.id, overflow.data) == (
            "overflow", None, {"last_sent": first[-1]})
        assert await stream.ended() == b""
    assert emu.server.app[EVENT_STREAMS].open == 0
    async with opened(emu, {"since": str(overflow.data["last_sent"])}) as stream:
        assert [e.id for e in await stream.events(10)] == burst


async def test_a_client_that_goes_away_is_unsubscribed(emulator_with) -> None:
    emu = await emulator_with(events_heartbeat_seconds=0.02)
    journal = emu.ctx.journal
    streams = emu.server.app[EVENT_STREAMS]
    before = journal.subscribers
    async with ClientSession() as http, opened(emu, http=http):
        assert (journal.subscribers, streams.open) == (before + 1, 1)
    # the connection closed mid-stream
    await asyncio.wait_for(streams.until_open_at_most(0), LIMIT)
    assert journal.subscribers == before
    record(emu, 3)  # nobody to send them to, and nothing fails


async def test_a_quiet_stream_sends_keep_alive_comments(emulator_with) -> None:
    emu = await emulator_with(events_heartbeat_seconds=0.02)
    async with opened(emu) as stream:
        assert (await stream.block()).comment == "keep-alive"
        assert (await stream.block()).comment == "keep-alive"
        seq = record(emu, 1)[0]
        assert (await stream.event()).id == seq  # still open, still live


async def test_the_control_api_guard_applies_to_the_stream(emulator_with) -> None:
    emu = await emulator_with(control_token="s3cret")
    status, body = await emu.control("GET", "/events")
    assert (status, body["field"]) == (401, "Authorization")
    status, body = await emu.control("GET", "/events", headers={
        "Authorization": "Bearer s3cret", "Origin": "http://evil.example"})
    assert (status, body["field"]) == (403, "Origin")
    async with opened(emu, headers={"Authorization": "Bearer s3cret"}) as stream:
        entry = record(emu, 1)[0]
        assert (await stream.event()).id == entry
    refused = [e.detail["field"] for e in emu.ctx.journal.entries(kind="control_refused")]
    assert refused == ["Authorization", "Origin"]


async def test_bad_parameters_are_400s_naming_the_field(emulator: Emulator) -> None:
    for params, headers, field in (({"since": "abc"}, {}, "since"),
                                   ({"since": "-1"}, {}, "since"),
                                   ({}, {"Last-Event-ID": "x1"}, "Last-Event-ID"),
                                   ({"kind": ""}, {}, "kind"),
                                   ({"kind": "api_call,,webhook_attempt"}, {}, "kind"),
                                   ({"provider": "twilio"}, {}, "provider"),
                                   ({"provider": ""}, {}, "provider")):
        status, body = await emulator.control("GET", "/events", params=params,
                                              headers=headers)
        assert (status, body["field"]) == (400, field), (params, headers, body)
    assert emulator.server.app[EVENT_STREAMS].open == 0


async def test_shutdown_ends_every_stream_at_once() -> None:
    """A real ``serve``: SIGTERM ends open streams cleanly, well within the shutdown
    timeout the requests in flight would otherwise be given."""
    proc, url, _ = await start("--clock", "manual", "--quiet", "--shutdown-timeout", "10")
    try:
        async with ClientSession() as http:
            responses = [await http.get(f"{url}/_emulator/events") for _ in range(3)]
            for response in responses:
                assert await asyncio.wait_for(response.content.readuntil(b"\n\n"),
                                              LIMIT) == b"retry: 1000\n\n"
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            for response in responses:  # each ends as a stream should: no error reading it
                assert await asyncio.wait_for(response.content.read(), LIMIT) == b""
                response.release()
            out, err = await asyncio.wait_for(proc.communicate(), LIMIT)
            took = time.monotonic() - started
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    assert took < 5, f"took {took:.1f} s to stop"
    assert "Traceback" not in err.decode(), err.decode()
    assert out.decode().splitlines()[-1].startswith("sms-emulator stopped;")


async def test_an_application_shutdown_ends_its_streams(emulator: Emulator) -> None:
    async with opened(emulator) as stream:
        await emulator.server.app.shutdown()  # what aiohttp's runner does first on cleanup
        assert await stream.ended() == b""
    status, body = await emulator.control("GET", "/events")
    assert status == 503, body
    assert emulator.server.app[CONTEXT].journal.subscribers == 0


async def test_a_reader_that_stops_reading_costs_its_buffers_and_is_aborted_at_shutdown(
        emulator_with) -> None:
    emu = await emulator_with(events_queue_limit=1000)
    streams = emu.server.app[EVENT_STREAMS]
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((emu.server.host, emu.server.port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
    writer.write(b"GET /_emulator/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await asyncio.wait_for(reader.readuntil(b"retry: 1000\n\n"), LIMIT)
    [stream] = streams._streams  # from here on the client reads nothing
    for _ in range(2000):  # large entries until the socket's buffers are full
        emu.ctx.journal.record("test_note", None, text="x" * 60_000)
        await asyncio.sleep(0)  # one turn of the loop: the stream writes what it can
        if stream.writing:
            break
    assert stream.writing, "the stream never had to wait for its reader"
    record(emu, 1001)  # more than it may queue: it gives them up rather than keep them
    assert stream.overflowed and not stream.queue
    await asyncio.wait_for(emu.server.app.shutdown(), LIMIT)
    assert streams.open == 0
    writer.close()
