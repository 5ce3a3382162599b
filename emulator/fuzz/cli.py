"""``sms-emulator fuzz``: fuzz a webhook handler from the command line.

Exit status: 0 when nothing was found, 1 on any finding, 2 on a usage error (a target that is not
loopback without ``--allow-remote``, an unknown kind, malformed credentials, a report that cannot
be written). The result goes to stdout; the progress bar to stderr, on a terminal only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from emulator.cli import positive_number
from emulator.fuzz import kinds as kind_registry
from emulator.fuzz.options import FuzzOptions, UsageError
from emulator.fuzz.progress import ProgressBar

EPILOG = """\
kinds: all, a provider (telesign), a kind (telesign.mo_sms) or its short name (mo_sms);
--kind may repeat or hold a comma-separated list. --list-kinds shows them all.
credentials: provider.name=value, e.g. --credential telesign.api_key=BASE64KEY; defaults are the
emulator's own. Exit status: 0 clean, 1 findings, 2 usage error.
"""


def _statuses(text: str) -> tuple[int, ...]:
    try:
        found = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of HTTP statuses such as "
                                         "200 or 200,204") from None
    if not found:
        raise argparse.ArgumentTypeError("give at least one status")
    return found


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _seed(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 0 or more")
    return int(text)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "fuzz", help="fuzz your webhook handler with the providers' webhooks",
        description="Send your webhook handler the webhooks the providers send, drawn from their "
                    "schemas and biased toward what breaks handlers, plus forged ones; report "
                    "each failure shrunk to its smallest payload, with a curl command and a "
                    "replay scenario.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", metavar="URL",
                        help="your handler's URL (loopback only, unless --allow-remote)")
    parser.add_argument("--kind", action="append", metavar="KIND",
                        help="webhook kind(s) to send (default: all)")
    parser.add_argument("--examples", type=_count, default=100, metavar="N",
                        help="examples per kind (default %(default)s)")
    parser.add_argument("--seed", type=_seed, default=None, metavar="N",
                        help="seed: the same seed sends the same payloads (default: random, "
                             "printed)")
    parser.add_argument("--max-time", type=positive_number, default=60.0, metavar="SECONDS",
                        help="time budget for the whole run (default %(default)g)")
    parser.add_argument("--timeout", type=positive_number, default=5.0, metavar="SECONDS",
                        help="per-request timeout (default %(default)g)")
    parser.add_argument("--credential", action="append", default=[], metavar="PROVIDER.NAME=VALUE",
                        help="a credential your handler verifies with, e.g. "
                             "telesign.api_key=KEY (repeatable)")
    parser.add_argument("--expect", type=_statuses, default=None, metavar="STATUSES",
                        help="statuses a genuine webhook must get, e.g. 200,204 (default: what "
                             "the provider counts as delivered, 200)")
    parser.add_argument("--no-forgeries", dest="security", action="store_false",
                        help="do not send forged (unsigned, badly signed) requests")
    parser.add_argument("--no-extra-fields", dest="extra_fields", action="store_false",
                        help="never add unknown fields to payloads")
    parser.add_argument("--no-sweep", dest="sweep", action="store_false",
                        help="skip the coverage sweep (every bias value and probe once, after "
                             "Hypothesis's examples)")
    parser.add_argument("--report", metavar="PATH", help="write the JSON report here")
    parser.add_argument("--scenario-dir", metavar="DIR",
                        help="write each finding's replay scenario to a YAML file here")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a target that is not a loopback address (only for a host "
                             "you own: the fuzzer sends hostile traffic)")
    parser.add_argument("--list-kinds", action="store_true",
                        help="list the webhook kinds and exit")
    parser.set_defaults(func=run_fuzz)


def _list_kinds() -> int:
    for kind in kind_registry.available().values():
        credentials = ", ".join(f"{kind.provider}.{c.name}" for c in kind.credentials)
        print(f"{kind.name:<26} {kind.summary} [schema {kind.schema}; "
              f"credentials {credentials or 'none'}; forgeries {', '.join(kind.forgeries)}]")
    return 0


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def run_fuzz(args: argparse.Namespace) -> int:
    if args.list_kinds:
        return _list_kinds()
    try:
        if not args.target:
            raise UsageError("--target URL is required, e.g. "
                             "--target http://127.0.0.1:9000/telesign/callback")
        credentials = dict(kind_registry.parse_credential(c) for c in args.credential)
        options = FuzzOptions(target=args.target, kinds=tuple(args.kind or ["all"]),
                              examples=args.examples, seed=args.seed, max_time=args.max_time,
                              timeout=args.timeout, credentials=credentials, expect=args.expect,
                              security=args.security, extra_fields=args.extra_fields,
                              sweep=args.sweep, allow_remote=args.allow_remote)
        options.check()
        chosen = kind_registry.select(options.kinds)
        bar = None
        if not args.quiet and sys.stderr.isatty():
            bar = ProgressBar(sys.stderr, len(chosen))
        try:
            # Hypothesis is loaded only to fuzz, so the other commands start quickly
            from emulator.fuzz.runner import run

            result = run(options, bar)
        finally:
            if bar is not None:
                bar.close()
    except UsageError as exc:
        print(f"sms-emulator fuzz: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sms-emulator fuzz: interrupted", file=sys.stderr)
        return 130
    from emulator.fuzz.report import scenario

    print(result.text())
    try:
        if args.report:
            Path(args.report).write_text(json.dumps(result.report(), ensure_ascii=False,
                                                    indent=2) + "\n", encoding="utf-8")
        if args.scenario_dir and result.findings:
            folder = Path(args.scenario_dir)
            folder.mkdir(parents=True, exist_ok=True)
            for number, finding in enumerate(result.findings, 1):
                path = folder / f"{number:02d}-{_slug(finding.cls)}-{_slug(finding.kind)}.yaml"
                path.write_text(scenario(finding, result.seed), encoding="utf-8")
                print(f"scenario: {path}")
    except OSError as exc:
        print(f"sms-emulator fuzz: error: cannot write {exc.filename}: {exc.strerror}",
              file=sys.stderr)
        return 2
    return 1 if result.findings else 0
