"""``sms-emulator replay FILE...`` and ``sms-emulator validate FILE...``.

``replay`` exits 0 when every scenario passes, 1 when any fails or any file is not a valid
scenario (every file is checked first, as ``validate`` checks it, and then nothing runs), 2 when
it cannot run at all (no emulator to reach or start). ``validate`` exits 0 when every file is a
valid scenario, 1 otherwise, printing ``file:line:column: field: message`` for each problem.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from emulator.cli import argument_type
from emulator.config import ConfigError, Settings, load_config_file, port_number
from emulator.replay import replay
from emulator.replay.control import ControlFailure
from emulator.replay.report import junit, text
from emulator.replay.scenario import ScenarioError, load


def _variable(value: str) -> tuple[str, str]:
    name, sep, content = value.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"{value!r} is not NAME=VALUE")
    return name.strip(), content


def register(commands: Any) -> None:
    run = commands.add_parser("replay", help="run scenario files against a system under test")
    run.add_argument("files", nargs="+", metavar="FILE", help="scenario files (YAML or JSON)")
    run.add_argument("--emulator", metavar="URL",
                     help="use the emulator running at URL instead of starting one")
    run.add_argument("--host", default="127.0.0.1",
                     help="address of the emulator it starts (default %(default)s)")
    run.add_argument("--port", type=argument_type(port_number), default=0,
                     help="port of the emulator it starts (default: a free one, printed; every "
                          "request to the system under test names the emulator's URL in its "
                          "SMS-Emulator-URL header)")
    run.add_argument("--clock", choices=("manual", "real"), default="manual",
                     help="clock of the emulator it starts (default manual)")
    run.add_argument("--config", metavar="FILE",
                     help="base configuration of the emulator it starts")
    run.add_argument("--sut", metavar="URL", help="base URL of the system under test (${sut})")
    run.add_argument("--var", action="append", type=_variable, default=[], metavar="NAME=VALUE",
                     help="set a variable (repeatable)")
    run.add_argument("--junit", metavar="PATH", help="also write JUnit XML to PATH")
    run.add_argument("--step-timeout", type=float, default=5.0, metavar="SECONDS",
                     help="real seconds an expectation waits for the system under test "
                          "(default %(default)s)")
    run.add_argument("--quiet-period", type=float, default=0.2, metavar="SECONDS",
                     help="real seconds a 'no ...' expectation waits before it checks "
                          "(default %(default)s)")
    run.set_defaults(func=run_replay)

    check = commands.add_parser("validate", help="check scenario files against the schema")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(func=run_validate)


def _announce(url: str) -> None:
    print(f"emulator at {url} (the SMS-Emulator-URL header of every request to the system "
          "under test)", flush=True)


def run_replay(args: argparse.Namespace) -> int:
    try:
        config = load_config_file(args.config) if args.config else None
    except ConfigError as exc:
        print("sms-emulator: configuration problem:\n  " + "\n  ".join(exc.problems),
              file=sys.stderr)
        return 2
    settings = Settings(host=args.host, port=args.port, clock=args.clock)
    try:
        outcomes = asyncio.run(replay(
            args.files, emulator_url=args.emulator, settings=settings, config=config,
            sut_url=args.sut, variables=dict(args.var), step_timeout=args.step_timeout,
            quiet_period=args.quiet_period, started=_announce))
    except OSError as exc:
        where = f"{args.host}:{args.port}" if args.port else f"a free port of {args.host}"
        print(f"sms-emulator: cannot start the emulator on {where}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    except (ControlFailure, ConfigError) as exc:
        print(f"sms-emulator: {exc}", file=sys.stderr)
        return 2
    print(text(outcomes), flush=True)
    if args.junit:
        Path(args.junit).write_text(junit(outcomes), encoding="utf-8")
    return 0 if all(outcome.passed for outcome in outcomes) else 1


def run_validate(args: argparse.Namespace) -> int:
    failed = 0
    for file in args.files:
        try:
            scenario = load(file)
        except ScenarioError as exc:
            failed += 1
            for problem in exc.problems:
                print(problem)
            continue
        print(f"{file}: ok ({scenario.name!r}, {len(scenario.steps)} steps)")
    return 1 if failed else 0
