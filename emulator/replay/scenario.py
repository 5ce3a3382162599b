"""The scenario model and its loader: a file becomes a :class:`Scenario` or a list of problems,
each ``file:line:column: field: message``, every problem of the file in one list, in line order.

Checks: the file parses (YAML or JSON; a file that does not parse stops here) and has no
duplicate keys; it matches ``schemas/replay/scenario``, and an unknown key (a step or a field of
one) gets a did-you-mean; each step has exactly one action; durations, regexes and ``since``
references make sense; every ``${name}`` is defined before it is used (by ``vars``, the
built-ins ``emulator`` and ``sut``, or a ``capture`` of an earlier step); every name the emulator
must know (providers, webhook kinds, channels, statuses, ...) is one it has
(:mod:`emulator.replay.names`). The checks after the schema's work on whatever the file holds,
wrong types included; a problem the schema already reported at a field is not reported again.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator import schemas
from emulator.core.timefmt import in_range, parse_iso
from emulator.problems import Problems
from emulator.replay import names as known_names
from emulator.replay import values
from emulator.replay.source import Located, Path_, SourceError, read

SCHEMA = "replay/scenario"
ACTIONS = ("request", "inbound", "advance", "expect_api_call", "expect_no_api_call",
           "expect_delivery", "expect_message", "expect_no_message")
STEP_KEYS = ("name", "capture", *ACTIONS)
#: the actions that start something; expectations look at what happened since the latest one
STIMULI = ("request", "inbound")
BUILT_INS = ("emulator", "sut")
DEFAULT_SEED = 1
DEFAULT_START = "2026-01-01T00:00:00Z"
#: a list of allowed keys longer than this is left out of a message (the suggestion stays)
LIST_LIMIT = 12


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


@dataclass(frozen=True)
class _Found:
    """One problem: where it is, the path of the field at fault and the text after the
    position (``field: message``)."""

    line: int
    column: int
    text: str
    path: Path_ | None = None


def _found(located: Located, path: Path_, message: str, key: bool = False) -> _Found:
    line, column = located.position(path, key)
    label = ".".join(str(part) for part in path) or "(top level)"
    return _Found(line, column, f"{label}: {message}", path)


def _allowed_keys(path: Path_) -> list[str]:
    """The keys the scenario schema allows in the object at ``path``."""
    root = schemas.load(SCHEMA)
    node: Any = root
    for part in path:
        node = _deref(root, node)
        node = node.get("items", {}) if isinstance(part, int) else \
            node.get("properties", {}).get(part, {})
    return list(_deref(root, node).get("properties", {}))


def _deref(root: dict[str, Any], node: Any) -> dict[str, Any]:
    """``node`` with its local ``$ref`` (``#/$defs/...``) followed."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) \
            and node["$ref"].startswith("#/"):
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node = target
    return node if isinstance(node, dict) else {}


def _misspelt_action(key: Any) -> bool:
    """Whether an unknown key of a step is most likely a misspelt action (rather than a
    misspelt ``name`` or ``capture``)."""
    close = difflib.get_close_matches(str(key), STEP_KEYS, n=1)
    return not close or close[0] in ACTIONS


def _unknown_keys(located: Located, parent: Path_) -> list[_Found]:
    """One problem per key the schema does not allow in the object at ``parent``, each with a
    did-you-mean; a step's unknown key is most likely a misspelt action."""
    instance: Any = located.data
    for part in parent:
        instance = instance[part]
    allowed = _allowed_keys(parent)
    is_step = len(parent) == 2 and parent[0] == "steps" and isinstance(parent[1], int)
    found = []
    for key in instance:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), STEP_KEYS if is_step else allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        if is_step and _misspelt_action(key):
            message = f"unknown step {key!r}{hint}; steps are: {', '.join(ACTIONS)}"
        elif is_step:
            message = f"unknown key {key!r}{hint}; a step has an action, name and capture"
        else:
            owner = str(parent[-1]) if parent and isinstance(parent[-1], str) else "a scenario"
            message = f"unknown field {key!r}{hint}"
            if len(allowed) <= LIST_LIMIT:
                message += f"; {owner} takes: {', '.join(allowed)}"
        found.append(_found(located, (*parent, key), message, key=True))
    return found


def _schema_problems(located: Located) -> list[_Found]:
    found: list[_Found] = []
    parents_done: set[Path_] = set()  # one problem comes per unknown key; one pass per object
    for problem in schemas.problems(SCHEMA, located.data):
        path = problem.path
        if problem.rule == "additionalProperties" and path:
            if path[:-1] not in parents_done:
                parents_done.add(path[:-1])
                found += _unknown_keys(located, path[:-1])
            continue
        found.append(_found(located, path, problem.message))
    return found


def _check_step(located: Located, raw: Any, index: int, defined: set[str], names: set[str],
                variables: dict[str, Any]) -> tuple[Step | None, list[_Found]]:
    """One step as a :class:`Step`, and its problems; adds its name and captures to ``names``
    and ``defined``, which later steps may use. ``raw`` may be anything the file holds."""
    path: Path_ = ("steps", index - 1)
    if not isinstance(raw, dict):
        return None, []  # the schema says a step is an object
    actions = [key for key in raw if key in ACTIONS]
    if len(actions) != 1:
        if not actions and any(key not in STEP_KEYS and _misspelt_action(key) for key in raw):
            return None, []  # the schema's problem says it: an unknown step
        return None, [_found(located, path, "a step has exactly one action "
                             f"({', '.join(ACTIONS)}); this one has "
                             f"{', '.join(actions) if actions else 'none'}")]
    action = actions[0]
    spec = raw[action]
    name = raw.get("name") if isinstance(raw.get("name"), str) else None
    capture = raw.get("capture") if isinstance(raw.get("capture"), dict) else {}
    step = Step(index, action, spec, located.position(path)[0], name, dict(capture))
    problems: list[_Found] = []

    def problem(text: str, *sub: str | int, key: bool = False) -> None:
        problems.append(_found(located, (*path, action, *sub), text, key))

    for where, ref in values.references(spec):
        if ref.split(".")[0] not in defined:
            problem(f"${{{ref}}} is not defined before this step (vars, emulator, sut or an "
                    "earlier capture)", *where)
    for where, ref in values.references(capture):
        if ref.split(".")[0] not in defined:
            problems.append(_found(located, (*path, "capture", *where),
                                   f"${{{ref}}} is not defined before this step"))
    if action == "advance":
        _duration(spec, problem)
    if isinstance(spec, dict):
        if "within" in spec:
            _duration(spec["within"], problem, "within")
        for key in ("match", "payload", "text", "status"):
            if key in spec:
                for where, text in values.matcher_problems(spec[key], (key,)):
                    problem(text, *where)
        since = spec.get("since")
        if isinstance(since, str) and since not in names:
            problem(f"no earlier step is named {since!r} (or use 'start')", "since")
        if action == "request":
            bodies = [key for key in ("json", "form", "body") if key in spec]
            if len(bodies) > 1:
                problem(f"give one body, not {' and '.join(bodies)}")
        for where, is_key, text in known_names.check(action, spec, variables):
            problem(text, *where, key=is_key)
    if step.name:
        if step.name in names:
            problems.append(_found(located, (*path, "name"),
                                   f"another step is already named {step.name!r}"))
        names.add(step.name)
    defined |= {key for key in capture if isinstance(key, str)}
    return step, problems


def _duration(value: Any, problem: Any, *sub: str) -> None:
    try:
        values.duration(value)
    except values.ValueProblem as exc:
        problem(str(exc), *sub)


def _check_steps(located: Located, data: dict[str, Any]) -> tuple[list[Step], list[_Found]]:
    problems: list[_Found] = []
    steps: list[Step] = []
    variables = data.get("vars") if isinstance(data.get("vars"), dict) else {}
    defined = set(BUILT_INS) | {key for key in variables if isinstance(key, str)}
    names: set[str] = {"start"}
    raw_steps = data.get("steps") if isinstance(data.get("steps"), list) else []
    for index, raw in enumerate(raw_steps, 1):
        step, found = _check_step(located, raw, index, defined, names, variables)
        problems += found
        if step is not None:
            steps.append(step)
    return steps, problems


def check(located: Located) -> Scenario:
    """The scenario in a parsed document, or :class:`ScenarioError` listing every problem."""
    data = located.data
    if not isinstance(data, dict):
        raise ScenarioError([f"{located.file}:1:1: a scenario is a mapping with name and steps"])
    problems = [_Found(line, column, text) for line, column, text in located.problems]
    reported = _schema_problems(located)
    problems += reported
    seen = {found.path for found in reported}
    steps, found = _check_steps(located, data)
    start = parse_iso(data.get("start", DEFAULT_START))
    if start is None or not in_range(start):
        found.append(_found(located, ("start",), f"{data['start']!r} is not an ISO 8601 time "
                            "with a zone between 1970 and 9000, such as 2026-01-01T00:00:00Z"))
    problems += [problem for problem in found if problem.path not in seen]
    if problems:
        problems.sort(key=lambda problem: (problem.line, problem.column))  # stable
        raise ScenarioError([f"{located.file}:{p.line}:{p.column}: {p.text}" for p in problems])
    return Scenario(file=located.file, name=data["name"], steps=steps,
                    seed=data.get("seed", DEFAULT_SEED), start=start or 0.0,
                    description=data.get("description", ""), vars=dict(data.get("vars") or {}),
                    config=dict(data.get("config") or {}))


def load(path: str | Path) -> Scenario:
    """The scenario in ``path``, or :class:`ScenarioError` listing every problem found."""
    try:
        located = read(path)
    except SourceError as exc:
        raise ScenarioError(exc.problems) from None
    return check(located)
