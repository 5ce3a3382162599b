"""SMPP binds and session handling, with smpplib's client as the ESME."""

from __future__ import annotations

import pytest
import smpplib.exceptions
import smpplib.smpp

from emulator.app import SMPP
from tests.smpp_support import Esme


@pytest.fixture
async def smpp(emulator_with):
    emu = await emulator_with(smpp_port=0)
    esmes: list[Esme] = []

    def connect() -> Esme:
        esme = Esme(emu.server.app[SMPP].port)
        esmes.append(esme)
        return esme

    emu.esme = connect
    yield emu
    for esme in esmes:
        await esme.close()


async def sessions(emu) -> dict:
    status, body = await emu.control("GET", "/smpp/sessions")
    assert status == 200
    return body


@pytest.mark.parametrize("kind", ["transmitter", "receiver", "transceiver"])
async def test_each_bind_with_a_default_account(smpp, kind):
    esme = smpp.esme()
    answer = await esme.bind("tsg", "emulator", kind)
    assert answer.status == 0
    assert answer.system_id == b"sms-emulator"
    body = await sessions(smpp)
    assert [(s["system_id"], s["provider"], s["bind"]) for s in body["sessions"]] == [
        ("tsg", "tsg", kind)]


@pytest.mark.parametrize(("system_id", "password", "status"), [
    ("telesign", "wrong", 0x0E),  # ESME_RINVPASWD
    ("nobody", "emulator", 0x0F),  # ESME_RINVSYSID
])
async def test_refused_binds(smpp, system_id, password, status):
    esme = smpp.esme()
    with pytest.raises(smpplib.exceptions.PDUError) as refused:
        await esme.bind(system_id, password)
    assert refused.value.args[1] == status
    assert (await sessions(smpp))["sessions"][0]["bind"] is None
    out = [e for e in smpp.ctx.journal.entries() if e.kind == "smpp_pdu"
           and e.detail["direction"] == "out"]
    assert out[-1].detail["command"] == "bind_transceiver_resp"
    assert out[-1].detail["reason"]


async def test_a_second_bind_on_the_same_connection_is_already_bound(smpp):
    esme = smpp.esme()
    await esme.bind("telesign")
    # smpplib will not send a bind once bound: its own PDU, written to its socket
    second = smpplib.smpp.make_pdu("bind_transmitter", client=esme.client,
                                   system_id="telesign", password="emulator")
    await esme.call(esme.client._socket.sendall, second.generate())
    answer = await esme.call(esme.client.read_pdu)
    assert (answer.command, answer.status, answer.sequence) == (
        "bind_transmitter_resp", 0x05, second.sequence)  # ESME_RALYBND


async def test_the_accounts_are_in_the_configuration_document(smpp):
    status, config = await smpp.control("GET", "/config")
    assert status == 200
    assert config["smpp"]["accounts"] == [
        {"system_id": "telesign", "password": "emulator", "provider": "telesign"},
        {"system_id": "tsg", "password": "emulator", "provider": "tsg"}]
    await smpp.patch_config({"smpp": {"accounts": [
        {"system_id": "shop", "password": "s3cret", "provider": "telesign"}]}})
    esme = smpp.esme()
    assert (await esme.bind("shop", "s3cret")).status == 0
    assert (await sessions(smpp))["sessions"][0]["provider"] == "telesign"
    status, refused = await smpp.control("PATCH", "/config", json={"smpp": {"accounts": [
        {"system_id": "x", "password": "y", "provider": "nobody"}]}})
    assert status == 400 and "smpp.accounts.0.provider" in refused["error"]


async def test_unbind_is_answered_and_the_session_ends(smpp):
    esme = smpp.esme()
    await esme.bind("telesign")
    answer = await esme.call(esme.client.unbind)
    assert (answer.command, answer.status) == ("unbind_resp", 0)
    reasons = [e.detail["reason"] for e in smpp.ctx.journal.entries()
               if e.kind == "smpp_session_closed"]
    assert reasons == ["unbound by the ESME"]
    assert (await sessions(smpp))["sessions"] == []
