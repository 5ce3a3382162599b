"""What a real ``sms-emulator serve`` process says about bad requests and exhausted descriptors
on standard error: one line per malformed request (aiohttp prints a traceback for each),
``accept()`` failures throttled, and the open-file limit raised to the hard one at start."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.slow_support import LIMIT, connect, until_closed
from tests.test_serve_cli import SCRIPT, STARTUP_LIMIT

GARBAGE = [b"GARBAGE\r\n\r\n", b"GET / HTTP/9.x\r\n\r\n", b"GET /\x00 HTTP/1.1\r\n\r\n",
           b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
           b"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
           b"BAD\x01LINE / HTTP/1.1\r\n\r\n"]


def limit_files(soft: int, hard: int | None = None) -> Callable[[], None]:
    def apply() -> None:  # runs in the child, before exec
        import resource

        current_hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, current_hard if hard is None
                                                    else hard))
    return apply


async def start(*args: str, preexec_fn: Callable[[], None] | None = None
                ) -> tuple[asyncio.subprocess.Process, int]:
    proc = await asyncio.create_subprocess_exec(
        str(SCRIPT), "serve", "--port", "0", "--clock", "manual", "--quiet", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, preexec_fn=preexec_fn)
    port = None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), STARTUP_LIMIT)).decode()
        assert line, f"serve exited early: {(await proc.stderr.read()).decode()}"
        if found := re.search(r"listening on http://127\.0\.0\.1:(\d+)", line):
            port = int(found.group(1))
        if line.startswith("Press Ctrl-C"):
            assert port is not None
            return proc, port


async def stop(proc: asyncio.subprocess.Process) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(proc.communicate(), STARTUP_LIMIT)
    return proc.returncode, out.decode(), err.decode()


async def test_each_malformed_request_makes_one_log_line_and_no_traceback() -> None:
    proc, port = await start()
    try:
        for garbage in GARBAGE:
            reader, writer = await connect(port)
            writer.write(garbage)
            answer, _ = await until_closed(reader)
            writer.close()
            # the last answer (after a good request's 200 for the last one) is the 400
            assert re.findall(rb"HTTP/1\.[01] (\d{3}) ", answer)[-1] == b"400", answer
    finally:
        code, _, err = await stop(proc)
    assert code == 0
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == len(GARBAGE), err
    assert all(line.startswith("bad request from 127.0.0.1: ") for line in lines), err
    assert "bad request from 127.0.0.1: Invalid method encountered: b'GARBAGE' (answered 400)" \
        in lines
    assert any("Invalid minor version" in line and "HTTP/9.x" in line for line in lines)


linux_only = pytest.mark.skipif(not Path("/proc/self/limits").exists(),
                                reason="reads /proc/<pid>/limits")


def open_files_limits(pid: int) -> tuple[int, int]:
    text = Path(f"/proc/{pid}/limits").read_text()
    soft, hard = re.search(r"Max open files\s+(\d+)\s+(\d+)", text).groups()
    return int(soft), int(hard)


@linux_only
async def test_serve_raises_the_soft_open_file_limit_to_the_hard_one() -> None:
    hard = open_files_limits(os.getpid())[1]
    if hard <= 256:
        pytest.skip(f"the hard limit here is only {hard}")
    proc, _ = await start(preexec_fn=limit_files(256))
    try:
        assert open_files_limits(proc.pid) == (hard, hard)
    finally:
        code, _, err = await stop(proc)
    assert code == 0 and err == ""


@pytest.mark.skipif(sys.platform == "win32", reason="no open-file limit to lower")
async def test_accept_failures_are_throttled_and_clients_get_in_again() -> None:
    # 48 descriptors, a few of them taken by Python itself: the 50 connections of this test
    # exhaust them, and asyncio reports each failed accept() (many per event-loop turn)
    proc, port = await start("--header-timeout", "30", preexec_fn=limit_files(48, 48))
    held = []
    early: list[str] = []  # standard error read while the descriptors are exhausted
    try:
        for _ in range(50):
            held.append(await connect(port))  # the kernel completes connections on its own
        while not any("cannot accept a connection" in line for line in early):
            line = (await asyncio.wait_for(proc.stderr.readline(), LIMIT)).decode()
            assert line, f"serve exited early: {early}"
            early.append(line)
        for _, writer in held:
            writer.close()
        held.clear()
        deadline = asyncio.get_running_loop().time() + LIMIT
        while True:  # asyncio retries accept() a second after a failure
            reader, writer = await connect(port)
            writer.write(b"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Connection: close\r\n\r\n")
            answer, _ = await until_closed(reader)
            writer.close()
            if answer.startswith(b"HTTP/1.1 200") or \
                    asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.05)
        assert answer.startswith(b"HTTP/1.1 200"), answer
    finally:
        for _, writer in held:
            writer.close()
        code, _, err = await stop(proc)
    err = "".join(early) + err
    assert code == 0
    lines = err.splitlines()
    assert "the open-file limit (48) is below max_connections (1000) + 64" in lines[0]
    failures = [line for line in lines if "cannot accept a connection" in line]
    assert 1 <= len(failures) <= 3, err
    assert "Too many open files" in failures[0]
    assert "out of system resource" not in err and "Traceback" not in err
    assert len(lines) <= 6, err


def test_a_throttle_lets_one_line_through_per_interval_and_counts_the_rest(caplog) -> None:
    import logging

    from emulator.server import Throttle

    now = [100.0]
    throttle = Throttle(logging.getLogger("sms_emulator.server"), 5.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, "sms_emulator.server"):
        for step in range(12):  # one event a second for 12 s
            now[0] = 100.0 + step
            throttle(f"event {step}", "events")
        throttle.flush()
    assert [r.getMessage() for r in caplog.records] == [
        "event 0", "event 5 (4 more events since the last such line)",
        "event 10 (4 more events since the last such line)", "... and 1 more events"]
