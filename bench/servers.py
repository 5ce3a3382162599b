"""Starting the benchmarks' servers: as processes on loopback, pinned to a core, and timed
from launch to their first answer."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

#: real seconds a server may take to say where it listens
START_LIMIT = 15.0


async def start(output: Path, *command: str) -> tuple[asyncio.subprocess.Process, str]:
    """Start ``command`` with its standard output in the file ``output``; its URL, once the
    file says where it listens."""
    with output.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(*command, stdout=out,
                                                    stderr=asyncio.subprocess.DEVNULL)
    deadline = time.monotonic() + START_LIMIT
    while time.monotonic() < deadline and proc.returncode is None:
        found = re.search(rb"listening on (http://\S+)", output.read_bytes())
        if found:
            return proc, found.group(1).decode()
        await asyncio.sleep(0.05)  # a benchmark, not a test: poll the file for the banner
    proc.kill()
    raise SystemExit(f"{command[-1]} did not start: {output.read_text(errors='replace')}")


def pin() -> tuple[int, int] | None:
    """Two cores, one for the servers and one for the load (this process moves to it now);
    ``None`` without ``taskset`` or a second core."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if shutil.which("taskset") is None or len(cores) < 2:
        return None
    os.sched_setaffinity(0, {cores[1]})
    return cores[0], cores[1]


def on_core(core: int | None, *command: str) -> tuple[str, ...]:
    """``command`` run on ``core`` (as it is when ``core`` is ``None``)."""
    return command if core is None else ("taskset", "-c", str(core), *command)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def startup_seconds(command: list[str], path: str, limit: float = START_LIMIT) -> float:
    """Real seconds from launching ``command`` (``{port}`` in it replaced by a free port) to
    its first HTTP answer to ``GET path``; polled every 2 ms, the process stopped after."""
    port = free_port()
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    started = time.perf_counter()
    proc = subprocess.Popen([part.replace("{port}", str(port)) for part in command],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < limit:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=limit) as sock:
                    sock.sendall(request)
                    if sock.recv(12).startswith(b"HTTP/1.1 "):
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.002)
        raise SystemExit(f"{' '.join(command)} did not answer within {limit:g} s")
    finally:
        proc.terminate()
        proc.wait()
