"""Command line: ``sms-emulator serve | replay | validate | fuzz | example-sut`` (also
``python -m emulator``).

``serve`` lives here; every other command is a module with ``register(subparsers)``, which adds
its parser and sets ``func`` (called with the parsed arguments, returning the exit status), so a
command is added by naming its module in :data:`COMMAND_MODULES`.

``serve`` prints the base URL, the credentials in use, the control API address and the whole
configuration document at start-up, so a new user can point an SDK at it straight away. Then it
prints one line per event (API call, webhook queued or attempted, inbound message, clock
advance; :mod:`emulator.core.logline`) to standard output, after the banner, so one redirect
keeps both; ``--log-format json`` makes each line a JSON object and ``--quiet`` prints none.
With ``--host`` other than a loopback address the banner warns that the control API is reachable
from other machines, and suggests ``--control-token``.
Ctrl-C (or SIGTERM) stops it cleanly and says how many webhook deliveries were still pending,
within a few seconds whatever is in flight; the process then ends without freeing its heap
(:func:`exit_now`).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import yaml
from aiohttp import web

from emulator import __version__
from emulator.app import CONTEXT, PROVIDERS, SMPP
from emulator.config import (
    DEFAULT_SMPP_PORT,
    ConfigError,
    Settings,
    count,
    deep_merge,
    host_name,
    load_config_file,
    port_number,
    positive,
    smpp_port,
)
from emulator.control.guard import is_loopback
from emulator.core.timefmt import in_range, parse_iso
from emulator.embedded import running
from emulator.gc_tuning import CollectorSchedule, tune_for_serving
from emulator.server import raise_open_file_limit, warn_if_limit_too_low


def _start_time(value: str) -> float:
    parsed = parse_iso(value)
    if parsed is None or not in_range(parsed):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO 8601 time with a zone between 1970 and 9000, such as "
            "2026-01-01T00:00:00Z")
    return parsed


def argument_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type from a parser that raises ``ValueError`` with a reason."""
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{text!r} {exc}") from None

    return convert


#: a number greater than 0 (``--speed``, and the fuzzer's seconds)
positive_number = argument_type(positive)


#: modules of the other commands, each with ``register(subparsers)``
COMMAND_MODULES: tuple[str, ...] = ("emulator.replay.cli", "emulator.fuzz.cli",
                                   "emulator.examples.cli")


def build_parser(serve_only: bool = False) -> argparse.ArgumentParser:
    """The command line; ``serve_only``: without the other commands, whose modules ``serve``
    need not import (a tenth of its start-up)."""
    parser = argparse.ArgumentParser(prog="sms-emulator",
                                     description="Local emulator of the Telesign and TSG Global "
                                                 "SMS APIs and their webhooks.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    defaults = Settings.from_env()
    serve = commands.add_parser("serve", help="serve the provider APIs and the control API")
    serve.add_argument("--host", default=defaults.host,
                       help="address to listen on (default %(default)s)")
    serve.add_argument("--port", type=argument_type(port_number), default=defaults.port,
                       help="port to listen on, 0 for any free port (default %(default)s)")
    smpp_default = (defaults.smpp_port if "SMS_EMULATOR_SMPP_PORT" in os.environ
                    else DEFAULT_SMPP_PORT)
    serve.add_argument("--smpp-port", type=argument_type(smpp_port), default=smpp_default,
                       metavar="N|off",
                       help="SMPP 3.4 port on --host, 0 for any free port, off for none "
                            f"(default {smpp_default if smpp_default is not None else 'off'})")
    serve.add_argument("--config", default=defaults.config_path, metavar="FILE",
                       help="YAML configuration document (accounts, webhooks, lifecycle rules)")
    serve.add_argument("--clock", choices=("real", "manual"), default=defaults.clock,
                       help="real time (default) or a manual clock moved by "
                            "POST /_emulator/clock/advance")
    serve.add_argument("--speed", type=positive_number, default=defaults.speed,
                       help="scale real time: 60 means one real second is an emulated minute")
    serve.add_argument("--seed", type=int, default=defaults.seed,
                       help="seed for every generated id and fake value (default: random, "
                            "printed at start-up)")
    serve.add_argument("--start", type=_start_time, default=None, metavar="TIME",
                       help="emulated start time, ISO 8601 (default: now)")
    serve.add_argument("--scenario", metavar="FILE",
                       help="preload a scenario file's configuration (and its seed and start "
                            "time unless --seed/--start are given)")
    serve.add_argument("--sut", metavar="URL",
                       help="with --scenario: the system under test's base URL (${sut})")
    serve.add_argument("--log-format", choices=("text", "json"), default=defaults.log_format,
                       help="event lines on standard output: text (default) or json, one "
                            "object a line")
    serve.add_argument("--quiet", action="store_true", default=defaults.quiet,
                       help="print the banner but no event lines")
    limits = serve.add_argument_group("connections (real seconds, whatever the clock does)")
    limits.add_argument("--max-connections", type=argument_type(count), metavar="N",
                        default=defaults.max_connections,
                        help="connections open at once; more are answered 503 "
                             "(default %(default)s)")
    for name, meaning in (("header", "a request's headers must arrive in full within"),
                          ("body", "a request's body must arrive in full within (else 408)"),
                          ("keepalive", "an idle keep-alive connection is closed after"),
                          ("shutdown", "on Ctrl-C or SIGTERM, requests in flight get")):
        limits.add_argument(f"--{name}-timeout", type=positive_number, metavar="SECONDS",
                            default=getattr(defaults, f"{name}_timeout"),
                            help=f"{meaning} SECONDS (default %(default)s)")
    bounds = serve.add_argument_group("memory (README: Memory and retention)")
    for name, meaning in (("max-messages", "finished messages kept"),
                          ("max-deliveries", "finished webhook deliveries kept"),
                          ("journal-max-entries", "journal entries kept"),
                          ("journal-max-bytes", "estimated bytes of the journal"),
                          ("journal-max-field-bytes", "bytes of one field of a journal entry")):
        attribute = name.replace("-", "_")
        bounds.add_argument(f"--{name}", type=argument_type(count), metavar="N",
                            default=getattr(defaults, attribute),
                            help=f"{meaning} (default %(default)s)")
    serve.add_argument("--control-token", default=defaults.control_token, metavar="TOKEN",
                       help="require Authorization: Bearer TOKEN on /_emulator/* (prefer "
                            "SMS_EMULATOR_CONTROL_TOKEN: a flag shows in the process list)")
    serve.add_argument("--allow-host", action="append", default=list(defaults.allow_hosts),
                       metavar="NAME", dest="allow_hosts", type=argument_type(host_name),
                       help="also accept NAME in the Host header of /_emulator/* (repeatable; "
                            "e.g. a docker-compose service name; '*' accepts any)")
    serve.set_defaults(func=run_serve)
    if not serve_only:
        for name in COMMAND_MODULES:
            importlib.import_module(name).register(commands)
    return parser


def _banner(app: web.Application, url: str) -> str:
    ctx = app[CONTEXT]
    lines = [
        f"sms-emulator {__version__} listening on {url}",
        f"  clock {ctx.clock.mode}"
        + (f" x{ctx.clock.speed:g}" if ctx.clock.mode == "scaled" else "")
        + f", seed {ctx.rng.seed} (pass --seed {ctx.rng.seed} to reproduce)",
    ]
    for provider in app[PROVIDERS].values():
        lines += provider.banner()
    smpp = app.get(SMPP)
    if smpp is not None and smpp.port is not None:
        lines += smpp.banner()
    lines.append(f"Control API  {url}/_emulator  (health, messages, inbound, deliveries, "
                 "journal, clock, config, reset)")
    lines += _exposure(ctx.settings)
    lines.append("Configuration in use:")
    document = yaml.safe_dump(ctx.config.document, sort_keys=False, allow_unicode=True)
    lines += ["  " + line for line in document.rstrip().splitlines()]
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def _exposure(settings: Settings) -> list[str]:
    """Banner lines on who can reach the control API: a warning when it listens beyond this
    machine, and whether a control token is required."""
    lines = []
    if settings.control_token:
        lines.append("  requires Authorization: Bearer <control token> (--control-token)")
    if not is_loopback(settings.host):
        lines.append(f"WARNING: listening on {settings.host}, beyond this machine: whoever can "
                     "reach it can fire signed webhooks at your system and read the API keys "
                     "(GET /_emulator/config).")
        if not settings.control_token:
            lines.append("  Set SMS_EMULATOR_CONTROL_TOKEN (or --control-token) to require "
                         "Authorization: Bearer <token> on /_emulator/*.")
    return lines


async def serve(settings: Settings, document: dict[str, Any] | None) -> int:
    """Serve until Ctrl-C or SIGTERM, then stop within a few seconds whatever is in flight
    (:mod:`emulator.embedded`) and say how many deliveries were left pending, counted after
    the stop: an attempt cut short leaves its delivery pending. A second signal while
    stopping changes nothing."""
    warn_if_limit_too_low(settings.max_connections, raise_open_file_limit())
    tune_for_serving()
    log = None if settings.quiet else sys.stdout
    listening = False
    try:
        async with running(settings, document, log) as (app, url):
            listening = True
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):  # before the banner says to press one
                loop.add_signal_handler(sig, stop.set)
            print(_banner(app, url), flush=True)
            # soon, not before the first answer: the collection it starts takes a few tens of ms
            journal = app[CONTEXT].journal  # anything the emulator does makes an entry
            collector = CollectorSchedule(activity=lambda: journal.last_seq)
            collector.start(COLLECTOR_AFTER_SECONDS)
            try:
                await stop.wait()
            finally:
                collector.stop()
    except OSError as exc:
        if listening:
            raise
        print(f"sms-emulator: cannot listen on {settings.host}:{settings.port}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 2
    pending = app[CONTEXT].dispatcher.pending
    noun = "delivery was" if pending == 1 else "deliveries were"
    print(f"sms-emulator stopped; {pending} webhook {noun} still pending.", flush=True)
    return 0


#: when, after it listens, ``serve`` starts the collector's schedule (:mod:`emulator.gc_tuning`)
COLLECTOR_AFTER_SECONDS = 1.0


def run_serve(args: argparse.Namespace) -> int:
    settings = Settings(host=args.host, port=args.port, smpp_port=args.smpp_port,
                        clock=args.clock, speed=args.speed,
                        seed=args.seed, start=args.start, config_path=args.config,
                        log_format=args.log_format, quiet=args.quiet,
                        max_connections=args.max_connections, header_timeout=args.header_timeout,
                        body_timeout=args.body_timeout, keepalive_timeout=args.keepalive_timeout,
                        shutdown_timeout=args.shutdown_timeout,
                        max_messages=args.max_messages, max_deliveries=args.max_deliveries,
                        journal_max_entries=args.journal_max_entries,
                        journal_max_bytes=args.journal_max_bytes,
                        journal_max_field_bytes=args.journal_max_field_bytes,
                        control_token=args.control_token or None,
                        allow_hosts=tuple(args.allow_hosts))
    if hasattr(sys.stdout, "reconfigure"):  # a line never fails on a terminal's encoding
        sys.stdout.reconfigure(errors="backslashreplace")
    if settings.speed != 1.0 and settings.clock == "manual":
        print("sms-emulator: --speed applies to the real clock, not --clock manual",
              file=sys.stderr)
        return 2
    try:
        document = load_config_file(args.config) if args.config else None
        if args.scenario:
            document = _with_scenario(args.scenario, settings, document, args.sut)
        status = asyncio.run(serve(settings, document))
    except ConfigError as exc:
        print("sms-emulator: configuration problem:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    if status == 0:
        exit_now()
    return status


def exit_now() -> NoReturn:
    """End the process at once, with status 0, once ``serve`` has stopped and said so.

    Everything is already closed and written; what is left is the interpreter freeing every
    object, which after a long run (a few hundred MB of messages, deliveries and journal
    entries) took three and a half seconds, most of a container's stop period."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _with_scenario(path: str, settings: Settings, document: dict[str, Any] | None,
                   sut: str | None) -> dict[str, Any]:
    """``document`` with the scenario's configuration merged over it; the scenario's seed and
    start time become the settings' unless given. ``${emulator}`` is this server's address,
    ``${sut}`` the ``--sut`` URL (or the scenario's ``vars.sut``)."""
    from emulator.replay.scenario import ScenarioError, load
    from emulator.replay.values import ValueProblem, Variables

    try:
        scenario = load(path)
    except ScenarioError as exc:
        raise ConfigError(exc.problems) from None
    if settings.seed is None:
        settings.seed = scenario.seed
    if settings.start is None:  # on any clock, as --start
        settings.start = scenario.start
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    known = {"emulator": f"http://{host}:{settings.port}", **scenario.vars}
    if sut:
        known["sut"] = sut.rstrip("/")
    try:
        config = Variables(known, scenario.seed).resolve(scenario.config)
    except ValueProblem as exc:
        hint = " (pass --sut URL)" if "${sut}" in str(exc) else ""
        raise ConfigError([f"{path}: config: {exc}{hint}"]) from None
    return deep_merge(document or {}, config)


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    try:
        parser = build_parser(serve_only=arguments[:1] == ["serve"])
    except ConfigError as exc:  # a bad SMS_EMULATOR_* variable
        print("sms-emulator: environment problem:\n  " + "\n  ".join(exc.problems),
              file=sys.stderr)
        return 2
    args = parser.parse_args(arguments)
    return args.func(args)
