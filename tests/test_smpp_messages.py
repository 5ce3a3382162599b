"""submit_sm into the providers' messages, delivery receipts and MO over SMPP, with smpplib's
client as the ESME, on the manual clock."""

from __future__ import annotations

import re

import pytest
import smpplib.gsm
import smpplib.smpp

from emulator.app import SMPP
from tests.smpp_support import Esme

RECEIPT = re.compile(r"^id:(?P<id>\S+) sub:001 dlvrd:(?P<dlvrd>\d{3}) submit date:\d{10} "
                     r"done date:\d{10} stat:(?P<stat>[A-Z]{7}) err:(?P<err>\w{3}) "
                     r"text:(?P<text>.*)$")


@pytest.fixture
async def smpp(emulator_with):
    emu = await emulator_with(smpp_port=0)
    esmes: list[Esme] = []

    async def bound(system_id: str, kind: str = "transceiver") -> Esme:
        esme = Esme(emu.server.app[SMPP].port)
        esmes.append(esme)
        await esme.bind(system_id, "emulator", kind)
        esme.start_reading()
        return esme

    emu.bound = bound
    yield emu
    for esme in esmes:
        await esme.close()


def receipt_of(pdu) -> re.Match:
    assert pdu.esm_class == 0x04
    found = RECEIPT.match(pdu.short_message.decode("ascii"))
    assert found, pdu.short_message
    return found


@pytest.mark.parametrize("system_id", ["telesign", "tsg"])
async def test_submit_then_a_delivered_receipt_with_the_same_id(smpp, system_id):
    esme = await smpp.bound(system_id)
    answer = await esme.submit(destination_addr="15551234567", short_message=b"Your code 1234",
                               registered_delivery=1)
    assert answer.status == 0
    message_id = answer.message_id.decode()
    message = await smpp.message(message_id)
    assert message["provider"] == system_id
    assert message["details"]["via"] == "smpp"
    assert message["text"] == "Your code 1234"
    assert message["from"] == "15550001111"
    await smpp.advance(10)
    receipt = await esme.next_delivered()
    fields = receipt_of(receipt)
    assert fields["id"] == message_id and fields["stat"] == "DELIVRD"
    assert fields["dlvrd"] == "001" and fields["text"] == "Your code 1234"
    assert receipt.receipted_message_id.decode() == message_id
    assert receipt.message_state == 2
    # addresses swapped
    assert (receipt.source_addr, receipt.destination_addr) == (b"15551234567", b"15550001111")
    deliveries = await smpp.deliveries(message_id=message_id)
    assert [(d["kind"], d["state"], d["url"]) for d in deliveries] == [
        ("smpp_receipt", "delivered", f"smpp://{system_id}")]
    assert deliveries[0]["attempts"][0]["status"] == 0


@pytest.mark.parametrize(("system_id", "number", "stat", "err"), [
    ("telesign", "15005550207", "UNDELIV", "207"),
    ("telesign", "15005550221", "EXPIRED", "221"),
    ("telesign", "15005550230", "REJECTD", "230"),
    ("tsg", "15005551004", "UNDELIV", "002"),
    ("tsg", "15005551007", "REJECTD", "004"),
])
async def test_failure_magic_numbers_give_their_documented_stat(smpp, system_id, number, stat,
                                                                err):
    esme = await smpp.bound(system_id)
    answer = await esme.submit(destination_addr=number, short_message=b"hi",
                               registered_delivery=2)
    await smpp.advance(10)
    fields = receipt_of(await esme.next_delivered())
    assert (fields["id"], fields["stat"], fields["err"], fields["dlvrd"]) == (
        answer.message_id.decode(), stat, err, "000")


async def test_failure_only_receipts_send_nothing_for_a_delivered_message(smpp):
    esme = await smpp.bound("tsg")
    answer = await esme.submit(destination_addr="15551234567", short_message=b"hi",
                               registered_delivery=2)
    await smpp.advance(10)
    message = await smpp.message(answer.message_id.decode())
    assert message["status"] == "delivered"
    assert await smpp.deliveries(message_id=message["id"]) == []
    assert esme.delivered.empty()


async def test_a_three_part_udh_submit_is_one_message(smpp):
    esme = await smpp.bound("tsg")
    text = "A long message that needs three parts. " * 10
    parts, coding, esm_class = smpplib.gsm.make_parts(text)
    assert len(parts) == 3 and esm_class & 0x40
    ids = []
    for part in parts:
        answer = await esme.submit(destination_addr="15551234567", short_message=part,
                                   data_coding=coding, esm_class=esm_class, registered_delivery=1)
        assert answer.status == 0
        ids.append(answer.message_id.decode())
    assert len(set(ids)) == 3
    _, listing = await smpp.control("GET", "/messages", params={"provider": "tsg"})
    assert [m["text"] for m in listing["messages"]] == [text]
    message = listing["messages"][0]
    assert [p["id"] for p in message["details"]["parts"]] == ids
    assert (await smpp.message(ids[0]))["id"] == message["id"]  # part ids are aliases
    await smpp.advance(10)
    receipts = [receipt_of(await esme.next_delivered()) for _ in ids]
    assert [r["id"] for r in receipts] == ids


@pytest.mark.parametrize(("number", "status"), [("15005559088", 0x58), ("15005559020", 0x14)])
async def test_magic_numbers_throttle_and_fill_the_queue(smpp, number, status):
    esme = await smpp.bound("telesign")
    answer = await esme.submit(destination_addr=number, short_message=b"hi")
    assert answer.command == "submit_sm_resp" and answer.status == status
    _, listing = await smpp.control("GET", "/messages")
    assert listing["messages"] == []


async def test_bad_addresses_are_refused_with_their_status(smpp):
    esme = await smpp.bound("telesign")
    assert (await esme.submit(destination_addr="12", short_message=b"hi")).status == 0x0B
    assert (await esme.submit(destination_addr="15551234567", source_addr="no way!!",
                              short_message=b"hi")).status == 0x0A


async def test_a_submit_before_bind_is_invalid_bind_status(smpp):
    esme = Esme(smpp.server.app[SMPP].port)
    await esme.call(esme.client.connect)
    pdu = smpplib.smpp.make_pdu("submit_sm", client=esme.client, source_addr="1555",
                                destination_addr="15551234567", short_message=b"hi")
    await esme.call(esme.client._socket.sendall, pdu.generate())
    answer = await esme.call(esme.client.read_pdu)
    assert (answer.command, answer.status) == ("submit_sm_resp", 0x04)
    await esme.call(esme.client.disconnect)


async def test_a_receipt_waits_for_a_bind_and_goes_out_on_it(smpp):
    sender = await smpp.bound("telesign", "transmitter")
    answer = await sender.submit(destination_addr="15551234567", short_message=b"hi",
                                 registered_delivery=1)
    await smpp.advance(10)
    message_id = answer.message_id.decode()
    [held] = await smpp.deliveries(message_id=message_id)
    assert held["state"] == "pending" and "waiting for a receiver" in held["reason"]
    receiver = await smpp.bound("telesign", "receiver")
    fields = receipt_of(await receiver.next_delivered())
    assert fields["id"] == message_id
    await smpp.ctx.scheduler.settle()
    [sent] = await smpp.deliveries(message_id=message_id)
    assert sent["state"] == "delivered"


async def test_a_stopped_number_ends_blocked(smpp):
    esme = await smpp.bound("telesign")
    status, _ = await smpp.control("POST", "/inbound", json={
        "provider": "telesign", "from": "15551234567", "to": "15550001111", "text": "STOP"})
    assert status == 201
    answer = await esme.submit(destination_addr="15551234567", short_message=b"hi",
                               registered_delivery=1)
    await smpp.advance(10)
    message = await smpp.message(answer.message_id.decode())
    assert message["status"] == 510
    fields = receipt_of(await esme.next_delivered())
    assert (fields["stat"], fields["err"]) == ("REJECTD", "510")


async def test_query_sm_reads_the_state(smpp):
    esme = await smpp.bound("tsg")
    answer = await esme.submit(destination_addr="15551234567", short_message=b"hi")
    await smpp.advance(10)
    query = await esme.call(esme.client.query_message, message_id=answer.message_id.decode(),
                            source_addr_ton=1, source_addr_npi=1, source_addr="15550001111")
    result = await esme.answer_to(query.sequence)
    assert (result.command, result.status, result.message_state) == ("query_sm_resp", 0, 2)
    unknown = await esme.call(esme.client.query_message, message_id="nope",
                              source_addr_ton=1, source_addr_npi=1, source_addr="15550001111")
    assert (await esme.answer_to(unknown.sequence)).status == 0x67  # ESME_RQUERYFAIL


async def inbound(emu, **document) -> dict:
    status, body = await emu.control("POST", "/inbound", json=document)
    assert status == 201, body
    return body


async def mo_pdus(esme: Esme) -> list:
    """The deliver_sm of one MO message: one, or every part its UDH counts."""
    pdus = [await esme.next_delivered()]
    while pdus[-1].esm_class & 0x40 and len(pdus) < pdus[-1].short_message[4]:
        pdus.append(await esme.next_delivered())
    return pdus


def mo_text(pdus) -> str:
    from emulator.smpp import text

    assembly = text.Reassembly()
    for pdu in pdus:
        assert pdu.esm_class & ~0x40 == 0  # a normal message, UDHI for parts
        fragment = text.decode_user_data(data_coding=pdu.data_coding, esm_class=pdu.esm_class,
                                         short_message=pdu.short_message)
        done = assembly.add("esme", "a", "b", fragment, None, 0.0)
    assert done is not None
    return done.text


@pytest.mark.parametrize("text", ["Hello from the user", "Long reply, é and € " * 12])
async def test_tsg_mo_to_a_number_without_webhook_url_comes_over_smpp(smpp, text):
    esme = await smpp.bound("tsg", "receiver")
    body = await inbound(smpp, provider="tsg", **{"from": "15557654321"}, to="15550555055",
                         text=text)
    message_id = body["messages"][0]["id"]
    pdus = await mo_pdus(esme)
    assert mo_text(pdus) == text
    assert (pdus[0].source_addr, pdus[0].destination_addr) == (b"15557654321", b"15550555055")
    await smpp.ctx.scheduler.settle()
    [delivery] = await smpp.deliveries(message_id=message_id)
    assert (delivery["kind"], delivery["state"]) == ("smpp_mo", "delivered")


async def test_tsg_mo_follows_webhook_type_smpp(smpp):
    await smpp.patch_config({"tsg": {"numbers": {"15550555056": {
        "webhook_url": "http://127.0.0.1:9/never", "x_api_key": None, "webhook_type": "smpp"}}}})
    esme = await smpp.bound("tsg", "transceiver")
    await inbound(smpp, provider="tsg", **{"from": "15557654321"}, to="15550555056", text="hi")
    assert mo_text([await esme.next_delivered()]) == "hi"


@pytest.mark.parametrize("text", ["STOP", "A long message from the user. " * 8])
async def test_telesign_mo_over_smpp_is_queued_until_a_bind(smpp, text):
    await smpp.patch_config({"telesign": {"inbound": {"transport": "smpp"}}})
    body = await inbound(smpp, provider="telesign", **{"from": "15557654321"},
                         to="15550001111", text=text)
    message_id = body["messages"][0]["id"]
    [held] = await smpp.deliveries(message_id=message_id)
    assert held["state"] == "pending" and "waiting for a receiver" in held["reason"]
    esme = await smpp.bound("telesign", "receiver")
    pdus = await mo_pdus(esme)
    assert mo_text(pdus) == text
    if text == "STOP":  # the compliance reply is sent as over HTTP
        assert body["messages"][1]["details"]["action"] == "stop"


async def test_an_error_answer_is_retried_by_the_smpp_policy_then_delivered(smpp):
    esme = await smpp.bound("tsg")
    answers = iter([0x14, None])  # ESME_RMSGQFUL, then ESME_ROK
    esme.answer = lambda pdu: next(answers)
    answer = await esme.submit(destination_addr="15551234567", short_message=b"hi",
                               registered_delivery=1)
    message_id = answer.message_id.decode()
    await smpp.advance(3)
    [delivery] = await smpp.deliveries(message_id=message_id)
    assert delivery["state"] == "retrying"
    assert delivery["attempts"][0]["status"] == 0x14
    assert (delivery["policy"], delivery["max_attempts"]) == ("smpp", 5)
    await smpp.advance(60)
    [delivery] = await smpp.deliveries(message_id=message_id)
    assert delivery["state"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [0x14, 0]
    receipts = [receipt_of(await esme.next_delivered()) for _ in range(2)]
    assert {r["id"] for r in receipts} == {message_id}
    lines = [e for e in smpp.ctx.journal.entries() if e.kind == "webhook_attempt"]
    from emulator.core.logline import text as line_of

    assert "send to smpp://tsg -> deliver_sm_resp ESME_RMSGQFUL in" in line_of(lines[0])


async def test_no_deliver_sm_resp_within_the_timeout_is_a_failed_attempt(smpp):
    await smpp.patch_config({"smpp": {"response_timeout_seconds": 0.2,
                                      "retry": {"attempts": 2, "delay_seconds": 30}}})
    receiver = Esme(smpp.server.app[SMPP].port)
    await receiver.bind("tsg", "emulator", "receiver")  # and never reads, for now
    sender = await smpp.bound("tsg", "transmitter")
    answer = await sender.submit(destination_addr="15551234567", short_message=b"hi",
                                 registered_delivery=1)
    message_id = answer.message_id.decode()
    await smpp.advance(3)
    [delivery] = await smpp.deliveries(message_id=message_id)
    assert delivery["state"] == "retrying"
    assert delivery["attempts"][0]["error"].startswith(
        "timeout: no deliver_sm_resp within 0.2 s")
    receiver.start_reading()  # it answers the first, late, and then the retry
    await smpp.advance(30)
    [delivery] = await smpp.deliveries(message_id=message_id)
    assert (delivery["state"], [a["status"] for a in delivery["attempts"]]) == (
        "delivered", [None, 0])
    late = [e for e in smpp.ctx.journal.entries() if e.kind == "smpp_pdu"
            and "answers no request outstanding" in (e.detail.get("reason") or "")]
    assert late
    await receiver.close()


async def test_the_window_bounds_deliver_sm_waiting_for_their_answers(smpp):
    import asyncio

    await smpp.patch_config({"smpp": {"window": 2}})
    for n in range(5):  # held: nobody is bound
        await inbound(smpp, provider="tsg", **{"from": f"1555765432{n}"}, to="15550555055",
                      text=f"message {n}")
    sent = asyncio.Event()

    def count(entry) -> None:
        outgoing = [e for e in smpp.ctx.journal.entries() if e.kind == "smpp_pdu"
                    and e.detail["command"] == "deliver_sm"]
        if len(outgoing) >= 2:
            sent.set()

    unsubscribe = smpp.ctx.journal.subscribe(count)
    receiver = Esme(smpp.server.app[SMPP].port)
    await receiver.bind("tsg", "emulator", "receiver")  # all five fall due; it reads nothing
    await asyncio.wait_for(sent.wait(), 10)
    unsubscribe()
    body = (await smpp.control("GET", "/smpp/sessions"))[1]
    assert [s["outstanding"] for s in body["sessions"]] == [2]
    outgoing = [e for e in smpp.ctx.journal.entries()
                if e.kind == "smpp_pdu" and e.detail["command"] == "deliver_sm"]
    assert len(outgoing) == 2
    receiver.start_reading()
    texts = sorted([mo_text([await receiver.next_delivered()]) for _ in range(5)])
    assert texts == [f"message {n}" for n in range(5)]
    await smpp.ctx.scheduler.settle()
    assert {d["state"] for d in await smpp.deliveries(provider="tsg")} == {"delivered"}
    await receiver.close()


async def test_smpp_messages_are_in_the_conversations_the_inbox_reads(smpp):
    esme = await smpp.bound("tsg")
    answer = await esme.submit(destination_addr="15551234567", source_addr="15550555055",
                               short_message=b"from the SMPP side")
    status, body = await smpp.control("GET", "/conversations", params={"provider": "tsg"})
    assert status == 200
    [conversation] = body["conversations"]
    assert conversation["last"]["id"] == answer.message_id.decode()
    assert conversation["last"]["details"]["via"] == "smpp"


async def test_sar_parts_and_a_repeated_part_make_one_message(smpp):
    esme = await smpp.bound("telesign")
    parts = [b"first half, ", b"FIRST HALF, ", b"second half"]
    sequences = [1, 1, 2]
    ids = []
    for part, sequence in zip(parts, sequences, strict=True):
        answer = await esme.submit(destination_addr="15551234567", short_message=part,
                                   sar_msg_ref_num=300, sar_total_segments=2,
                                   sar_segment_seqnum=sequence)
        assert answer.status == 0
        ids.append(answer.message_id.decode())
    _, listing = await smpp.control("GET", "/messages", params={"provider": "telesign"})
    [message] = listing["messages"]
    assert message["text"] == "FIRST HALF, second half"
    assert message["details"]["smpp"]["concatenation"] == "sar"
    assert message["details"]["smpp"]["part_ids"] == ids[1:]
    replaced = [e for e in smpp.ctx.journal.entries() if e.kind == "smpp_part_replaced"]
    assert [(e.detail["reference"], e.detail["sequence"]) for e in replaced] == [(300, 1)]


async def test_a_long_message_payload_is_one_message(smpp):
    esme = await smpp.bound("tsg")
    text = "é" * 300  # Latin-1, beyond the 254 octets short_message holds
    answer = await esme.submit(destination_addr="15551234567", short_message=b"",
                               message_payload=text.encode("latin-1"), data_coding=3)
    assert answer.status == 0
    message = await smpp.message(answer.message_id.decode())
    assert message["text"] == text and message["details"]["encoding"] == 3


async def test_ascii_text_with_a_character_gsm_lacks_is_stored_in_an_encoding_that_has_it(smpp):
    esme = await smpp.bound("tsg")
    answer = await esme.submit(destination_addr="15551234567", short_message=b"a `quote`",
                               data_coding=1)
    assert answer.status == 0
    message = await smpp.message(answer.message_id.decode())
    assert message["text"] == "a `quote`" and message["details"]["encoding"] == 3


async def test_ucs2_text_is_decoded(smpp):
    esme = await smpp.bound("telesign")
    text = "Код 1234 😀"
    answer = await esme.submit(destination_addr="15551234567",
                               short_message=text.encode("utf-16-be"), data_coding=8)
    assert answer.status == 0
    message = await smpp.message(answer.message_id.decode())
    assert message["text"] == text
    assert message["details"]["smpp"]["data_coding"] == 8


async def test_a_lifecycle_rule_decides_the_receipt(smpp):
    await smpp.patch_config({"lifecycle": {"rules": [
        {"to": "1555000*", "provider": "tsg", "steps": [{"status": "expired", "after": 30}]}]}})
    esme = await smpp.bound("tsg")
    answer = await esme.submit(destination_addr="15550001234", short_message=b"hi",
                               registered_delivery=1)
    await smpp.advance(29)
    assert esme.delivered.empty()
    await smpp.advance(1)
    fields = receipt_of(await esme.next_delivered())
    assert (fields["id"], fields["stat"], fields["err"]) == (
        answer.message_id.decode(), "EXPIRED", "062")


async def test_a_held_delivery_redelivered_is_attempted_once_when_a_receiver_binds(smpp):
    sender = await smpp.bound("tsg", "transmitter")
    answer = await sender.submit(destination_addr="15551234567", short_message=b"hi",
                                 registered_delivery=1)
    await smpp.advance(10)
    [held] = await smpp.deliveries(message_id=answer.message_id.decode())
    status, again = await smpp.control("POST", f"/deliveries/{held['id']}/redeliver")
    assert status == 200 and again["state"] == "pending" and "waiting for" in again["reason"]
    receiver = await smpp.bound("tsg", "receiver")
    receipt_of(await receiver.next_delivered())
    await smpp.advance(3600)
    status, done = await smpp.control("GET", f"/deliveries/{held['id']}")
    assert (done["state"], len(done["attempts"]), done["reason"]) == ("delivered", 1, None)
    assert receiver.delivered.empty()
