"""JSON as every API of the emulator accepts it: standard JSON only, of a sane size.

Python's parser also takes ``NaN``, ``Infinity`` and numbers too large for a float (which become
infinite), and strings with lone UTF-16 surrogates (``"\\ud800"``). None of these can be sent
on in a webhook or an answer, and ``NaN`` passes every schema bound, so they are refused here,
at the door, with a message a person can act on.

Two limits no legitimate request comes near, because values beyond them break arithmetic or
recursion further in rather than being refused there:

- integers beyond ±2**64 (:data:`MAX_INTEGER`): ``1`` followed by 400 zeros is a valid JSON
  number and a Python ``int``, but ``float()`` and ``math.isfinite()`` overflow on it;
- nesting deeper than :data:`MAX_DEPTH` objects and arrays: a deep copy, a merge or a schema
  validation of a value 900 levels deep exhausts Python's recursion limit.

The walk that checks them is iterative, so it cannot itself run out of stack.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

from emulator.schema_messages import field_name, show

#: the largest magnitude of an integer accepted (unsigned 64 bits covers every id and seed)
MAX_INTEGER = 2**64
#: the deepest nesting of objects and arrays accepted (the deepest real document has 5)
MAX_DEPTH = 32


class NotStandardJson(ValueError):
    """Valid to Python's parser, but not standard JSON (or beyond the limits above);
    ``field`` is the dotted path of the value at fault when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TooDeep(NotStandardJson):
    """Nested deeper than :data:`MAX_DEPTH`; ``field`` names the first keys on the way."""


def _too_deep(depth: int) -> str:
    return f"is nested too deeply (more than {depth} levels)"


#: the message of a :class:`TooDeep`
TOO_DEEP = _too_deep(MAX_DEPTH)


def _constant(name: str) -> Any:
    raise NotStandardJson(f"{name} is not a JSON number")


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotStandardJson(f"{text[:20]}{'…' if len(text) > 20 else ''} is too large for a "
                              "number")
    return value


def problems(value: Any, max_depth: int = MAX_DEPTH) -> Iterator[tuple[str, list[str | int]]]:
    """What is wrong with a parsed document, each as ``(message, path)``: a lone surrogate, an
    integer beyond :data:`MAX_INTEGER`, a float that is not finite (YAML's ``.inf``), nesting
    deeper than ``max_depth`` (named by its first three keys; not looked into further).
    Iterative, so a document of any depth is safe to check."""
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if any("\ud800" <= char <= "\udfff" for char in item):
                yield "holds a lone UTF-16 surrogate, which is not text", path
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not -MAX_INTEGER <= item <= MAX_INTEGER:
                yield f"{show(item, 12)} is too large a number (beyond ±2**64)", path
        elif isinstance(item, float):
            if not math.isfinite(item):
                yield f"{item} is not a usable number", path
        elif isinstance(item, list | dict):
            if len(path) >= max_depth:
                yield _too_deep(max_depth), path[:3]
            elif isinstance(item, dict):
                for key, child in reversed(item.items()):
                    where = [*path, str(key)]  # YAML keys may be numbers or dates
                    stack.append((child, where))
                    stack.append((key, where))
            else:
                stack.extend((child, [*path, index]) for index, child in
                             reversed(list(enumerate(item))))


def check(value: Any) -> None:
    """Raise :class:`NotStandardJson` naming the field of the first of :func:`problems`."""
    for message, path in problems(value):
        raise (TooDeep if message == TOO_DEEP else NotStandardJson)(message, field_name(path))


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _deep_path(text: str, max_depth: int = MAX_DEPTH) -> list[str | int] | None:
    """The first three keys on the way to the first container nested deeper than
    ``max_depth`` in JSON ``text``, found by a scan that does not recurse (for a document too
    deep for the parser itself); ``None`` if there is none."""
    path: list[str | int | None] = []
    containers: list[str] = []
    last_string: str | None = None
    at = 0
    while at < len(text):
        char = text[at]
        if char == '"':
            found = _STRING.match(text, at)
            if found is None:
                return None
            try:
                last_string = json.loads(found.group())
            except ValueError:
                last_string = found.group()[1:-1]
            at = found.end()
            continue
        if char in "[{":
            if len(containers) >= max_depth:
                return [p if p is not None else "?" for p in path[:3]]
            containers.append(char)
            path.append(0 if char == "[" else None)
        elif char in "]}" and containers:
            containers.pop()
            path.pop()
        elif char == ":" and containers and containers[-1] == "{":
            path[-1] = last_string
        elif char == "," and containers and containers[-1] == "[":
            path[-1] = int(path[-1] or 0) + 1
        at += 1
    return None


def loads(raw: bytes | str) -> Any:
    """Parse ``raw``; :class:`json.JSONDecodeError`, :class:`UnicodeDecodeError`,
    :class:`NotStandardJson` (all ``ValueError``) or :class:`RecursionError` when it is not
    standard JSON within the limits. A document too deep for the parser is a
    :class:`NotStandardJson` naming where it gets too deep."""
    try:
        document = json.loads(raw, parse_constant=_constant, parse_float=_number)
    except RecursionError:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        path = _deep_path(text)
        if path is None:
            raise
        raise TooDeep(TOO_DEEP, field_name(path)) from None
    check(document)
    return document
