"""A scenario file expects SMPP traffic: a system under test that sends over SMPP (here an
aiohttp app that submits through smpplib) and receives receipts and MO as deliver_sm."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from emulator.app import SMPP
from emulator.replay import replay_with
from emulator.replay.report import text
from tests.smpp_support import Esme

SCENARIO = """name: a system under test on SMPP
steps:
  - name: it sends a notice over SMPP
    request:
      url: ${sut}/notify
      json: {to: "15551234567", text: "Your order shipped"}
    capture:
      id: json.message_id
  - expect_message: {provider: tsg, via: smpp, to: "15551234567", text: "Your order shipped"}
  - expect_no_message: {provider: tsg, via: http}
  - advance: 3s
  - name: its receipt reached the session
    expect_delivery:
      provider: tsg
      kind: smpp_receipt
      url: "smpp://tsg"
      message: ${id}
      state: delivered
      statuses: [0]
  - inbound: {provider: tsg, from: "15557654321", to: "15550555055", text: "thanks"}
  - name: the reply came as deliver_sm
    expect_delivery: {provider: tsg, kind: smpp_mo, state: delivered, status: 0}
"""


async def test_a_scenario_expects_smpp_messages_and_deliveries(emulator_with, aiohttp_server,
                                                              tmp_path: Path) -> None:
    emu = await emulator_with(smpp_port=0)
    esme = Esme(emu.server.app[SMPP].port)
    await esme.bind("tsg")
    esme.start_reading()

    async def notify(request: web.Request) -> web.Response:
        order = await request.json()
        answer = await esme.submit(destination_addr=order["to"], source_addr="15550555055",
                                   short_message=order["text"].encode(), registered_delivery=1)
        return web.json_response({"message_id": answer.message_id.decode()})

    sut = web.Application()
    sut.router.add_post("/notify", notify)
    server = await aiohttp_server(sut)
    scenario = tmp_path / "smpp.yaml"
    scenario.write_text(SCENARIO)
    try:
        [outcome] = await replay_with(emu.url, [scenario],
                                      sut_url=str(server.make_url("")).rstrip("/"),
                                      step_timeout=0.5, quiet_period=0.02)
        assert outcome.passed, text([outcome])
        assert outcome.result.steps_run == len(outcome.result.scenario.steps) == 7
        assert mo_seen(esme) == ["thanks"]
    finally:
        await esme.close()


def mo_seen(esme: Esme) -> list[str]:
    found = []
    while not esme.delivered.empty():
        pdu = esme.delivered.get_nowait()
        if pdu.esm_class == 0:
            found.append(pdu.short_message.decode())
    return found


async def test_a_wrong_smpp_expectation_fails_with_what_happened(emulator_with, aiohttp_server,
                                                                 tmp_path: Path) -> None:
    emu = await emulator_with(smpp_port=0)
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text("""name: nobody is bound
steps:
  - inbound: {provider: tsg, from: "15557654321", to: "15550555055", text: "hello?"}
  - expect_delivery: {provider: tsg, kind: smpp_mo, state: delivered}
""")
    [outcome] = await replay_with(emu.url, [scenario], step_timeout=0.5, quiet_period=0.02)
    assert not outcome.passed
    report = text([outcome])
    assert "state pending (waiting for a receiver or transceiver bind of 'tsg')" in report
