"""Values in scenario files: durations, ``${...}`` references, field matchers and dotted paths.

- A duration is seconds as a number, or a string with a unit: ``500ms``, ``10s``, ``5m``,
  ``2h``, ``3d``.
- ``${name}`` is a variable (``vars``, a captured value, ``emulator``, ``sut``), in values and
  in mapping keys;
  ``${fake.METHOD}`` a value from a Faker seeded by the scenario's seed (``${fake.first_name}``,
  ``${fake.email}``, any Faker method that takes no argument); ``${env.NAME}`` an environment
  variable. A string that is exactly one reference takes the referenced value's type. ``$${``
  is a literal ``${``.
- A matcher is a plain value (equal; a number also equals its text, as form fields are text),
  or ``{regex: ...}`` (searched), ``{contains: ...}``, ``{present: true|false}``,
  ``{equals: ...}``; an object of other keys matches a nested object field by field.
- A dotted path (``response.reference_id``, ``parts.0.id``) walks objects and lists.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
#: a reference, or the escape ``$${`` that stands for a literal ``${``
_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}")
MATCHER_KEYS = frozenset({"regex", "contains", "present", "equals"})
MISSING = object()


class ValueProblem(ValueError):
    """A value in a scenario cannot be used; the message says why."""


def duration(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueProblem(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueProblem("a duration cannot be negative")
        return float(value)
    found = _DURATION.match(str(value))
    if not found:
        raise ValueProblem(f"{value!r} is not a duration such as 10, '10s', '5m', '2h' or '3d'")
    return float(found.group(1)) * _UNITS[found.group(2)]


class Variables:
    """Named values for ``${...}`` references, plus seeded fake data and the environment."""

    def __init__(self, values: Mapping[str, Any], seed: int) -> None:
        self.values: dict[str, Any] = dict(values)
        self._seed = seed
        self._faker: Any = None

    def _fake(self, method: str) -> Any:
        if self._faker is None:
            from faker import Faker

            self._faker = Faker()
            self._faker.seed_instance(self._seed)
        if method.startswith("_") or not callable(getattr(self._faker, method, None)):
            raise ValueProblem(f"${{fake.{method}}}: Faker has no method {method!r}")
        try:
            return getattr(self._faker, method)()
        except TypeError:
            raise ValueProblem(f"${{fake.{method}}}: this Faker method needs arguments") from None

    def lookup(self, name: str) -> Any:
        name = name.strip()
        if name.startswith("fake."):
            return self._fake(name[5:])
        if name.startswith("env."):
            if name[4:] not in os.environ:
                raise ValueProblem(f"${{{name}}}: environment variable {name[4:]} is not set")
            return os.environ[name[4:]]
        if name not in self.values:
            known = ", ".join(sorted(self.values)) or "none"
            raise ValueProblem(f"${{{name}}} is not defined (known: {known})")
        return self.values[name]

    def resolve(self, value: Any) -> Any:
        """``value`` with every reference replaced, recursively."""
        if isinstance(value, str):
            whole = _REFERENCE.fullmatch(value)
            if whole and whole.group(1) is not None:
                return self.lookup(whole.group(1))
            return _REFERENCE.sub(self._text, value)
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if isinstance(value, dict):
            return {self._key(key): self.resolve(item) for key, item in value.items()}
        return value

    def _key(self, key: Any) -> Any:
        """A mapping key with its references replaced, always as text (a TSG answer is keyed
        by recipient: ``${user}: {...}``)."""
        if not isinstance(key, str):
            return key
        return _REFERENCE.sub(self._text, key)

    def _text(self, found: re.Match[str]) -> str:
        return "${" if found.group(1) is None else str(self.lookup(found.group(1)))


def references(value: Any, path: tuple[str | int, ...] = ()
               ) -> list[tuple[tuple[str | int, ...], str]]:
    """Where ``value`` refers to names, and which: ``(path inside value, name)`` pairs; fake
    and env references are left out."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(value, str):
        names = [m.group(1).strip() for m in _REFERENCE.finditer(value) if m.group(1) is not None]
        found += [(path, name) for name in names if not name.startswith(("fake.", "env."))]
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += references(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                found += [((*path, key), name) for _, name in references(key)]
            found += references(item, (*path, key))
    return found


def dig(value: Any, path: str) -> Any:
    """The value at a dotted ``path``, or :data:`MISSING`. A key that itself holds dots (a TSG
    recipient number does not, but a header might) is tried whole first."""
    if path == "":
        return value
    if isinstance(value, Mapping) and path in value:
        return value[path]
    head, _, rest = path.partition(".")
    if isinstance(value, Mapping) and head in value:
        return dig(value[head], rest)
    if isinstance(value, list) and head.lstrip("-").isdigit():
        index = int(head)
        if -len(value) <= index < len(value):
            return dig(value[index], rest)
    return MISSING


def is_matcher(expected: Any) -> bool:
    return isinstance(expected, Mapping) and bool(expected) and set(expected) <= MATCHER_KEYS


def matcher_problems(expected: Any, path: tuple[str | int, ...] = ()
                     ) -> list[tuple[tuple[str | int, ...], str]]:
    """Why the matchers in ``expected`` cannot work (a regex that does not compile, a
    ``present`` that is not true or false), as ``(path inside expected, reason)`` pairs."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    if is_matcher(expected):
        if "regex" in expected:
            try:
                re.compile(str(expected["regex"]))
            except re.error as exc:
                found.append(((*path, "regex"),
                              f"regex {expected['regex']!r} does not compile: {exc}"))
        if "present" in expected and not isinstance(expected["present"], bool):
            found.append(((*path, "present"), "present must be true or false"))
    elif isinstance(expected, Mapping):
        for key, item in expected.items():
            found += matcher_problems(item, (*path, key))
    return found


def resolve_static(value: Any, known: Mapping[str, Any]) -> Any:
    """``value`` with its references replaced when every one names a key of ``known`` (the
    scenario's ``vars``, known before it runs); :data:`MISSING` when some cannot be known yet."""
    if isinstance(value, str):
        names = [m.group(1).strip() for m in _REFERENCE.finditer(value) if m.group(1) is not None]
        if any(name not in known for name in names):
            return MISSING
    elif isinstance(value, list | Mapping):
        return MISSING  # names are single values
    try:
        return Variables(known, 0).resolve(value)
    except ValueProblem:
        return MISSING


def _equal(expected: Any, actual: Any) -> bool:
    if isinstance(actual, str) and isinstance(expected, int | float) \
            and not isinstance(expected, bool):
        return actual == str(expected)
    if isinstance(expected, str) and isinstance(actual, int | float) \
            and not isinstance(actual, bool):
        return expected == str(actual)
    return expected == actual


def mismatches(expected: Any, actual: Any, where: str = "") -> list[str]:
    """Why ``actual`` does not match ``expected``; empty if it does."""
    label = where or "value"
    if is_matcher(expected):
        problems = []
        if "present" in expected and (actual is not MISSING) != expected["present"]:
            problems.append(f"{label}: expected {'present' if expected['present'] else 'absent'}"
                            f", got {_show(actual)}")
        if actual is MISSING and expected.get("present") is not False and set(expected) != {
                "present"}:
            return [*problems, f"{label}: missing"]
        if "equals" in expected and not _equal(expected["equals"], actual):
            problems.append(f"{label}: expected {expected['equals']!r}, got {_show(actual)}")
        if "regex" in expected and re.search(str(expected["regex"]), _text(actual)) is None:
            problems.append(f"{label}: expected to match /{expected['regex']}/, "
                            f"got {_show(actual)}")
        if "contains" in expected and str(expected["contains"]) not in _text(actual):
            problems.append(f"{label}: expected to contain {expected['contains']!r}, "
                            f"got {_show(actual)}")
        return problems
    if isinstance(expected, Mapping):
        problems = []
        for key, item in expected.items():
            problems += mismatches(item, dig(actual, str(key)) if actual is not MISSING
                                   else MISSING, f"{where}.{key}" if where else str(key))
        return problems
    if actual is MISSING:
        return [f"{label}: missing (expected {expected!r})"]
    if not _equal(expected, actual):
        return [f"{label}: expected {expected!r}, got {_show(actual)}"]
    return []


def _text(actual: Any) -> str:
    return "" if actual is MISSING or actual is None else str(actual)


def _show(actual: Any) -> str:
    if actual is MISSING:
        return "nothing (absent)"
    text = repr(actual)
    return text if len(text) <= 200 else text[:197] + "..."
