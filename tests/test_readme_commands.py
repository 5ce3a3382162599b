"""The README's curl examples, taken from the README and run by the shell against the emulator
(only its address changed), so that what a new user pastes works."""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest

from tests import readme
from tests.conftest import Emulator, assert_valid

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


async def run_example(emulator: Emulator, containing: str) -> object:
    script = readme.block("sh", containing)
    assert "localhost:8025" in script
    proc = await asyncio.create_subprocess_shell(
        script.replace("localhost:8025", emulator.url.removeprefix("http://")),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    return json.loads(out)


async def test_the_telesign_inbound_example(emulator: Emulator) -> None:
    answer = await run_example(emulator, "localhost:8025/_emulator/inbound")
    assert_valid("control/inbound", answer)
    stop, reply = answer["messages"]
    assert (stop["direction"], stop["text"], stop["details"]["action"]) == (
        "inbound", "STOP", "stop")
    assert (reply["origin"], reply["to"]) == ("provider", "11234567890")


async def test_the_tsg_send_example(emulator: Emulator) -> None:
    answer = await run_example(emulator, "localhost:8025/messages")
    assert_valid("tsg/send-response", answer)
    assert sorted(answer) == ["15005551004", "15551234567"]
    assert {message["status"] for message in answer.values()} == {"new"}
