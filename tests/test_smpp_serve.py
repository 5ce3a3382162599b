"""`sms-emulator serve` serves SMPP next to HTTP: the flag, the banner, one message through both
doors."""

from __future__ import annotations

import re

import pytest
from aiohttp import ClientSession

from emulator.cli import build_parser
from emulator.config import DEFAULT_SMPP_PORT
from tests.smpp_support import Esme
from tests.test_serve_cli import start, stop


def test_serve_listens_for_smpp_on_2775_unless_told(monkeypatch) -> None:
    monkeypatch.delenv("SMS_EMULATOR_SMPP_PORT", raising=False)
    assert build_parser().parse_args(["serve"]).smpp_port == DEFAULT_SMPP_PORT == 2775
    assert build_parser().parse_args(["serve", "--smpp-port", "off"]).smpp_port is None
    assert build_parser().parse_args(["serve", "--smpp-port", "0"]).smpp_port == 0
    monkeypatch.setenv("SMS_EMULATOR_SMPP_PORT", "off")
    assert build_parser().parse_args(["serve"]).smpp_port is None


def test_a_bad_smpp_port_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--smpp-port", "ninety"])
    assert "port number (0 to 65535) or off" in capsys.readouterr().err


async def test_serve_prints_the_smpp_address_and_accounts_and_takes_a_submit() -> None:
    proc, url, banner = await start("--clock", "manual", "--smpp-port", "0")
    esme = None
    try:
        text = "\n".join(banner)
        found = re.search(r"SMPP 3\.4   127\.0\.0\.1:(\d+)", text)
        assert found, text
        assert "bind as      telesign / emulator  -> telesign" in text
        assert "bind as      tsg / emulator  -> tsg" in text
        esme = Esme(int(found.group(1)))
        await esme.bind("tsg", "emulator", "transceiver")
        esme.start_reading()
        answer = await esme.submit(destination_addr="15551234567", short_message=b"via smpp")
        assert answer.status == 0
        async with ClientSession() as http, \
                http.get(f"{url}/_emulator/messages/{answer.message_id.decode()}") as response:
            message = await response.json()
        assert (message["text"], message["details"]["via"]) == ("via smpp", "smpp")
    finally:
        if esme is not None:
            await esme.close()
        code, _ = await stop(proc)
    assert code == 0


async def test_smpp_off_prints_no_smpp_line() -> None:
    proc, _, banner = await start("--smpp-port", "off")
    try:
        assert not any(line.startswith("SMPP") for line in banner)
    finally:
        await stop(proc)


async def test_the_readme_smpp_example_binds_submits_and_gets_its_receipt(emulator_with) -> None:
    """The README's smpplib block, verbatim but for the port, in a process of its own."""
    import asyncio
    import sys

    from emulator.app import SMPP
    from tests import readme

    emu = await emulator_with(smpp_port=0)
    script = readme.block("python", "smpplib.client.Client")
    assert '"127.0.0.1", 2775' in script
    created = asyncio.Event()
    unsubscribe = emu.ctx.journal.subscribe(
        lambda entry: created.set() if entry.kind == "message_created" else None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c",
        script.replace('"127.0.0.1", 2775', f'"127.0.0.1", {emu.server.app[SMPP].port}'),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await asyncio.wait_for(created.wait(), 10)
        await emu.advance(10)  # TSG: delivered 3 s after the submit
        line = await asyncio.wait_for(proc.stdout.readline(), 10)
        assert b"stat:DELIVRD" in line and line.startswith(b"b'id:")
    finally:
        unsubscribe()
        proc.kill()
        await proc.wait()


def test_the_readme_shows_the_smpp_defaults_as_they_are() -> None:
    import yaml

    from emulator.app import build_config
    from tests import readme

    shown = yaml.safe_load(readme.block("yaml", "response_timeout_seconds"))
    defaults = build_config().document
    assert shown["smpp"] == defaults["smpp"]
    assert shown["webhooks"] == defaults["webhooks"]
