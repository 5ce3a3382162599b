"""The README's serve command, run as a real process: start-up banner, the official SDK against
it, the manual clock over the control API, and a clean Ctrl-C."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import time
from pathlib import Path

import pytest
from aiohttp import ClientSession
from telesign.messaging import MessagingClient

from emulator.core.timefmt import parse_iso
from tests.conftest import API_KEY, CUSTOMER_ID, in_thread

SCRIPT = Path(sys.executable).with_name("sms-emulator")
STARTUP_LIMIT = 10.0  # seconds; a bound for a hung process, not an expectation


async def start(*args: str) -> tuple[asyncio.subprocess.Process, str, list[str]]:
    proc = await asyncio.create_subprocess_exec(
        str(SCRIPT), "serve", "--port", "0", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    lines: list[str] = []
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), STARTUP_LIMIT)
        if not line:
            err = await proc.stderr.read()
            raise AssertionError(f"serve exited early: {lines} {err.decode()}")
        lines.append(line.decode().rstrip())
        if lines[-1] == "Press Ctrl-C to stop.":
            break
    url = re.search(r"listening on (http://\S+)", lines[0]).group(1)
    return proc, url, lines


async def stop(proc: asyncio.subprocess.Process) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    out, _ = await asyncio.wait_for(proc.communicate(), STARTUP_LIMIT)
    return proc.returncode, out.decode()


async def test_serve_answers_the_official_sdk_and_stops_cleanly(unused_tcp_port: int) -> None:
    proc, url, banner = await start("--clock", "manual", "--seed", "7")
    try:
        text = "\n".join(banner)
        assert url.startswith("http://127.0.0.1:")
        assert f"customer_id  {CUSTOMER_ID}" in text
        assert f"api_key      {API_KEY}" in text
        assert f"Control API  {url}/_emulator" in text
        assert "seed 7" in text
        assert "timeout_seconds: 10.0" in text  # the configuration in use is printed

        hmac_client = MessagingClient(CUSTOMER_ID, API_KEY, rest_endpoint=url)
        basic_client = MessagingClient(CUSTOMER_ID, API_KEY, rest_endpoint=url,
                                       auth_method="Basic")
        sent = await in_thread(hmac_client.message, "15551234567", "Hello", "ARN",
                               callback_url=f"http://127.0.0.1:{unused_tcp_port}/cb")
        assert (sent.status_code, sent.json["status"]["code"]) == (200, 290)
        basic = await in_thread(basic_client.message, "15551234567", "Hello", "ARN")
        assert (basic.status_code, basic.json["status"]["code"]) == (200, 290)

        seen = []
        async with ClientSession() as http:
            for seconds in (0, 2, 3):
                async with http.post(f"{url}/_emulator/clock/advance",
                                     json={"seconds": seconds}) as response:
                    assert response.status == 200
                status = await in_thread(hmac_client.status, sent.json["reference_id"])
                seen.append(status.json["status"]["code"])
        assert seen == [290, 203, 200]
    finally:
        code, rest = await stop(proc)
    assert code == 0
    # the callback to a closed port is still waiting for its retry on the manual clock
    assert "sms-emulator stopped; 1 webhook delivery was still pending." in rest


async def test_serve_applies_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "emulator.yaml"
    config.write_text("telesign:\n  customer_id: 12345678-9ABC-DEF0-1234-56789ABCDEF0\n"
                      "  callback_url: http://127.0.0.1:9/cb\n")
    proc, url, banner = await start("--config", str(config))
    try:
        assert "customer_id  12345678-9ABC-DEF0-1234-56789ABCDEF0" in "\n".join(banner)
        async with ClientSession() as http, http.get(f"{url}/_emulator/config") as response:
            document = await response.json()
        assert document["telesign"]["callback_url"] == "http://127.0.0.1:9/cb"
    finally:
        code, _ = await stop(proc)
    assert code == 0


@pytest.mark.parametrize(("content", "expected"), [
    ("telesign:\n  callback_url: [unclosed\n", ":3:1"),
    ("telesign:\n  auth:\n    date_skew_seconds: soon\n", "telesign.auth.date_skew_seconds"),
    ("- just\n- a list\n", "must be a mapping"),
])
async def test_serve_refuses_a_bad_config_file_clearly(tmp_path: Path, content: str,
                                                       expected: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(content)
    proc = await asyncio.create_subprocess_exec(
        str(SCRIPT), "serve", "--port", "0", "--config", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), STARTUP_LIMIT)
    assert proc.returncode == 2
    assert expected in err.decode()
    assert "Traceback" not in err.decode() + out.decode()


async def test_python_dash_m_emulator_is_the_same_command() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator", "serve", "--help",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(), STARTUP_LIMIT)
    assert proc.returncode == 0
    for option in ("--host", "--port", "--config", "--clock", "--speed", "--seed"):
        assert option in out.decode()


async def test_serve_preloads_a_scenarios_configuration_seed_and_start() -> None:
    scenario = Path(__file__).resolve().parent.parent / "scenarios" / "tsg-auto-reply.yaml"
    proc, url, banner = await start("--clock", "manual", "--scenario", str(scenario),
                                    "--sut", "http://127.0.0.1:8000/")
    try:
        assert "seed 22" in "\n".join(banner)  # the scenario's seed
        async with ClientSession() as http:
            async with http.get(f"{url}/_emulator/config") as response:
                document = await response.json()
            async with http.get(f"{url}/_emulator/clock") as response:
                clock = await response.json()
        number = document["tsg"]["numbers"]["15550555055"]
        assert number == {"webhook_url": "http://127.0.0.1:8000/tsg/webhook",
                          "x_api_key": "shop-secret"}
        assert clock["now"] == "2026-01-01T00:00:00.000000Z"
    finally:
        code, _ = await stop(proc)
    assert code == 0


@pytest.mark.parametrize("clock", [[], ["--speed", "60"]], ids=["real", "scaled"])
async def test_serve_starts_a_running_clock_at_the_scenarios_start(tmp_path: Path,
                                                                   clock: list[str]) -> None:
    """As ``--start`` does: the clock starts at the scenario's start and runs on from there."""
    scenario = tmp_path / "later.yaml"
    scenario.write_text('name: later\nstart: "2031-05-06T07:08:09Z"\nsteps: [{advance: 1}]\n')
    begun = time.monotonic()
    proc, url, _ = await start(*clock, "--scenario", str(scenario))
    try:
        async with ClientSession() as http, http.get(f"{url}/_emulator/clock") as response:
            state = await response.json()
        elapsed = time.monotonic() - begun
    finally:
        code, _ = await stop(proc)
    assert code == 0
    assert state["mode"] != "manual"
    speed = 60.0 if clock else 1.0
    assert state["speed"] == speed
    ran = parse_iso(state["now"]) - parse_iso("2031-05-06T07:08:09Z")
    assert 0 <= ran <= elapsed * speed


async def test_serve_refuses_a_bad_scenario_clearly(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("name: x\nsteps:\n  - advanse: 1\n")
    proc = await asyncio.create_subprocess_exec(
        str(SCRIPT), "serve", "--port", "0", "--scenario", str(scenario),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), STARTUP_LIMIT)
    assert proc.returncode == 2
    assert f"{scenario}:3:5: steps.0.advanse: unknown step 'advanse'" in err.decode()


async def test_serve_asks_for_sut_when_the_scenario_needs_it() -> None:
    scenario = Path(__file__).resolve().parent.parent / "scenarios" / "tsg-auto-reply.yaml"
    proc = await asyncio.create_subprocess_exec(
        str(SCRIPT), "serve", "--port", "0", "--scenario", str(scenario),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), STARTUP_LIMIT)
    assert proc.returncode == 2
    assert "${sut} is not defined" in err.decode() and "(pass --sut URL)" in err.decode()


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("SMS_EMULATOR_PORT", "abc", "SMS_EMULATOR_PORT: 'abc' is not a port number"),
    ("SMS_EMULATOR_PORT", "70000", "is not a port number (0 to 65535)"),
    ("SMS_EMULATOR_CLOCK", "bogus", "SMS_EMULATOR_CLOCK: 'bogus' is not a clock mode"),
    ("SMS_EMULATOR_SPEED", "0", "SMS_EMULATOR_SPEED: '0' must be a number greater than 0"),
    ("SMS_EMULATOR_SEED", "-3", "SMS_EMULATOR_SEED: '-3' is not a whole number"),
    ("SMS_EMULATOR_LOG_FORMAT", "xml", "SMS_EMULATOR_LOG_FORMAT: 'xml' is not a log format"),
    ("SMS_EMULATOR_QUIET", "maybe", "SMS_EMULATOR_QUIET: 'maybe' is not a yes/no value"),
    ("SMS_EMULATOR_MAX_CONNECTIONS", "0",
     "SMS_EMULATOR_MAX_CONNECTIONS: '0' is not a whole number >= 1"),
    ("SMS_EMULATOR_HEADER_TIMEOUT", "soon", "SMS_EMULATOR_HEADER_TIMEOUT: 'soon' is not a number"),
    ("SMS_EMULATOR_SHUTDOWN_TIMEOUT", "-1",
     "SMS_EMULATOR_SHUTDOWN_TIMEOUT: '-1' must be a number greater than 0"),
])
def test_a_bad_environment_variable_is_named(monkeypatch, capsys, variable: str, value: str,
                                             expected: str) -> None:
    from emulator.cli import main

    monkeypatch.setenv(variable, value)
    assert main(["serve"]) == 2
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize("args", [["serve", "--port", "99999"], ["serve", "--speed", "nan"],
                                  ["replay", "--port", "-1", "x.yaml"]])
def test_bad_options_are_usage_errors(capsys, args: list[str]) -> None:
    from emulator.cli import main

    with pytest.raises(SystemExit) as caught:
        main(args)
    assert caught.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_only_serve_tunes_the_garbage_collector() -> None:
    """``serve`` collects young objects less often (emulator.gc_tuning); this test process,
    which has run emulators through the fixtures and the plugin, keeps Python's defaults."""
    import gc

    from emulator.gc_tuning import SERVE_THRESHOLDS, tune_for_serving

    before = gc.get_threshold()
    assert before == (700, 10, 10)
    try:
        tune_for_serving()
        assert gc.get_threshold() == SERVE_THRESHOLDS
    finally:
        gc.set_threshold(*before)


def test_serve_imports_only_what_serving_needs() -> None:
    """Start-up: ``serve`` leaves the other commands' modules and jsonschema (imported on a
    first validation) alone; the full command line still has every command."""
    import subprocess

    probe = ("import sys\n"
             "from emulator.cli import build_parser\n"
             "from emulator.app import build_app\n"
             "from emulator.config import Settings\n"
             "build_parser(serve_only=True)\n"
             "build_app(Settings())\n"
             "print(sorted(m for m in sys.modules if m.startswith(('emulator.replay',"
             " 'emulator.fuzz', 'emulator.examples', 'jsonschema', 'hypothesis'))))\n"
             "build_parser()\n"
             "print('emulator.replay.cli' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "True"], done.stdout
