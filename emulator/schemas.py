"""Loads the JSON Schemas in ``schemas/`` (shipped in the wheel as ``emulator/schemas``).

Schemas are the single source of truth for every payload the emulator emits or accepts: tests
validate output against them, config and scenario loaders validate input with them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

#: the base of every schema's URI: a schema may ``$ref`` another by a path relative to its own
#: ``$id`` (``"$ref": "message.schema.json"`` inside ``tsg/``)
BASE_URI = "https://sms-emulator.invalid/schemas/"


def schema_dir() -> Path:
    """``emulator/schemas`` in an installed wheel, else ``schemas/`` of the source tree."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "schemas", here.parent / "schemas"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the schemas folder is missing from this installation")


@cache
def load(name: str) -> dict[str, Any]:
    """A schema by its path under ``schemas/``, e.g. ``telesign/delivery-callback``."""
    path = schema_dir() / f"{name}.schema.json"
    return json.loads(path.read_text(encoding="utf-8"))


def uri(name: str) -> str:
    """The URI schema ``name`` is known by; a schema's ``$id``, if it has one, must be this."""
    return f"{BASE_URI}{name}.schema.json"


@cache
def registry() -> Registry:
    """Every schema by its :func:`uri`, so that schemas can refer to one another."""
    return Registry().with_resources(
        (uri(name), Resource.from_contents(load(name), default_specification=DRAFT202012))
        for name in all_names())


@cache
def validator(name: str) -> Draft202012Validator:
    schema = load(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry())


@dataclass(frozen=True)
class Problem:
    """One way an instance breaks its schema: the field (a path) and what is wrong."""

    path: tuple[str | int, ...]
    message: str

    def field(self, prefix: str = "") -> str:
        parts = ([prefix] if prefix else []) + [str(part) for part in self.path]
        return ".".join(parts) or "(top level)"


def _field_path(error: ValidationError) -> tuple[str | int, ...]:
    """The path of the field at fault; for a missing or unexpected property, that property."""
    path = tuple(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [p for p in error.validator_value if p not in error.instance]
        if missing:
            return (*path, missing[0])
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(str(k) for k in error.instance if k not in allowed)
        if extra:
            return (*path, extra[0])
    return path


def problems(name: str, instance: Any) -> list[Problem]:
    """Every problem of ``instance`` against schema ``name``, most specific first."""
    found = []
    for error in validator(name).iter_errors(instance):
        # an error inside oneOf/anyOf is clearer from its best sub-error
        best = best_match([error]) if error.context else error
        found.append(Problem(_field_path(best), best.message))
    found.sort(key=lambda p: [str(part) for part in p.path])
    return found


def errors(name: str, instance: Any, prefix: str = "") -> list[str]:
    """Readable problems of ``instance`` against schema ``name``, each naming its field
    (dotted path, under ``prefix`` if given)."""
    return [f"{p.field(prefix)}: {p.message}" for p in problems(name, instance)]


def all_names() -> list[str]:
    root = schema_dir()
    return sorted(str(p.relative_to(root)).removesuffix(".schema.json")
                  for p in root.rglob("*.schema.json"))
