"""``sms-emulator example-sut``: serve the example shop (:mod:`emulator.examples.shop`), the
system under test the scenarios in ``scenarios/`` replay against.

It prints its base URL and the emulator it uses, then serves until Ctrl-C (or SIGTERM). Exit
status 0 after a clean stop, 2 when it cannot start (the port is taken, the Telesign SDK is not
installed).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from emulator.cli import argument_type
from emulator.config import port_number
from emulator.providers.telesign.provider import DEFAULT_API_KEY, DEFAULT_CUSTOMER_ID
from emulator.providers.tsg.provider import DEFAULT_API_KEY as DEFAULT_TSG_API_KEY

DEFAULT_PORT = 8000
DEFAULT_EMULATOR = "http://127.0.0.1:8025"


def _http_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("is not an http(s) URL such as http://127.0.0.1:8025")
    return text.rstrip("/")


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "example-sut", help="serve the example system under test the scenarios replay against",
        description="Serve the example shop: it sends SMS through the official Telesign SDK and "
                    "TSG Global's API and handles both providers' webhooks. A request with an "
                    "SMS-Emulator-URL header (sms-emulator replay sends one) uses that emulator; "
                    "any other uses --emulator.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default %(default)s)")
    parser.add_argument("--port", type=argument_type(port_number), default=DEFAULT_PORT,
                        help="port to listen on, 0 for any free port (default %(default)s)")
    parser.add_argument("--emulator", type=argument_type(_http_url), default=DEFAULT_EMULATOR,
                        metavar="URL",
                        help="the emulator for requests without an SMS-Emulator-URL header "
                             "(default %(default)s, where make run serves it)")
    parser.add_argument("--customer-id", default=DEFAULT_CUSTOMER_ID,
                        help="Telesign customer id (default: the emulator's)")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY,
                        help="Telesign api key (default: the emulator's)")
    parser.add_argument("--tsg-api-key", default=DEFAULT_TSG_API_KEY,
                        help="TSG Global api key (default: the emulator's)")
    parser.add_argument("--ignore-stop", action="store_true",
                        help="a broken shop that sends notices to users who answered STOP")
    parser.set_defaults(func=run_example_sut)


async def _serve(app: web.Application, host: str, port: int, emulator: str) -> int:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            print(f"sms-emulator: cannot listen on {host}:{port}: {exc.strerror or exc}",
                  file=sys.stderr)
            return 2
        bound = runner.addresses[0][1]
        shown = f"[{host}]" if ":" in host else host
        print(f"example shop listening on http://{shown}:{bound}\n"
              f"  sends to the emulator at {emulator}, or at the SMS-Emulator-URL header of a "
              "request (sms-emulator replay sends it)\n"
              "Press Ctrl-C to stop.", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
    print("example shop stopped.", flush=True)
    return 0


def run_example_sut(args: argparse.Namespace) -> int:
    try:
        from emulator.examples.shop import Shop
    except ImportError as exc:  # the Telesign SDK is the shop's own dependency, not ours
        print(f"sms-emulator: the example shop needs the official Telesign SDK "
              f"(pip install telesign): {exc}", file=sys.stderr)
        return 2
    shop = Shop(args.emulator, args.customer_id, args.api_key, tsg_api_key=args.tsg_api_key,
                ignore_stop=args.ignore_stop)
    return asyncio.run(_serve(shop.app(), args.host, args.port, args.emulator))
