"""Benchmark: submit_sm over one bound SMPP session against ``POST /v1/messaging``, one server.

One emulator process runs as ``sms-emulator serve`` runs it (real clock, so lifecycles and
their jobs run too; ``--quiet``), with SMPP on a free port next to HTTP. In it, alternately:

- **SMPP**: an ESME written here over asyncio streams with ``smpplib``'s codec (a PDU codec
  nobody here wrote) binds as a transceiver (``telesign``/``emulator``) and keeps ``--window``
  submit_sm outstanding until ``--messages`` are answered; deliver_sm and enquire_link are
  answered, any other status than ESME_ROK is an error. The submit_sm carries what the REST
  request does: the same text and number, no sender (Telesign picks one), no receipt asked.
- **HTTP**: as many HMAC-signed ``POST /v1/messaging`` over ``--window`` connections (the
  requests and load generator of ``messaging_bench.py``).

Both make the same message records in the same provider. The store is reset before each phase
so it does not grow. Per phase: messages per second, and CPU time per message, from ``/proc``
(steadier on a shared machine than throughput):

- **server**: the emulator's, from the phase's start to its last answer. The lifecycle steps
  that fall due within the phase (a message's first comes 2 s after it) are in it too, so a
  slower phase is charged a few more of them;
- **+lifecycle**: the same to ``--settle`` seconds after the last answer, the length of the
  default Telesign lifecycle (290, 203 after 2 s, 200 after 3 more): each phase's messages
  with all their steps, whatever its speed (the wait is real time; ``--settle 0`` skips it);
- **load gen**: this process's, to tell whether the server or the load was the limit. The
  submit_sm are made before the clock starts (only their sequence numbers differ).

Medians and the ratios SMPP / HTTP are printed; the aim is SMPP no slower per message than
REST. With ``taskset`` and two cores the server runs on one core and this load generator on
another.

Bounded: a fixed message count per phase, a time limit per phase, loopback only.

    python bench/smpp_bench.py [--messages 5000] [--window 10] [--rounds 3] [--max-seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import shutil
import statistics
import struct
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

import aiohttp
from proc_stats import cpu_seconds  # beside this script, as the next two
from python_load import load
from servers import pin, start
from smpplib import smpp

SYSTEM_ID, PASSWORD = "telesign", "emulator"
DESTINATION = "15551234567"
TEXT = b"Your code is 123456"  # the text of messaging_bench's REST body
LENGTH = struct.Struct(">I")
#: a step of the ESME's (bind, unbind) that takes longer means the server is stuck
STEP_TIMEOUT = 10.0
DEFAULT_SETTLE = 5.5  # the default Telesign lifecycle's 5 s, and a margin


class SmppError(Exception):
    """The session did what an ESME cannot go on from."""


class Esme:
    """One bound SMPP session over asyncio streams; PDUs made and read by ``smpplib``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._sequence = 0
        self._buffer = bytearray()
        self._received: deque[Any] = deque()

    @classmethod
    async def bind(cls, host: str, port: int) -> Esme:
        reader, writer = await asyncio.open_connection(host, port)
        esme = cls(reader, writer)
        esme.writer.write(esme.pdu("bind_transceiver", system_id=SYSTEM_ID, password=PASSWORD,
                                   system_type="", addr_ton=0, addr_npi=0, address_range="")[1])
        answer = await asyncio.wait_for(esme.read(), STEP_TIMEOUT)
        if answer.command != "bind_transceiver_resp" or answer.status:
            raise SmppError(f"bind as {SYSTEM_ID}: {answer.command} status {answer.status}")
        return esme

    def pdu(self, command: str, sequence: int | None = None, **fields: Any) -> tuple[int, bytes]:
        """``command``'s sequence number (a new one unless it answers one) and bytes."""
        if sequence is None:
            self._sequence += 1
            sequence = self._sequence
        pdu = smpp.make_pdu(command, sequence=sequence, **fields)
        pdu.sequence = sequence  # make_pdu keeps a client's counter; this one is ours
        return sequence, pdu.generate()

    async def read(self) -> Any:
        """The next PDU from the server, parsed. A whole read's PDUs are cut at once, so that a
        window's answers cost one wake-up of this process, not two per PDU."""
        while not self._received:
            data = await self.reader.read(64 * 1024)
            if not data:
                raise SmppError("the emulator closed the connection")
            self._buffer += data
            while len(self._buffer) >= 16:
                (length,) = LENGTH.unpack_from(self._buffer)
                if length < 16:
                    raise SmppError(f"command_length {length}: the stream is out of step")
                if len(self._buffer) < length:
                    break
                raw = bytes(self._buffer[:length])
                del self._buffer[:length]
                self._received.append(smpp.parse_pdu(raw, sequence=0,
                                                     allow_unknown_opt_params=True))
        return self._received.popleft()

    def submits(self, messages: int) -> list[tuple[int, bytes]]:
        """``messages`` submit_sm, made before the clock starts: only their sequence numbers
        differ, and the library's ~40 us a PDU would be this process's largest cost."""
        return [self.pdu("submit_sm", source_addr_ton=0, source_addr_npi=0, source_addr="",
                         dest_addr_ton=1, dest_addr_npi=1, destination_addr=DESTINATION,
                         registered_delivery=0, data_coding=0, short_message=TEXT)
                for _ in range(messages)]

    async def run(self, submits: list[tuple[int, bytes]], window: int) -> int:
        """Send ``submits`` with ``window`` unanswered at a time; how many were answered with
        another status than ESME_ROK."""
        outstanding: set[int] = set()
        sent = answered = errors = 0

        def send_next() -> None:
            nonlocal sent
            sequence, data = submits[sent]
            outstanding.add(sequence)
            self.writer.write(data)
            sent += 1

        while sent < min(window, len(submits)):
            send_next()
        while answered < len(submits):
            pdu = await self.read()
            if pdu.command == "submit_sm_resp" and pdu.sequence in outstanding:
                outstanding.discard(pdu.sequence)
                answered += 1
                errors += pdu.status != 0
                if sent < len(submits):
                    send_next()
            elif pdu.command == "deliver_sm":
                self.writer.write(self.pdu("deliver_sm_resp", pdu.sequence, message_id="")[1])
            elif pdu.command == "enquire_link":
                self.writer.write(self.pdu("enquire_link_resp", pdu.sequence)[1])
            else:  # generic_nack, unbind, an answer to nothing we sent
                raise SmppError(f"{pdu.command} (sequence {pdu.sequence}, status "
                                f"{pdu.status}) while submitting")
            await self.writer.drain()  # at once unless the server stopped reading
        return errors

    async def close(self) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, TimeoutError):
            self.writer.write(self.pdu("unbind")[1])  # closing anyway if no answer comes
            await self.writer.drain()
            while (await asyncio.wait_for(self.read(), STEP_TIMEOUT)).command != "unbind_resp":
                pass
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def smpp_load(host: str, port: int, messages: int, window: int,
                    limit: float) -> tuple[float, int, float]:
    """Bind, submit ``messages`` over one session, unbind; messages per second and this
    process's CPU seconds (the submits alone, not the bind), and the number of error
    answers."""
    esme = await Esme.bind(host, port)
    try:
        submits = esme.submits(messages)
        started, ours = time.perf_counter(), time.process_time()
        try:
            errors = await asyncio.wait_for(esme.run(submits, window), limit)
        except TimeoutError:
            raise SystemExit(f"SMPP: {messages} submit_sm not answered within {limit:g} s "
                             "(--max-seconds)") from None
        except (SmppError, asyncio.IncompleteReadError, OSError) as exc:
            raise SystemExit(f"SMPP: {exc or type(exc).__name__}") from None
        elapsed, ours = time.perf_counter() - started, time.process_time() - ours
    finally:
        await esme.close()
    return messages / elapsed, errors, ours


async def http_load(url: str, messages: int, window: int,
                    limit: float) -> tuple[float, int, float]:
    """messaging_bench's load (which stops at its time limit: here that is an error), as
    :func:`smpp_load` answers."""
    started, ours = time.monotonic(), time.process_time()
    rate, failures = await load(url, messages, window, limit)
    if time.monotonic() - started >= limit:
        raise SystemExit(f"HTTP: {messages} POST /v1/messaging not answered within {limit:g} s "
                         "(--max-seconds)")
    return rate, failures, time.process_time() - ours


async def reset(url: str) -> None:
    async with aiohttp.ClientSession() as http, \
            http.post(f"{url}/_emulator/reset") as response:
        if response.status != 200:
            raise SystemExit(f"POST /_emulator/reset: HTTP {response.status}")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000, help="messages per phase")
    parser.add_argument("--window", type=int, default=10,
                        help="submit_sm outstanding, and concurrent HTTP connections")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of SMPP then HTTP")
    parser.add_argument("--max-seconds", type=float, default=60.0,
                        help="real seconds a phase's load may take at most")
    parser.add_argument("--settle", type=float, default=DEFAULT_SETTLE,
                        help="seconds after a phase's last answer that its CPU is still read, "
                             f"for its lifecycle steps (default {DEFAULT_SETTLE:g})")
    args = parser.parse_args()
    if args.messages < 1 or args.window < 1 or args.rounds < 1:
        parser.error("--messages, --window and --rounds must be at least 1")
    if args.max_seconds <= 0 or args.settle < 0:
        parser.error("--max-seconds must be above 0 and --settle at least 0")

    cores = pin()
    serve = ("taskset", "-c", str(cores[0])) if cores else ()
    serve += (sys.executable, "-m", "emulator", "serve", "--clock", "real", "--port", "0",
              "--smpp-port", "0", "--quiet", "--seed", "1")
    folder = Path(tempfile.mkdtemp(prefix="sms-emulator-smpp-bench-"))
    banner = folder / "server.log"
    try:
        server, url = await start(banner, *serve)
    except SystemExit:
        shutil.rmtree(folder)
        raise
    found = re.search(rb"SMPP 3\.4\s+(\S+):(\d+)", banner.read_bytes())
    host, port = (found.group(1).decode(), int(found.group(2))) if found else ("", 0)
    phases = {
        "SMPP": lambda limit: smpp_load(host, port, args.messages, args.window, limit),
        "HTTP": lambda limit: http_load(url, args.messages, args.window, limit)}
    rates: dict[str, list[float]] = {name: [] for name in phases}
    #: server CPU per message over the load, and to the end of the lifecycles; ours, the load
    cpu: dict[str, dict[str, list[float]]] = {
        name: {"load": [], "life": [], "client": []} for name in phases}
    if cores:
        print(f"server pinned to core {cores[0]}, load generator to core {cores[1]}", flush=True)
    try:
        if found is None:
            raise SystemExit("the emulator printed no SMPP address: " + banner.read_text())
        warm = min(300, args.messages)  # imports, caches, the first connections: not counted
        await smpp_load(host, port, warm, args.window, args.max_seconds)
        await http_load(url, warm, args.window, args.max_seconds)
        for round_number in range(1, args.rounds + 1):
            for name, run in phases.items():
                await reset(url)
                before = cpu_seconds(server.pid)
                rate, errors, ours = await run(args.max_seconds)
                loaded = cpu_seconds(server.pid)
                if errors:
                    raise SystemExit(f"{name}: {errors} of {args.messages} answers were errors; "
                                     "the benchmark would measure an error path")
                if args.settle:
                    await asyncio.sleep(args.settle)  # a benchmark: lifecycles in real time
                settled = cpu_seconds(server.pid)
                rates[name].append(rate)
                cpu[name]["client"].append(ours / args.messages * 1e6)
                line = f"round {round_number}  {name}  {rate:6.0f} msg/s"
                if before is not None and loaded is not None and settled is not None:
                    cpu[name]["load"].append((loaded - before) / args.messages * 1e6)
                    line += f"  server {cpu[name]['load'][-1]:4.0f} us/msg"
                    if args.settle:
                        cpu[name]["life"].append((settled - before) / args.messages * 1e6)
                        line += f" ({cpu[name]['life'][-1]:4.0f} with lifecycle)"
                line += f"  load generator {cpu[name]['client'][-1]:4.0f} us/msg"
                print(line, flush=True)
        await reset(url)
    finally:
        server.terminate()
        await server.wait()
        shutil.rmtree(folder)

    print(f"one emulator (real clock, --quiet), window {args.window}, "
          f"{args.messages} messages x {args.rounds} rounds (medians; CPU per message)")
    columns = [("msg/s", lambda name: median(rates[name]), "{:7.0f}")]
    if cpu["SMPP"]["load"]:
        columns.append(("server", lambda name: median(cpu[name]["load"]), "{:7.0f} us"))
    if cpu["SMPP"]["life"]:
        columns.append(("+lifecycle", lambda name: median(cpu[name]["life"]), "{:7.0f} us"))
    columns.append(("load gen", lambda name: median(cpu[name]["client"]), "{:7.0f} us"))
    print(" " * 30 + "".join(f"{title:>11}" for title, _, _ in columns))
    for label, name in (("SMPP submit_sm, one session", "SMPP"),
                        ("POST /v1/messaging, HMAC", "HTTP")):
        print(f"  {label:<28}" + "".join(f"{fmt.format(value(name)):>11}"
                                          for _, value, fmt in columns))
    ratios = [value("SMPP") / value("HTTP") for _, value, _ in columns]
    print(f"  {'ratio SMPP / HTTP':<28}" + "".join(f"{ratio:11.2f}" for ratio in ratios))
    verdict = "meets" if ratios[0] >= 1 and (len(ratios) < 3 or ratios[1] <= 1) else "misses"
    print(f"  SMPP {verdict} the aim: no slower per message than POST /v1/messaging "
          "(msg/s ratio >= 1, server CPU ratio <= 1)")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
