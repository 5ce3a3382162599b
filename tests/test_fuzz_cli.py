"""``sms-emulator fuzz`` on the command line: exit statuses, the report, scenario files, and
clear errors (never a traceback) for bad input."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
import yaml
from aiohttp import web

from emulator.cli import main
from emulator.fuzz.progress import ProgressBar
from tests.conftest import API_KEY, CUSTOMER_ID, assert_valid
from tests.fuzz_handlers import correct_handler, crashing_handler


async def cli(*argv: str) -> int:
    """Run the command in a worker thread: the handler is served on this test's loop."""
    return await asyncio.to_thread(main, ["fuzz", *argv])


@pytest.fixture
def serve(aiohttp_server):
    async def start(app: web.Application) -> str:
        server = await aiohttp_server(app)
        return str(server.make_url("/telesign/hook"))
    return start


async def test_findings_exit_1_with_a_report_and_scenario_files(serve, tmp_path: Path,
                                                                capsys) -> None:
    app, _ = crashing_handler(CUSTOMER_ID, API_KEY, "missing_price")
    report = tmp_path / "report.json"
    status = await cli("--target", await serve(app), "--kind", "mo_sms", "--examples", "20",
                       "--seed", "3", "--report", str(report),
                       "--scenario-dir", str(tmp_path / "scenarios"))
    assert status == 1
    out = capsys.readouterr().out
    assert "server error on telesign.mo_sms: HTTP 500 to a genuine request (shrunk)" in out
    assert "pass --seed 3 to repeat" in out and "curl -sS -i -X POST" in out
    document = json.loads(report.read_text(encoding="utf-8"))
    assert_valid("fuzz/report", document)
    assert document["seed"] == 3 and document["totals"]["findings"] == 1
    [written] = sorted((tmp_path / "scenarios").iterdir())
    assert written.name == "01-server-error-telesign-mo-sms.yaml"
    assert yaml.safe_load(written.read_text(encoding="utf-8"))["steps"][0]["request"][
        "status"] == [200]


async def test_a_clean_run_exits_0(serve, capsys) -> None:
    app, _ = correct_handler(CUSTOMER_ID, API_KEY)
    status = await cli("--target", await serve(app), "--kind", "telesign.mo_email,mo_viber",
                       "--examples", "10", "--quiet", "--credential",
                       f"telesign.api_key={API_KEY}")
    assert status == 0
    assert "0 finding(s)" in capsys.readouterr().out


async def test_the_credentials_are_the_handlers(serve, capsys) -> None:
    app, _ = correct_handler("MY-CUSTOMER", "bXkgb3duIGtleQ==")
    url = await serve(app)
    args = ("--target", url, "--kind", "mo_email", "--examples", "5", "--no-sweep")
    assert await cli(*args) == 1  # signed with the emulator's default key: refused
    assert "unexpected status on telesign.mo_email: HTTP 401" in capsys.readouterr().out
    assert await cli(*args, "--credential", "telesign.customer_id=MY-CUSTOMER",
                     "--credential", "telesign.api_key=bXkgb3duIGtleQ==") == 0


@pytest.mark.parametrize(("argv", "message"), [
    (["--target", "http://192.0.2.1:9000/cb"], "is not a loopback address"),
    (["--target", "not a url"], "must be an http:// or https:// URL"),
    (["--kind", "mo_sms"], "--target URL is required"),
    (["--target", "http://127.0.0.1:1/cb", "--kind", "nope"], "unknown kind 'nope'; known: all"),
    (["--target", "http://127.0.0.1:1/cb", "--credential", "api_key"],
     "must look like provider.name=value"),
    (["--target", "http://127.0.0.1:1/cb", "--credential", "telesign.api_key=%%%"],
     "credential telesign.api_key: must be base64"),
])
def test_usage_errors_exit_2_with_a_clear_message(argv: list[str], message: str,
                                                   capsys) -> None:
    assert main(["fuzz", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_option_values_are_argparse_errors(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["fuzz", "--target", "http://127.0.0.1:1/", "--examples", "0"])
    assert exit_info.value.code == 2
    assert "is not a whole number of at least 1" in capsys.readouterr().err


def test_list_kinds(capsys) -> None:
    assert main(["fuzz", "--list-kinds"]) == 0
    out = capsys.readouterr().out
    assert "telesign.delivery_report" in out and "telesign.mo_whatsapp" in out
    assert "forgeries missing_signature, malformed_signature" in out


def test_the_progress_bar_draws_and_erases_itself() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, total_kinds=2)
    bar("telesign.mo_sms", 1, 50, 100, 1, True)
    assert "[############............] telesign.mo_sms (1/2) 50/100 examples" in stream.getvalue()
    assert "1 finding(s)  shrinking" in stream.getvalue()
    bar.close()
    assert stream.getvalue().endswith("\r")
