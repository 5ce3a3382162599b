"""Lifecycle rules from the configuration: which status steps a destination number goes through.

A rule matches a destination number exactly or by a glob pattern (``1555*``, ``1555000???``),
optionally for one provider only; the first matching rule wins. Its ``steps`` are
``{"status": ..., "after": seconds}``, each ``after`` counted from the previous step. What a
status value means is the provider's business: the core only finds the rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any


@dataclass(frozen=True)
class Step:
    status: Any
    after: float


def plan_steps(rules: list[dict[str, Any]], provider: str, to: str,
               accepts: Callable[[Any], bool], magic: Callable[[str], list[Step] | None],
               default: list[Step]) -> list[Step]:
    """What every provider does: a matching rule wins, then the provider's magic numbers, then
    its default path."""
    steps = find_steps(rules, provider, to, accepts)
    if steps is None:
        steps = magic(to)
    return list(default) if steps is None else steps


def find_steps(rules: list[dict[str, Any]], provider: str, to: str,
               accepts: Callable[[Any], bool]) -> list[Step] | None:
    """The steps of the first rule matching ``to`` for ``provider``, or ``None``.

    A rule that names no provider applies to each provider that ``accepts`` all its statuses
    (Telesign's are numbers, TSG's are names), so one rule list serves every provider.
    """
    for rule in rules:
        if rule.get("provider") not in (None, provider):
            continue
        if not all(accepts(step["status"]) for step in rule["steps"]):
            continue
        pattern = str(rule.get("to", ""))
        if to == pattern or fnmatchcase(to, pattern):
            return [Step(step["status"], float(step.get("after", 0))) for step in rule["steps"]]
    return None
