"""No byte sequence stops the SMPP listener, another session or the HTTP side: garbage, a
truncated PDU, a 4 GB command_length, unknown commands, a bind flood, a client that never
reads. Raw sockets on one side; smpplib's client checks the others still work."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest

from emulator.app import SMPP
from tests.smpp_support import Esme

WAIT = 10.0


def pdu(command_id: int, sequence: int, body: bytes = b"", length: int | None = None) -> bytes:
    return struct.pack(">IIII", length if length is not None else 16 + len(body), command_id,
                       0, sequence) + body


BIND_TRX = pdu(0x09, 1, b"tsg\x00emulator\x00\x00\x34\x00\x00\x00")


@pytest.fixture
async def smpp(emulator_with):
    emu = await emulator_with(smpp_port=0)
    emu.port = emu.server.app[SMPP].port
    yield emu


async def connect(port: int, rcvbuf: int | None = None):
    if rcvbuf is None:
        return await asyncio.open_connection("127.0.0.1", port)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return await asyncio.open_connection(sock=sock)


async def read_pdu(reader: asyncio.StreamReader) -> tuple[int, int, int, bytes]:
    header = await asyncio.wait_for(reader.readexactly(16), WAIT)
    length, command_id, status, sequence = struct.unpack(">IIII", header)
    body = await asyncio.wait_for(reader.readexactly(length - 16), WAIT)
    return command_id, status, sequence, body


async def still_works(emu) -> None:
    """Another ESME binds and submits, and the HTTP side answers."""
    esme = Esme(emu.port)
    try:
        await esme.bind("tsg")
        esme.start_reading()
        assert (await esme.submit(destination_addr="15551234567", short_message=b"ok")).status == 0
    finally:
        await esme.close()
    status, body = await emu.control("GET", "/health")
    assert (status, body["status"]) == (200, "ok")


def closed_reasons(emu) -> list[str]:
    return [e.detail["reason"] for e in emu.ctx.journal.entries()
            if e.kind == "smpp_session_closed"]


@pytest.mark.parametrize("data", [
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # a length of 1.2 GB
    b"\xff\xff\xff\xff" + bytes(12),  # 4 GB
    b"\x00\x00\x00\x08" + bytes(12),  # shorter than a header
])
async def test_a_length_no_pdu_can_have_is_nacked_and_the_session_closed(smpp, data):
    reader, writer = await connect(smpp.port)
    writer.write(data)
    command_id, status, _, _ = await read_pdu(reader)
    assert (command_id, status) == (0x80000000, 0x02)  # generic_nack ESME_RINVCMDLEN
    assert await asyncio.wait_for(reader.read(), WAIT) == b""  # then closed
    writer.close()
    assert any(reason.startswith("framing lost") for reason in closed_reasons(smpp))
    await still_works(smpp)


async def test_unknown_commands_and_short_bodies_are_nacked_and_the_session_goes_on(smpp):
    reader, writer = await connect(smpp.port)
    writer.write(BIND_TRX)
    assert (await read_pdu(reader))[:3] == (0x80000009, 0, 1)
    writer.write(pdu(0x0000_0999, 7, b"junk"))  # no such command
    assert (await read_pdu(reader))[:3] == (0x80000000, 0x03, 7)
    writer.write(pdu(0x04, 8, b"\x00\x01"))  # a submit_sm cut short
    assert (await read_pdu(reader))[:3] == (0x80000000, 0x02, 8)
    writer.write(pdu(0x08, 9, b"\x00"))  # cancel_sm: not emulated
    assert (await read_pdu(reader))[:3] == (0x80000000, 0x03, 9)
    writer.write(pdu(0x15, 10))  # enquire_link still answered
    assert (await read_pdu(reader))[:3] == (0x80000015, 0, 10)
    writer.close()
    kinds = [(e.detail["command"], e.detail.get("reason")) for e in smpp.ctx.journal.entries()
             if e.kind == "smpp_pdu" and e.detail["direction"] == "in"]
    assert any("unknown command_id" in (reason or "") for _, reason in kinds)
    await still_works(smpp)


async def test_a_truncated_pdu_waits_and_an_unbound_connection_is_dropped(smpp):
    await smpp.patch_config({"smpp": {"session_init_seconds": 0.2}})
    reader, writer = await connect(smpp.port)
    writer.write(BIND_TRX[:20])  # the header says more is coming
    await still_works(smpp)  # meanwhile
    assert await asyncio.wait_for(reader.read(), WAIT) == b""
    writer.close()
    assert "not bound within 0.2 s" in closed_reasons(smpp)


async def test_a_bind_flood_beyond_max_sessions_is_refused(smpp):
    await smpp.patch_config({"smpp": {"max_sessions": 3}})
    held = [await connect(smpp.port) for _ in range(3)]
    reader, writer = await connect(smpp.port)
    assert await asyncio.wait_for(reader.read(), WAIT) == b""  # closed at once
    refused = [e for e in smpp.ctx.journal.entries() if e.kind == "smpp_refused"]
    assert len(refused) == 1 and "smpp.max_sessions" in refused[0].detail["reason"]
    for _, w in held:
        w.close()
    writer.close()
    async with asyncio.timeout(WAIT):  # the held sessions' ends reach the listener
        while smpp.server.app[SMPP].sessions:
            await asyncio.sleep(0)
    await still_works(smpp)


async def test_a_client_that_never_reads_is_cut_off(smpp):
    await smpp.patch_config({"smpp": {"response_timeout_seconds": 0.3}})
    reader, writer = await connect(smpp.port, rcvbuf=4096)
    writer.write(BIND_TRX)
    assert (await read_pdu(reader))[:2] == (0x80000009, 0)
    batch = b"".join(pdu(0x15, n) for n in range(2, 20_002))  # 20,000 enquire_links
    try:
        async with asyncio.timeout(WAIT):
            while not writer.is_closing():
                writer.write(batch)  # never reading a single answer
                await writer.drain()
    except (ConnectionError, TimeoutError):
        pass
    writer.close()
    assert any(reason.startswith("the ESME read nothing for 0.3 s")
               for reason in closed_reasons(smpp)), closed_reasons(smpp)
    await still_works(smpp)


async def test_hundreds_of_mangled_pdus_never_stop_a_bound_session(smpp):
    """Valid PDUs of every command, cut short, bit-flipped or with random bodies, on one bound
    session (seeded, so a failure repeats): each gets an answer or nothing, never an internal
    error, and the session still answers enquire_link after each batch."""
    import random

    import smpplib.smpp

    rng = random.Random(12)
    templates = [smpplib.smpp.make_pdu(name, sequence=1, **fields).generate() for name, fields in [
        ("submit_sm", {"source_addr": "15550001111", "destination_addr": "15551234567",
                       "short_message": b"hello", "registered_delivery": 1}),
        ("submit_sm", {"source_addr": "1555", "destination_addr": "15551234567",
                       "esm_class": 0x40, "short_message": b"\x05\x00\x03\x07\x02\x01part"}),
        ("query_sm", {"message_id": "abc", "source_addr": "1555"}),
        ("deliver_sm_resp", {}), ("enquire_link", {}), ("generic_nack", {}),
        ("bind_transmitter", {"system_id": "tsg", "password": "emulator"}),
        ("data_sm", {"source_addr": "1", "destination_addr": "2"}),
    ]]
    reader, writer = await connect(smpp.port)
    writer.write(BIND_TRX)
    assert (await read_pdu(reader))[:2] == (0x80000009, 0)

    def mangled(sequence: int) -> bytes:
        raw = bytearray(rng.choice(templates))
        raw[12:16] = sequence.to_bytes(4, "big")
        how = rng.randrange(4)
        if how == 0:  # flip bytes of the body
            for _ in range(rng.randint(1, 4)):
                if len(raw) > 16:
                    raw[rng.randrange(16, len(raw))] ^= 1 << rng.randrange(8)
        elif how == 1:  # cut the body short (the length says so)
            raw = raw[:rng.randint(16, len(raw))]
        elif how == 2:  # a random body
            raw = raw[:16] + bytearray(rng.randbytes(rng.randint(0, 300)))
        else:  # a random command id, any body
            raw[4:8] = rng.choice([rng.randrange(2**32), 0x80000004, 0x07, 0x21, 0x0B,
                                   0x102]).to_bytes(4, "big")
        raw[0:4] = len(raw).to_bytes(4, "big")
        return bytes(raw)

    sequence = 100
    for _batch in range(30):
        for _ in range(10):
            sequence += 1
            writer.write(mangled(sequence))
        sequence += 1
        writer.write(pdu(0x15, sequence))
        while True:  # everything before the probe is answered (or not) first
            command_id, _, answered, _ = await read_pdu(reader)
            if (command_id, answered) == (0x80000015, sequence):
                break
    writer.close()
    assert not [e for e in smpp.ctx.journal.entries() if e.kind == "internal_error"]
    await still_works(smpp)
