"""Loads the JSON Schemas in ``schemas/`` (shipped in the wheel as ``emulator/schemas``).

Schemas are the single source of truth for every payload the emulator emits or accepts: tests
validate output against them, config and scenario loaders validate input with them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator import schema_messages

if TYPE_CHECKING:  # imported on first use: jsonschema was a sixth of serve's start-up
    from jsonschema import Draft202012Validator
    from referencing import Registry

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
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    return Registry().with_resources(
        (uri(name), Resource.from_contents(load(name), default_specification=DRAFT202012))
        for name in all_names())


@cache
def validator(name: str) -> Draft202012Validator:
    # Not checked against the meta-schema here: that took a fifth of the start-up, and
    # tests/test_schemas.py checks every schema so.
    return validator_of(load(name))


def validator_of(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of ``schema`` (a schema or a part of one) that can follow ``$ref`` to
    every schema."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema, registry=registry())


@dataclass(frozen=True)
class Problem:
    """One way an instance breaks its schema: the field (a path), the schema keyword broken
    (``rule``, e.g. ``additionalProperties``) and what is wrong, as a short sentence."""

    path: tuple[str | int, ...]
    message: str
    rule: str = ""

    def field(self, prefix: str = "") -> str:
        return schema_messages.field_name(self.path, prefix)


def problems(name: str, instance: Any) -> list[Problem]:
    """Every problem of ``instance`` against schema ``name``, sorted by field; each message is a
    sentence of at most a few hundred characters (see :mod:`emulator.schema_messages`)."""
    found = [Problem(e.path, e.sentence, e.rule)
             for e in schema_messages.explain_all(validator(name).iter_errors(instance))]
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
