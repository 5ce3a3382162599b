"""The scenario model and its loader: a file becomes a :class:`Scenario` or a list of problems,
each ``file:line:column: field: message``.

Checks, in order: the file parses (YAML or JSON); it matches ``schemas/replay/scenario``; each
step has exactly one action, and an unknown step key gets a did-you-mean; durations, regexes and
``since`` references make sense; every ``${name}`` is defined before it is used (by ``vars``, the
built-ins ``emulator`` and ``sut``, or a ``capture`` of an earlier step).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator import schemas
from emulator.core.timefmt import in_range, parse_iso
from emulator.problems import Problems
from emulator.replay import values
from emulator.replay.source import Located, SourceError, read

SCHEMA = "replay/scenario"
ACTIONS = ("request", "inbound", "advance", "expect_api_call", "expect_no_api_call",
           "expect_delivery", "expect_message", "expect_no_message")
STEP_KEYS = ("name", "capture", *ACTIONS)
#: the actions that start something; expectations look at what happened since the latest one
STIMULI = ("request", "inbound")
BUILT_INS = ("emulator", "sut")
DEFAULT_SEED = 1
DEFAULT_START = "2026-01-01T00:00:00Z"
#: recognises the schema's duration pattern in a message, to say it in words instead
DURATION_PATTERN_TEXT = "(ms|s|m|h|d)"


class ScenarioError(Problems):
    """A file that is not a valid scenario; ``problems`` are ``file:line:column: ...``."""


@dataclass
class Step:
    index: int  # 1-based
    action: str
    spec: Any
    line: int
    name: str | None = None
    capture: dict[str, str] = field(default_factory=dict)

    def title(self) -> str:
        label = f"step {self.index} ({self.action}"
        return label + (f' "{self.name}")' if self.name else ")")


@dataclass
class Scenario:
    file: str
    name: str
    steps: list[Step]
    seed: int = DEFAULT_SEED
    start: float = 0.0
    description: str = ""
    vars: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    line: int = 1

    def where(self, step: Step | None = None) -> str:
        return f"{self.file}:{step.line if step else self.line}"


def _schema_problems(located: Located) -> list[str]:
    found = []
    for problem in schemas.problems(SCHEMA, located.data):
        path = problem.path
        message = problem.message
        is_key = False
        # an unknown key in a step is most likely a misspelt action
        if (len(path) == 3 and path[0] == "steps" and isinstance(path[1], int)
                and problem.rule == "additionalProperties"):
            close = difflib.get_close_matches(str(path[2]), STEP_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            message = f"unknown step {path[2]!r}{hint}; steps are: {', '.join(ACTIONS)}"
            is_key = True
        elif problem.rule == "additionalProperties" and path:
            is_key = True
        elif "does not match" in message and DURATION_PATTERN_TEXT in message:
            message = (f"{problem.message.split(' does not match')[0]} is not a duration such "
                       "as 10, '10s', '5m', '2h' or '3d'")
        field_name = problem.field()
        found.append(f"{located.where(path, key=is_key)}: {field_name}: {message}")
    return found


def _check_step(located: Located, raw: dict[str, Any], index: int, defined: set[str],
                names: set[str]) -> tuple[Step | None, list[str]]:
    """One step as a :class:`Step`, and its problems; adds its name and captures to ``names``
    and ``defined``, which later steps may use."""
    path: tuple[str | int, ...] = ("steps", index - 1)
    actions = [key for key in raw if key in ACTIONS]
    if len(actions) != 1:
        return None, [f"{located.where(path)}: steps.{index - 1}: a step has exactly one action "
                      f"({', '.join(ACTIONS)}); this one has "
                      f"{', '.join(actions) if actions else 'none'}"]
    action = actions[0]
    spec = raw[action]
    step = Step(index, action, spec, located.position(path)[0], raw.get("name"),
                dict(raw.get("capture") or {}))
    problems: list[str] = []

    def problem(text: str, *sub: str | int) -> None:
        problems.append(f"{located.where((*path, action, *sub))}: "
                        f"steps.{index - 1}.{action}: {text}")

    for where, name in values.references(spec):
        if name.split(".")[0] not in defined:
            problem(f"${{{name}}} is not defined before this step (vars, emulator, sut or an "
                    "earlier capture)", *where)
    for _, name in values.references(step.capture):
        if name.split(".")[0] not in defined:
            problems.append(f"{located.where((*path, 'capture'))}: steps.{index - 1}.capture: "
                            f"${{{name}}} is not defined before this step")
    try:
        if action == "advance":
            values.duration(spec)
        elif isinstance(spec, dict) and "within" in spec:
            values.duration(spec["within"])
        if isinstance(spec, dict):
            for key in ("match", "payload", "text", "status"):
                if key in spec:
                    values.check_matcher(spec[key])
    except values.ValueProblem as exc:
        problem(str(exc))
    if isinstance(spec, dict) and "since" in spec and spec["since"] not in names:
        problem(f"since: no earlier step is named {spec['since']!r} (or use 'start')", "since")
    if action == "request" and isinstance(spec, dict):
        bodies = [key for key in ("json", "form", "body") if key in spec]
        if len(bodies) > 1:
            problem(f"give one body, not {' and '.join(bodies)}")
    if step.name:
        if step.name in names:
            problem(f"another step is already named {step.name!r}")
        names.add(step.name)
    defined |= set(step.capture)
    return step, problems


def _check_steps(located: Located, data: dict[str, Any]) -> tuple[list[Step], list[str]]:
    problems: list[str] = []
    steps: list[Step] = []
    defined = set(BUILT_INS) | set(data.get("vars") or {})
    names: set[str] = {"start"}
    for index, raw in enumerate(data["steps"], 1):
        step, found = _check_step(located, raw, index, defined, names)
        problems += found
        if step is not None:
            steps.append(step)
    return steps, problems


def load(path: str | Path) -> Scenario:
    """The scenario in ``path``, or :class:`ScenarioError` listing every problem found."""
    try:
        located = read(path)
    except SourceError as exc:
        raise ScenarioError(exc.problems) from None
    data = located.data
    if not isinstance(data, dict):
        raise ScenarioError([f"{located.file}:1:1: a scenario is a mapping with name and steps"])
    problems = _schema_problems(located)
    if problems:
        raise ScenarioError(problems)
    steps, problems = _check_steps(located, data)
    start = parse_iso(data.get("start", DEFAULT_START))
    if start is None or not in_range(start):
        problems.append(f"{located.where(('start',))}: start: {data['start']!r} is not an "
                        "ISO 8601 time with a zone between 1970 and 9000, such as "
                        "2026-01-01T00:00:00Z")
    if problems:
        raise ScenarioError(problems)
    return Scenario(file=located.file, name=data["name"], steps=steps,
                    seed=data.get("seed", DEFAULT_SEED), start=start or 0.0,
                    description=data.get("description", ""), vars=dict(data.get("vars") or {}),
                    config=dict(data.get("config") or {}))
