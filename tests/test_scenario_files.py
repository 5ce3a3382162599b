"""Scenario files on their own: ``validate`` messages with file:line:column, the loader's checks
(every problem of a file in line order, every name checked against the emulator's), the refusal
of ``replay`` to run anything when a file is invalid, and the value language (durations,
references, matchers)."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest

from emulator.cli import main
from emulator.replay import replay, replay_with, values
from emulator.replay.scenario import ScenarioError, check, load
from emulator.replay.source import read


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_validate_reports_a_typo_and_a_wrong_type_with_lines(tmp_path: Path, capsys) -> None:
    path = write(tmp_path, """name: typos
steps:
  - inbound: {provider: telesign, from: "15551234567", to: "4442", text: hi}
  - advnce: 10s
  - expect_message:
      to: "15551234567"
      count: many
""")
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"{path}:4:5: steps.1.advnce: unknown step 'advnce' (did you mean 'advance'?)" in (
        out[0])
    assert out[1] == f"{path}:7:14: steps.2.expect_message.count: 'many' is not an integer"
    assert len(out) == 2


def test_validate_accepts_a_good_file_and_json_too(tmp_path: Path, capsys) -> None:
    document = {"name": "json", "steps": [{"advance": 5}, {"expect_no_message": {"to": "1"}}]}
    path = write(tmp_path, json.dumps(document, indent=2), "scenario.json")
    assert main(["validate", str(path)]) == 0
    assert "ok ('json', 2 steps)" in capsys.readouterr().out


@pytest.mark.parametrize(("text", "expected"), [
    ("name: x\nsteps: []\n", ":2:8: steps: no steps, at least 1 needed"),
    ("steps:\n  - advance: 1\n", ":1:1: name: is required"),
    ("name: x\nname: y\nsteps: [{advance: 1}]\n", ":2:1: duplicate key 'name'"),
    ("name: x\nsteps:\n  - {advance: 1, expect_message: {}}\n",
     ":3:5: steps.0: a step has exactly one action"),
    ("name: x\nsteps:\n  - name: y\n", ":3:5: steps.0: a step has exactly one action"),
    ("name: x\nsteps:\n  - advance: soon\n",
     ":3:14: steps.0.advance: 'soon' is not a duration"),
    ("name: x\nsteps:\n  - expect_message: {text: {regex: '('}}\n",
     ":3:36: steps.0.expect_message.text.regex: regex '(' does not compile"),
    ("name: x\nsteps:\n  - request: {url: '${nowhere}/x'}\n",
     ":3:20: steps.0.request.url: ${nowhere} is not defined before this step"),
    ("name: x\nsteps:\n  - expect_message: {since: later}\n  - name: later\n    advance: 1\n",
     ":3:29: steps.0.expect_message.since: no earlier step is named 'later'"),
    ("name: x\nsteps:\n  - request: {url: x, json: {}, body: ''}\n",
     ":3:14: steps.0.request: give one body, not json and body"),
    ("name: x\nstart: yesterday\nsteps: [{advance: 1}]\n", ":2:8: start: 'yesterday' is not"),
    ("name: x\nsteps:\n  - advance: 1\n  bad indent: [\n", ":4:"),
    ("- just a list\n", ":1:1: a scenario is a mapping"),
    ("name: x\nsteps:\n  - advance: 1\n    nmae: y\n",
     ":4:5: steps.0.nmae: unknown key 'nmae' (did you mean 'name'?)"),
    ("name: x\nsteps: [{advance: 1}]\ndescripton: d\n",
     ":3:1: descripton: unknown field 'descripton' (did you mean 'description'?)"),
    # every unknown key of an object, not only the first
    ("name: x\nsteps:\n  - expect_message: {tx: a, too: b}\n",
     ":3:29: steps.0.expect_message.too: unknown field 'too' (did you mean 'to'?)"),
])
def test_loader_problems_name_the_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load(path)
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems
    assert all(problem.startswith(str(path)) for problem in caught.value.problems)


def test_captured_names_may_be_used_by_later_steps_only(tmp_path: Path) -> None:
    path = write(tmp_path, """name: x
steps:
  - request: {url: "${sut}/a"}
    capture: {ref: json.id}
  - expect_message: {to: "${ref}"}
""")
    assert [step.action for step in load(path).steps] == ["request", "expect_message"]


def test_an_unreadable_file_is_a_clear_problem(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path / "missing.yaml")
    assert "cannot read" in caught.value.problems[0]


@pytest.mark.parametrize(("given", "seconds"), [
    (10, 10.0), (2.5, 2.5), ("500ms", 0.5), ("10s", 10.0), ("5m", 300.0), ("2h", 7200.0),
    ("3d", 259200.0), (" 1.5 d ", 129600.0)])
def test_durations(given, seconds: float) -> None:
    assert values.duration(given) == seconds


@pytest.mark.parametrize("given", [-1, "soon", "5 weeks", True, "1e3"])
def test_bad_durations(given) -> None:
    with pytest.raises(values.ValueProblem):
        values.duration(given)


def test_references_keep_types_and_fakes_repeat_with_the_seed(monkeypatch) -> None:
    monkeypatch.setenv("SMS_TEST_TOKEN", "t0k")
    variables = values.Variables({"n": 3, "url": "http://x"}, seed=5)
    assert variables.resolve("${n}") == 3
    assert variables.resolve("${url}/a?n=${n}") == "http://x/a?n=3"
    assert variables.resolve({"k": ["${env.SMS_TEST_TOKEN}"]}) == {"k": ["t0k"]}
    assert variables.resolve("$${n} is ${n}; $${") == "${n} is 3; ${"  # $${ is a literal ${
    assert values.references("$${nothing} ${n}") == [((), "n")]
    first = values.Variables({}, seed=5).resolve(["${fake.first_name}", "${fake.email}"])
    again = values.Variables({}, seed=5).resolve(["${fake.first_name}", "${fake.email}"])
    other = values.Variables({}, seed=6).resolve(["${fake.first_name}", "${fake.email}"])
    assert first == again != other
    for bad in ("${missing}", "${fake.no_such_method}", "${fake._private}", "${env.NOPE_X}"):
        with pytest.raises(values.ValueProblem):
            values.Variables({}, seed=1).resolve(bad)


@pytest.mark.parametrize(("expected", "actual", "ok"), [
    ("abc", "abc", True), ("abc", "abd", False), (200, "200", True), ("200", 200, True),
    (True, "True", False), ({"regex": "^ab"}, "abc", True), ({"regex": "^b"}, "abc", False),
    ({"contains": "b"}, "abc", True), ({"present": True}, "", True),
    ({"present": False}, values.MISSING, True), ({"present": True}, values.MISSING, False),
    ({"equals": {"a": 1}}, {"a": 1}, True), ({"a": {"b": 2}}, {"a": {"b": 2, "c": 3}}, True),
    ({"a.b": 2}, {"a": {"b": 2}}, True), ({"a": {"b": 2}}, {"a": {"b": 3}}, False),
    ({"list.1": "y"}, {"list": ["x", "y"]}, True), ({"regex": "x"}, values.MISSING, False),
])
def test_matchers(expected, actual, ok: bool) -> None:
    assert (values.mismatches(expected, actual) == []) is ok


# -- names checked against what the emulator has ------------------------------------------------

NAMES_HEADER = "name: names\nvars: {prov: tsgg}\nsteps:\n"
KINDS = ("delivery_report, mo_sms, mo_email, mo_mms, mo_rcs, mo_viber, mo_whatsapp, smpp_receipt, "
         "smpp_mo, sms, sms_dlr")
CHANNELS = "sms, mms, rcs, viber, whatsapp, email"

#: (a step on one line, the text the problem points at, its field, its message): each would
#: otherwise validate, and a negative expectation among them pass, whatever happened
UNKNOWN_NAMES = [
    ("expect_api_call: {provider: twilio, count: 0}", "twilio", "expect_api_call.provider",
     "unknown provider 'twilio'; providers are: telesign, tsg"),
    ("expect_no_api_call: {provider: telsign}", "telsign", "expect_no_api_call.provider",
     "unknown provider 'telsign' (did you mean 'telesign'?); providers are: telesign, tsg"),
    ("expect_no_api_call: {method: PSOT, path: /v1/messaging}", "PSOT",
     "expect_no_api_call.method", "unknown HTTP method 'PSOT' (did you mean 'POST'?); methods"),
    ("expect_message: {provider: tsgg, to: '1'}", "tsgg", "expect_message.provider",
     "unknown provider 'tsgg' (did you mean 'tsg'?); providers are: telesign, tsg"),
    ("expect_no_message: {provider: tsgg, to: '1'}", "tsgg", "expect_no_message.provider",
     "unknown provider 'tsgg' (did you mean 'tsg'?); providers are: telesign, tsg"),
    ("expect_no_message: {provider: '${prov}'}", "'${prov}'", "expect_no_message.provider",
     "unknown provider 'tsgg' (did you mean 'tsg'?)"),
    ("expect_delivery: {provider: telesing}", "telesing", "expect_delivery.provider",
     "unknown provider 'telesing' (did you mean 'telesign'?)"),
    ("expect_delivery: {kind: delivery_reprot}", "delivery_reprot", "expect_delivery.kind",
     f"unknown webhook kind 'delivery_reprot' (did you mean 'delivery_report'?); kinds are: "
     f"{KINDS}"),
    ("expect_delivery: {provider: tsg, kind: delivery_report}", "delivery_report",
     "expect_delivery.kind",
     "tsg has no webhook kind 'delivery_report' (that is telesign's); its kinds are: sms, "
     "sms_dlr"),
    ("expect_delivery: {provider: tsg, kind: sms_dl, state: exhausted}", "sms_dl",
     "expect_delivery.kind",
     "tsg has no webhook kind 'sms_dl' (did you mean 'sms_dlr'?); its kinds are: sms, sms_dlr, "
     "smpp_receipt, smpp_mo"),
    ("expect_delivery: {state: deliverd}", "deliverd", "expect_delivery.state",
     "unknown delivery state 'deliverd' (did you mean 'delivered'?); states are: pending, "
     "retrying, delivered, exhausted"),
    ("expect_message: {channel: whatsap}", "whatsap", "expect_message.channel",
     f"unknown channel 'whatsap' (did you mean 'whatsapp'?); channels are: {CHANNELS}"),
    ("expect_no_message: {provider: tsg, channel: whatsapp}", "whatsapp",
     "expect_no_message.channel",
     "tsg has no channel 'whatsapp' (that is telesign's); its channels are: sms"),
    ("expect_no_message: {direction: inbund}", "inbund", "expect_no_message.direction",
     "unknown direction 'inbund' (did you mean 'inbound'?); directions are: outbound, inbound"),
    ("expect_message: {origin: end-user}", "end-user", "expect_message.origin",
     "unknown origin 'end-user' (did you mean 'end_user'?); origins are: api, end_user, "
     "provider"),
    ("expect_message: {provider: telesign, status: 270}", "270", "expect_message.status",
     "telesign has no message status 270 (did you mean 290?)"),
    ("expect_no_message: {provider: telesign, status: delivered}", "delivered",
     "expect_no_message.status", "telesign has no message status 'delivered' (that is tsg's)"),
    ("expect_no_message: {status: {equals: delivred}}", "delivred",
     "expect_no_message.status.equals",
     "unknown message status 'delivred' (did you mean 'delivered'?)"),
    ("expect_message: {provider: tsg, status: {equal: delivered}}", "equal",
     "expect_message.status.equal", "unknown matcher 'equal' (did you mean 'equals'?)"),
    ("expect_no_message: {status: [delivered, failed]}", "[", "expect_no_message.status",
     "a message has one status: give a value or a matcher"),
    ("inbound: {provider: telesgn, from: '1'}", "telesgn", "inbound.provider",
     "unknown provider 'telesgn' (did you mean 'telesign'?)"),
    ("inbound: {provider: telesign, channel: whatsap, from: '1'}", "whatsap",
     "inbound.channel",
     f"telesign has no channel 'whatsap' (did you mean 'whatsapp'?); its channels are: "
     f"{CHANNELS}"),
    ("inbound: {provider: tsg, channel: whatsapp, from: '1', to: '2', text: hi}", "whatsapp",
     "inbound.channel", "tsg has no channel 'whatsapp' (that is telesign's); its channels are: "
     "sms"),
    ("inbound: {provider: tsg, from: '1', to: '2', txt: hi}", "txt", "inbound.txt",
     "tsg has no inbound field 'txt' (did you mean 'text'?); its fields are: provider, "
     "channel, from, to, text, encoding"),
    ("expect_message: {tx: hi}", "tx", "expect_message.tx",
     "unknown field 'tx' (did you mean 'text'?); expect_message takes: provider, direction, "
     "origin, channel, to, from, via, text, status, count, within, since"),
    ("expect_no_message: {too: '1'}", "too", "expect_no_message.too",
     "unknown field 'too' (did you mean 'to'?)"),
    ("expect_api_call: {mathc: {a: 1}}", "mathc", "expect_api_call.mathc",
     "unknown field 'mathc' (did you mean 'match'?)"),
    ("expect_no_api_call: {provder: tsg}", "provder", "expect_no_api_call.provder",
     "unknown field 'provder' (did you mean 'provider'?)"),
    ("expect_delivery: {paylod: {a: 1}}", "paylod", "expect_delivery.paylod",
     "unknown field 'paylod' (did you mean 'payload'?)"),
]


@pytest.mark.parametrize(("step", "token", "field", "message"), UNKNOWN_NAMES,
                         ids=[case[0] for case in UNKNOWN_NAMES])
async def test_an_unknown_name_is_a_validate_error_and_a_replay_refusal(
        tmp_path: Path, capsys, step: str, token: str, field: str, message: str) -> None:
    path = write(tmp_path, f"{NAMES_HEADER}  - {step}\n")
    column = f"  - {step}".index(token) + 1
    assert main(["validate", str(path)]) == 1
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{path}:4:{column}: steps.0.{field}: {message}"), line
    # nothing to reach at this address: the refusal comes before any use of an emulator
    [outcome] = await replay([path], emulator_url="http://127.0.0.1:9")
    assert outcome.result is None and outcome.problems == [line]


def test_the_replay_command_refuses_every_file_when_one_is_invalid(tmp_path: Path,
                                                                    capsys) -> None:
    good = write(tmp_path, "name: good\nsteps:\n  - advance: 1\n", "good.yaml")
    bad = write(tmp_path, f"{NAMES_HEADER}  - expect_no_message: {{provider: tsgg}}\n",
                "bad.yaml")
    # an unreachable emulator: running anything would exit 2 (cannot reach it)
    assert main(["replay", "--emulator", "http://127.0.0.1:9", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"SKIP {good}: not run: another file is not a valid scenario" in out
    assert f"FAIL {bad}: bad" in out
    assert f"{bad}:4:35: steps.0.expect_no_message.provider: unknown provider 'tsgg'" in out
    assert "nothing was run: 1 of 2 file(s) is not a valid scenario" in out


async def test_replay_runs_nothing_when_a_file_is_invalid(emulator, tmp_path: Path) -> None:
    good = write(tmp_path, "name: good\nsteps:\n  - inbound: {provider: tsg, from: "
                 "'15551234567', to: '15550555055', text: hi}\n", "good.yaml")
    bad = write(tmp_path, "name: bad\nsteps:\n  - expect_delivery: {state: deliverd}\n",
                "bad.yaml")
    outcomes = await replay_with(emulator.url, [good, bad])
    assert [(o.skipped, o.problems is not None) for o in outcomes] == [(True, False),
                                                                       (False, True)]
    assert len(emulator.ctx.store) == 0 and not list(emulator.ctx.journal.entries())
    [outcome] = await replay_with(emulator.url, [good])
    assert outcome.passed and len(emulator.ctx.store) == 1  # the same file alone runs


def test_known_names_validate(tmp_path: Path, capsys) -> None:
    path = write(tmp_path, """name: every kind of name
vars: {prov: tsg, kind: sms_dlr, code: 207}
steps:
  - inbound: {provider: telesign, channel: whatsapp, from: "15551234567", to: "4442", text: hi}
    capture: {who: messages.0.provider}
  - inbound: {provider: tsg, channel: sms, from: "15551234567", to: "15550555055", text: hi}
  - expect_delivery: {provider: "${prov}", kind: "${kind}", state: exhausted}
  - expect_delivery: {kind: mo_whatsapp, state: delivered}
  - expect_delivery: {provider: "${who}", kind: delivery_report}
  - expect_message: {provider: telesign, status: "${code}", channel: sms, direction: outbound}
  - expect_message: {provider: telesign, status: "200", origin: api}
  - expect_message: {provider: telesign, direction: inbound, status: 1500, channel: email}
  - expect_no_message: {provider: tsg, status: {regex: "^(failed|rejectd)$"}}
  - expect_no_message: {status: {equals: undelivered}, origin: provider}
  - expect_message: {status: {present: true}, channel: whatsapp, origin: end_user}
  - expect_no_api_call: {provider: tsg, method: post}
""")
    assert main(["validate", str(path)]) == 0, capsys.readouterr().out


def test_validate_reports_every_kind_of_problem_in_line_order(tmp_path: Path, capsys) -> None:
    """One run shows them all, sorted by line and column, whichever check found them (the
    parser's, the schema's, then the other checks')."""
    path = write(tmp_path, """name: every kind of problem
steps:
  - expect_delivery: {provider: tsg, kind: sms_dlrr}
  - request: {url: "${nowhere}/x"}
  - advance: soon
  - expect_message: {to: "1", text: {regex: "("}}
  - expect_message: {provider: tsg, channel: mms, count: many}
  - expect_no_message: {to: "1", to: "2"}
    name: twice
  - advance: 1
    name: twice
""")
    assert main(["validate", str(path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{path}:3:44: steps.0.expect_delivery.kind: tsg has no webhook kind 'sms_dlrr' (did "
        "you mean 'sms_dlr'?); its kinds are: sms, sms_dlr, smpp_receipt, smpp_mo",
        f"{path}:4:20: steps.1.request.url: ${{nowhere}} is not defined before this step (vars,"
        " emulator, sut or an earlier capture)",
        f"{path}:5:14: steps.2.advance: 'soon' is not a duration such as 10, '10s', '5m', '2h' "
        "or '3d'",
        f"{path}:6:45: steps.3.expect_message.text.regex: regex '(' does not compile: missing ),"
        " unterminated subpattern at position 0",
        f"{path}:7:46: steps.4.expect_message.channel: tsg has no channel 'mms' (that is "
        "telesign's); its channels are: sms",
        f"{path}:7:58: steps.4.expect_message.count: 'many' is not an integer",
        f"{path}:8:34: duplicate key 'to'",
        f"{path}:11:11: steps.6.name: another step is already named 'twice'",
    ]


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parent.parent / "scenarios")
                                        .glob("*.yaml")), ids=lambda p: p.stem)
def test_every_check_copes_with_any_wrong_type(path: Path) -> None:
    """Each value of an example replaced by values of other types: the checks after the schema
    run on them too, and must report, never crash."""
    base = read(path)
    for where in [p for p in base.values if p]:
        for wrong in (None, 7, [], {"a": [1]}, "x${"):
            data = copy.deepcopy(base.data)
            parent = data
            for part in where[:-1]:
                parent = parent[part]
            parent[where[-1]] = wrong
            try:
                check(dataclasses.replace(base, data=data))
            except ScenarioError as exc:
                assert exc.problems  # a report, not a crash
