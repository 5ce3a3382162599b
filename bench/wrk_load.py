"""HTTP load with ``wrk`` (Debian package ``wrk``): finding or installing it, a Lua script that
sends pre-made requests, and what its report says.

wrk cannot sign requests itself, so every request is made here before a round: the script reads
them from a file (one per NUL byte) and sends them in turn, starting over at the end. A Basic
request is the same every time; HMAC-SHA256 ones carry a fresh nonce each, so the file holds
as many as the round can send (the emulator refuses a nonce used again; the script counts how
often it started over, and :func:`run` says so).

A paced run (:data:`PACED_SCRIPT`) waits ``pace`` ms on average after each answer before a
connection's next request, so that ``connections`` connections offer about
``connections / pace`` requests a millisecond whatever the server's speed: two servers
measured at the same pace carry the same load, and their latencies can be compared as such.
Each wait is drawn between half and one and a half ``pace``, so that the connections do not
keep in step and send in bursts. (wrk times a request from its write, so the wait is not
counted in it.)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = """\
requests, count, sent = {}, 0, 0  -- globals: done() reads them with thread:get
function setup(thread) table.insert(threads, thread) end
function init(args)
  local file = assert(io.open(args[1], "rb"))
  for request in file:read("*a"):gmatch("([^%z]+)%z") do
    count = count + 1
    requests[count] = request
  end
  file:close()
end
function request()
  sent = sent + 1
  return requests[(sent - 1) % count + 1]
end
function done(summary, latency, requests_)
  local wrapped = 0
  for _, thread in ipairs(threads) do
    wrapped = wrapped + math.floor((thread:get("sent") - 1) / thread:get("count"))
  end
  io.write(string.format("started over: %d\\n", wrapped))
end
threads = {}
"""

PACED_SCRIPT = SCRIPT + """\
pace = 0
local load_requests = init
function init(args)
  load_requests(args)
  pace = tonumber(args[2])
end
function delay() return pace * (0.5 + math.random()) end
"""

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclass
class Report:
    requests: int
    seconds: float
    rate: float
    p50_ms: float
    p99_ms: float
    failures: int
    #: times the script ran out of requests and sent the first again
    started_over: int


def find() -> str | None:
    """The path of ``wrk``, installing the Debian package first where this process may (root,
    ``apt-get``); ``None``, having said how to get it, where it is still missing."""
    path = shutil.which("wrk")
    if path is not None:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: installing the Debian package (apt-get install wrk)", flush=True)
        for command in (["apt-get", "install", "-y", "-q", "wrk"],
                        ["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "wrk"]):
            done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
            if done.returncode == 0 and shutil.which("wrk"):
                return shutil.which("wrk")
    print("wrk is missing: install it (Debian/Ubuntu: `sudo apt-get install wrk`, macOS: "
          "`brew install wrk`) for figures that are the server's, not the client's", flush=True)
    return None


def write_requests(path: Path, requests: list[bytes]) -> None:
    path.write_bytes(b"".join(request + b"\0" for request in requests))


def _milliseconds(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        raise ValueError(f"not a wrk latency: {text!r}")
    return float(found.group(1)) * UNITS[found.group(2)]


def parse(output: str) -> Report:
    """The figures of wrk's ``--latency`` report (and our script's last line)."""
    def field(pattern: str) -> str:
        found = re.search(pattern, output, re.MULTILINE)
        if found is None:
            raise ValueError(f"wrk's report has no {pattern!r}:\n{output}")
        return found.group(1)

    done = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", output, re.MULTILINE)
    if done is None:
        raise ValueError(f"wrk's report has no request count:\n{output}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Report(
        requests=int(done.group(1)),
        seconds=_milliseconds(done.group(2) + done.group(3)) / 1e3,
        rate=float(field(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=_milliseconds(field(r"^\s+50%\s+(\S+)")),
        p99_ms=_milliseconds(field(r"^\s+99%\s+(\S+)")),
        failures=(int(non_2xx.group(1)) if non_2xx else 0)
        + (sum(int(n) for n in errors.groups()) if errors else 0),
        started_over=int(field(r"^started over: (\d+)")))


def run(wrk: str, url: str, requests_file: Path, script: Path, seconds: float,
        connections: int, core: int | None, pace_ms: float = 0.0) -> Report:
    """One wrk run: one thread, ``connections`` connections, ``seconds`` long, on ``core``;
    paced (``pace_ms`` above 0) or as fast as the server answers. ``script`` is where the Lua
    script is written (one path for each kind of run)."""
    if not script.exists():
        script.write_text(PACED_SCRIPT if pace_ms > 0 else SCRIPT)
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
               "--latency", "-s", str(script), url, "--", str(requests_file)]
    if pace_ms > 0:
        command.append(f"{pace_ms:g}")
    if core is not None:
        command = ["taskset", "-c", str(core), *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse(done.stdout)
