"""Scenario files on their own: ``validate`` messages with file:line:column, the loader's checks,
and the value language (durations, references, matchers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.cli import main
from emulator.replay import values
from emulator.replay.scenario import ScenarioError, load


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
     "steps.0.expect_message: regex '(' does not compile"),
    ("name: x\nsteps:\n  - request: {url: '${nowhere}/x'}\n",
     ":3:20: steps.0.request: ${nowhere} is not defined before this step"),
    ("name: x\nsteps:\n  - expect_message: {since: later}\n  - name: later\n    advance: 1\n",
     ":3:29: steps.0.expect_message: since: no earlier step is named 'later'"),
    ("name: x\nsteps:\n  - request: {url: x, json: {}, body: ''}\n",
     "steps.0.request: give one body, not json and body"),
    ("name: x\nstart: yesterday\nsteps: [{advance: 1}]\n", ":2:8: start: 'yesterday' is not"),
    ("name: x\nsteps:\n  - advance: 1\n  bad indent: [\n", ":4:"),
    ("- just a list\n", ":1:1: a scenario is a mapping"),
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
