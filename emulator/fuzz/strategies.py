"""Payload strategies: a webhook's JSON Schema walked into Hypothesis strategies, aimed by the
provider's bias values (see :class:`emulator.providers.webhooks.Bias`).

hypothesis-jsonschema draws the patterned leaves (ids, phone numbers, prices: whatever the schema
constrains with ``pattern``, ``anyOf`` patterns or ``format``). The walker composes objects,
arrays and combinators itself, for two reasons: the provider's bias attaches to field paths,
which needs the path of every field; and hypothesis-jsonschema 0.23.1's object generator fails
under current Hypothesis (``'many' object has no attribute 'more'``).

What it does beyond the schema, and why:

- optional properties are present or absent by a drawn boolean that shrinks to "absent", so a
  failing payload shrinks toward its required fields; ``Bias.exclusive`` makes exactly one of a
  group present (an RCS message is a text, a file, a location or an action, not several);
- unpatterned strings use a printable alphabet (no control characters: providers do not send
  them) and integers stay within 32 bits unless the schema bounds them;
- timestamps are real instants (2015-2037) in one drawn provider format per payload, in the
  order the provider lists the fields, so ``updated_on`` never precedes ``submit_timestamp``;
- the provider's ``finish`` makes the cross-field rules hold, then the payload is validated
  against its schema and discarded if it does not conform (a safety net: with correct bias
  values nothing is discarded);
- finally, unknown fields may be added (``extra_fields``), as a provider adds them when its API
  grows; these are the only departure from the schema.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from emulator import schemas
from emulator.core.timefmt import iso_micro_z
from emulator.fuzz import bias
from emulator.providers.webhooks import Bias, WebhookKind

FIRST_INSTANT = int(datetime(2015, 1, 1, tzinfo=UTC).timestamp())
LAST_INSTANT = int(datetime(2037, 12, 31, tzinfo=UTC).timestamp())
MAX_STEP_SECONDS = 3600  # between consecutive timestamps of one payload
INT32 = (-(2**31), 2**31 - 1)
MAX_PLAIN_STRING = 100
ANNOTATIONS = ("title", "description", "$comment", "examples", "$schema", "$id", "$defs")


@dataclass(frozen=True)
class _Stamp:
    """Stands for a timestamp until the payload's instants and format are drawn."""

    order: int
    formats: tuple[Callable[[float], str], ...]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _lookup(table: Mapping[str, Any] | tuple[str, ...], path: str) -> Any:
    """The entry whose glob matches ``path`` (its index for a tuple), or ``None``."""
    if isinstance(table, tuple):
        return next((i for i, glob in enumerate(table) if fnmatchcase(path, glob)), None)
    return next((value for glob, value in table.items() if fnmatchcase(path, glob)), None)


@cache
def _leaf(key: str) -> st.SearchStrategy[Any]:
    return from_schema(json.loads(key))


def _absolute(value: Any, file: str) -> Any:
    """``value`` with its in-document references (``#/$defs/x``) pointed at ``file``, so that
    they still resolve once merged into a schema of another file (``allOf`` of a ``$ref``)."""
    if isinstance(value, dict):
        return {k: (f"{file}{v}" if k == "$ref" and isinstance(v, str) and v.startswith("#")
                    else _absolute(v, file)) for k, v in value.items()}
    if isinstance(value, list):
        return [_absolute(item, file) for item in value]
    return value


def resolve(schema: dict[str, Any], document: str) -> tuple[dict[str, Any], str]:
    """``schema`` with its ``$ref`` followed (within ``document`` or to a sibling schema file,
    such as ``message.schema.json`` in ``tsg/``); returns the resolved schema and the document
    its own references are relative to."""
    while "$ref" in schema:
        ref = schema["$ref"]
        file, _, pointer = ref.partition("#")
        target_document = document
        if file:
            folder = document.rsplit("/", 1)[0] + "/" if "/" in document else ""
            target_document = folder + file.removesuffix(".json").removesuffix(".schema")
        target: Any = schemas.load(target_document)
        for part in filter(None, pointer.split("/")):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        if target_document != document:
            target = _absolute(target, f"{target_document.rsplit('/', 1)[-1]}.schema.json")
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema, document


class _Walker:
    """Compiles one kind's schema into strategies, path by path."""

    def __init__(self, kind: WebhookKind) -> None:
        self.kind = kind
        self.bias: Bias = kind.bias
        self._lazy: dict[tuple[str, int], st.SearchStrategy[Any]] = {}

    def compile(self, schema: dict[str, Any], path: str, document: str) -> st.SearchStrategy[Any]:
        override = self._override(schema, path, document)
        if override is not None:
            return override
        schema, document = resolve(schema, document)
        if "const" in schema:
            return st.just(schema["const"]).map(copy.deepcopy)
        if "enum" in schema:
            return st.sampled_from(schema["enum"]).map(copy.deepcopy)
        if "allOf" in schema:
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                merged = _merge(merged, resolve(part, document)[0])
            return self.compile(merged, path, document)
        for combinator in ("oneOf", "anyOf"):
            if combinator in schema and self._structured(schema[combinator], document):
                base = {k: v for k, v in schema.items() if k != combinator}
                return st.one_of([self.compile(_merge(base, resolve(b, document)[0]), path,
                                               document) for b in schema[combinator]])
        types = schema.get("type")
        if isinstance(types, list):
            return st.one_of([self.compile({**schema, "type": t}, path, document)
                              for t in types])
        if types == "object" or (types is None and "properties" in schema):
            return self._object(schema, path, document)
        if types == "array":
            items = self.compile(schema.get("items", {}), f"{path}[]", document)
            low = schema.get("minItems", 0)
            high = min(schema.get("maxItems", low + 3), low + 3)
            return st.lists(items, min_size=low, max_size=high)
        if types in ("integer", "number"):
            return _number(schema, types)
        if types == "boolean":
            return st.booleans()
        if types == "null":
            return st.none()
        if types == "string" or any(k in schema for k in ("pattern", "anyOf", "format")):
            return _string(schema)
        return st.one_of(st.none(), st.booleans(), st.integers(*INT32),
                         st.text(bias.TEXT_ALPHABET, max_size=20))

    def _override(self, schema: dict[str, Any], path: str,
                  document: str) -> st.SearchStrategy[Any] | None:
        """The provider's strategy for ``path``, if its bias names the field."""
        b = self.bias
        values = _lookup(b.choices, path)
        if values is not None:
            return st.sampled_from(values).map(copy.deepcopy)
        pattern = _lookup(b.patterns, path)
        if pattern is not None:
            return st.from_regex(pattern, fullmatch=True)
        bounds = _lookup(b.ranges, path)
        if bounds is not None:
            if resolve(schema, document)[0].get("type") == "integer":
                return st.integers(int(bounds[0]), int(bounds[1]))
            return st.floats(bounds[0], bounds[1], allow_nan=False, allow_infinity=False)
        if _lookup(b.texts, path) is not None:
            return bias.texts(b.keywords)
        order = _lookup(b.timestamps, path)
        if order is not None:
            return st.just(_Stamp(order, timestamp_formats(b, path)))
        return None

    def _structured(self, branches: list[dict[str, Any]], document: str) -> bool:
        """Whether combinator branches hold objects (walked here) rather than leaf
        alternatives such as two string patterns (left to hypothesis-jsonschema)."""
        for branch in branches:
            resolved = resolve(branch, document)[0]
            if resolved.get("type") in ("object", "array") or "properties" in resolved:
                return True
        return False

    def _object(self, schema: dict[str, Any], path: str,
                document: str) -> st.SearchStrategy[dict[str, Any]]:
        properties: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", ()))
        exclusive = tuple(_lookup(self.bias.exclusive, path) or ())
        compiled = {name: self.compile(sub, _join(path, name), document)
                    for name, sub in properties.items()}
        patterned = [(pattern, sub, st.from_regex(pattern, fullmatch=True))
                     for pattern, sub in schema.get("patternProperties", {}).items()]
        min_size = schema.get("minProperties", 0)
        max_size = schema.get("maxProperties")

        @st.composite
        def build(draw: st.DrawFn) -> dict[str, Any]:
            out: dict[str, Any] = {}
            chosen = draw(st.sampled_from(exclusive)) if exclusive else None
            for name, strategy in compiled.items():
                if name in required or name == chosen:
                    present = True
                elif name in exclusive:
                    present = False
                else:
                    present = draw(st.booleans())
                if present:
                    out[name] = draw(strategy)
            if max_size == 0:
                return out
            for _pattern, sub, keys in patterned:
                for _ in range(draw(st.integers(0, 2))):
                    key = draw(keys)
                    if key not in out:
                        out[key] = draw(self._compile_lazily(sub, _join(path, key), document))
            for name, strategy in compiled.items():
                if len(out) >= min_size:
                    break
                if name not in out and (not exclusive or name not in exclusive):
                    out[name] = draw(strategy)
            return out

        return build()

    def _compile_lazily(self, schema: dict[str, Any], path: str,
                        document: str) -> st.SearchStrategy[Any]:
        # pattern properties get their path (content.text_1) only once their key is drawn
        key = (path, id(schema))
        if key not in self._lazy:
            self._lazy[key] = self.compile(schema, path, document)
        return self._lazy[key]


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **extra}
    if "properties" in base and "properties" in extra:
        merged["properties"] = {**base["properties"], **extra["properties"]}
    if "required" in base and "required" in extra:
        merged["required"] = [*base["required"], *extra["required"]]
    return merged


def _number(schema: dict[str, Any], kind: str) -> st.SearchStrategy[Any]:
    if kind == "integer":
        low = schema.get("minimum", INT32[0])
        high = schema.get("maximum", INT32[1])
        if "exclusiveMinimum" in schema:
            low = schema["exclusiveMinimum"] + 1
        if "exclusiveMaximum" in schema:
            high = schema["exclusiveMaximum"] - 1
        return st.integers(int(low), int(high))
    return st.floats(schema.get("minimum", -1e6), schema.get("maximum", 1e6),
                     allow_nan=False, allow_infinity=False)


_RUN = re.compile(r"\[(0-9|0-9A-F|0-9a-f)\]\{([0-9]+)\}|-")
_BASES = {"0-9": (10, "d"), "0-9A-F": (16, "X"), "0-9a-f": (16, "x")}


def _fixed_id(pattern: str) -> st.SearchStrategy[str] | None:
    """A strategy for ids of fixed-length digit runs (``^[0-9A-F]{32}$``, a UUID), drawing one
    integer per run: much cheaper to generate and to shrink than a regex drawn character by
    character. ``None`` for any other pattern."""
    body = pattern.removeprefix("^").removesuffix("$")
    runs: list[st.SearchStrategy[str]] = []
    position = 0
    while position < len(body):
        found = _RUN.match(body, position)
        if found is None:
            return None
        if found.group(0) == "-":
            runs.append(st.just("-"))
        else:
            base, style = _BASES[found.group(1)]
            width = int(found.group(2))
            runs.append(st.integers(0, base**width - 1).map(
                lambda n, w=width, f=style: format(n, f"0{w}{f}")))
        position = found.end()
    return st.tuples(*runs).map("".join) if runs else None


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    fast = _fixed_id(schema["pattern"]) if set(schema) <= {"type", "pattern", *ANNOTATIONS} \
        and "pattern" in schema else None
    if fast is not None:
        return fast
    if any(k in schema for k in ("pattern", "anyOf", "oneOf", "format")):
        leaf = {k: v for k, v in schema.items() if k not in ANNOTATIONS}
        return _leaf(json.dumps(leaf, sort_keys=True))
    low = schema.get("minLength", 0)
    return st.text(bias.TEXT_ALPHABET, min_size=low,
                   max_size=schema.get("maxLength", max(low, MAX_PLAIN_STRING)))


# -- whole payloads ------------------------------------------------------------------------

def _stamps(value: Any, found: list[_Stamp]) -> None:
    if isinstance(value, _Stamp):
        found.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _stamps(item, found)
    elif isinstance(value, list):
        for item in value:
            _stamps(item, found)


def _replace_stamps(value: Any, text: Callable[[_Stamp], str]) -> Any:
    if isinstance(value, _Stamp):
        return text(value)
    if isinstance(value, dict):
        return {key: _replace_stamps(item, text) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_stamps(item, text) for item in value]
    return value


def _known_names(schema: Any, document: str, names: set[str], patterns: set[str],
                 seen: set[str]) -> None:
    """Every property name and pattern anywhere in a schema (refs followed once)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            ref = schema["$ref"]
            if ref not in seen:
                seen.add(ref)
                resolved, target = resolve({"$ref": ref}, document)
                _known_names(resolved, target, names, patterns, seen)
        names.update(schema.get("properties", {}))
        patterns.update(schema.get("patternProperties", {}))
        for key, value in schema.items():
            if key != "$defs":
                _known_names(value, document, names, patterns, seen)
    elif isinstance(schema, list):
        for item in schema:
            _known_names(item, document, names, patterns, seen)


def unknown_field_names(kind: WebhookKind) -> tuple[str, ...]:
    """The extra field names that no schema property of ``kind`` could take."""
    names: set[str] = set()
    patterns: set[str] = set()
    _known_names(schemas.load(kind.schema), kind.schema, names, patterns, set())
    return tuple(name for name in bias.EXTRA_FIELD_NAMES
                 if name not in names and not any(re.search(p, name) for p in patterns))


def _add_unknown_fields(draw: st.DrawFn, value: Any, names: tuple[str, ...]) -> None:
    if isinstance(value, list):
        for item in value:
            _add_unknown_fields(draw, item, names)
    if not isinstance(value, dict):
        return
    for item in list(value.values()):
        _add_unknown_fields(draw, item, names)
    # an empty object is one the provider documents as always empty (mo_sms `errors`)
    if value and draw(st.booleans()):
        for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=2,
                                  unique=True)):
            value[name] = draw(bias.EXTRA_VALUES)


def payloads(kind: WebhookKind, *, extra_fields: bool = True) -> st.SearchStrategy[dict]:
    """Payloads of ``kind`` as its provider would send them (plus unknown fields, if asked)."""
    tree = _Walker(kind).compile(schemas.load(kind.schema), "", kind.schema)
    extra_names = unknown_field_names(kind) if extra_fields else ()

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        payload = draw(tree)
        found: list[_Stamp] = []
        _stamps(payload, found)
        if found:
            style = draw(st.integers(0, max(len(stamp.formats) for stamp in found) - 1))
            instant = float(draw(st.integers(FIRST_INSTANT, LAST_INSTANT)))
            instant += draw(st.integers(0, 999_999)) / 1e6
            at: dict[int, float] = {}
            for order in sorted({stamp.order for stamp in found}):
                at[order] = instant
                instant += draw(st.integers(0, MAX_STEP_SECONDS * 1_000_000)) / 1e6
            payload = _replace_stamps(payload, lambda stamp: stamp.formats[
                style % len(stamp.formats)](at[stamp.order]))
        if kind.finish is not None:
            payload = kind.finish(payload)
        assume(not schemas.problems(kind.schema, payload))
        if extra_names and draw(st.booleans()):
            _add_unknown_fields(draw, payload, extra_names)
        return payload

    return build()




def timestamp_formats(b: Bias, path: str) -> tuple[Callable[[float], str], ...]:
    """The formats of the timestamp field at ``path``."""
    return _lookup(b.timestamp_field_formats, path) or b.timestamp_formats or (iso_micro_z,)
