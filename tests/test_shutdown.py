"""SIGTERM stops a real ``sms-emulator serve`` within a few seconds whatever is in flight:
clients stuck in the middle of a body, and a clock advance waiting on a webhook receiver that
never answers (with a 60 s webhook timeout). The exit line still counts pending deliveries."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from pathlib import Path

from tests.conftest import assert_valid
from tests.slow_support import (
    LIMIT,
    body_of,
    connect,
    hanging_receiver,
    one_answer,
    request,
    status_of,
    telesign_send,
    until_closed,
)
from tests.test_serve_cli import start

STUCK = request("POST", "/v1/messaging", b"phone_number=1555",
                {"Content-Type": "application/x-www-form-urlencoded"}, length=500)
STUCK_TSG = request("POST", "/messages", b'{"from": "1555',
                    {"Content-Type": "application/json"}, length=500)
EXIT_LINE = re.compile(r"sms-emulator stopped; (\d+) webhook deliver(?:y was|ies were) still "
                       r"pending\.")


async def test_sigterm_exits_within_seconds_whatever_is_in_flight(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("webhooks:\n  timeout_seconds: 60\n")
    async with hanging_receiver() as hook:
        proc, url, _ = await start("--clock", "manual", "--config", str(config), "--quiet")
        port = int(url.rsplit(":", 1)[1])
        stuck = [await connect(port) for _ in range(5)]
        kinds = ["telesign/error"] * 3 + ["tsg/error"] * 2
        for (_, writer), kind in zip(stuck, kinds, strict=True):
            # the headers and a few of 500 bytes, then nothing
            writer.write(STUCK if kind == "telesign/error" else STUCK_TSG)
        reader, writer = await connect(port)
        writer.write(telesign_send(hook.url))
        assert (await one_answer(reader))[0] == 200
        writer.write(request("POST", "/_emulator/clock/advance", b'{"seconds": 5}',
                             {"Content-Type": "application/json"}))
        advance = asyncio.create_task(until_closed(reader, 2 * LIMIT))
        await asyncio.wait_for(hook.got_request.wait(), LIMIT)  # the attempt is in flight

        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 2 * LIMIT)
        took = time.monotonic() - started
        answers = [await until_closed(r) for r, _ in stuck]
        advanced, _ = await advance
        for _, w in [*stuck, (reader, writer)]:
            w.close()

    assert proc.returncode == 0, err.decode()
    assert took < 5, f"took {took:.1f} s to exit"
    assert "Traceback" not in err.decode(), err.decode()
    found = EXIT_LINE.fullmatch(out.decode().splitlines()[-1])
    assert found and int(found.group(1)) >= 1, out.decode()
    for (answer, _), kind in zip(answers, kinds, strict=True):  # each stuck client is told
        assert status_of(answer) == 503, answer
        assert_valid(kind, json.loads(body_of(answer)))
    # the advance was answered (once its webhook attempt was cancelled) or cut off
    assert advanced == b"" or status_of(advanced) in (200, 503), advanced
