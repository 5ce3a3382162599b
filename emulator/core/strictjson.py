"""JSON as every API of the emulator accepts it: standard JSON only.

Python's parser also takes ``NaN``, ``Infinity`` and numbers too large for a float (which become
infinite), and strings with lone UTF-16 surrogates (``"\\ud800"``). None of these can be sent
on in a webhook or an answer, and ``NaN`` passes every schema bound, so they are refused here,
at the door, with a message a person can act on.
"""

from __future__ import annotations

import json
import math
from typing import Any


class NotStandardJson(ValueError):
    """Valid to Python's parser, but not standard JSON; ``field`` is the dotted path of a
    string holding a lone surrogate, when that is the trouble."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _constant(name: str) -> Any:
    raise NotStandardJson(f"{name} is not a JSON number")


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotStandardJson(f"{text} is too large for a number")
    return value


def _check_strings(value: Any, path: str = "") -> None:
    if isinstance(value, str):
        if any("\ud800" <= char <= "\udfff" for char in value):
            raise NotStandardJson("holds a lone UTF-16 surrogate, which is not text",
                                  path or "(top level)")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_strings(item, f"{path}.{index}" if path else str(index))
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            _check_strings(key, where)
            _check_strings(item, where)


def loads(raw: bytes | str) -> Any:
    """Parse ``raw``; :class:`json.JSONDecodeError`, :class:`UnicodeDecodeError`,
    :class:`NotStandardJson` (all ``ValueError``) or :class:`RecursionError` when it is not
    standard JSON."""
    document = json.loads(raw, parse_constant=_constant, parse_float=_number)
    _check_strings(document)
    return document
