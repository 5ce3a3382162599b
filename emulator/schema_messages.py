"""Turns jsonschema's validation errors into short sentences a user can act on.

jsonschema's own messages show regular expressions, whole reprs of long values (a 1,001-item
list, a 5,000-character string) and, for ``oneOf``/``anyOf``, only "is not valid under any of the
given schemas". Here each error becomes a field path and a sentence naming the rule and the
offending value, at most :data:`MAX_SENTENCE` characters, so that ``field: sentence`` stays under
300 (a field is cut to :data:`MAX_FIELD`). How things are said:

- a value is shown as in Python, but null, true and false as in JSON; a string longer than
  :data:`VALUE_CHARS` is cut with an ellipsis, a long list or object is summarised by its size;
- a ``pattern`` is explained by the ``description`` of the schema that holds it, which is written
  as what the value must be ("a phone number of 2 to 15 digits ..."), never by the regex; without
  one, "is not in the expected format";
- an array's items are counted by the ``title`` of its ``items`` schema ("recipient"), else
  "items": ``1001 recipients, at most 1000 allowed``;
- null, where a schema allows it beside other values, stands for "not given" and is left out of
  the lists of what is allowed (``7 is not one of [0, 3, 8]`` for a nullable enum);
- ``oneOf``/``anyOf``: the alternatives whose type fits the value decide. One such alternative
  explains itself (``11 is greater than the maximum of 10``); otherwise the sentence lists what
  each alternative wants (``'x' is neither true nor an object``);
- a missing required field and an unknown field are each a problem of their own, at that field
  (past :data:`MAX_EXTRA` unknown fields of one object, the rest are only counted).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jsonschema is imported where errors are explained, not at start-up
    from jsonschema import ValidationError

MAX_SENTENCE = 220
MAX_FIELD = 60
VALUE_CHARS = 40
ELLIPSIS = "…"
#: unknown fields of one object named one by one; the rest are counted
MAX_EXTRA = 10

_TYPE_NAMES = {"string": "a string", "integer": "an integer", "number": "a number",
               "boolean": "true or false", "object": "an object", "array": "a list",
               "null": "null"}


@dataclass(frozen=True)
class Explained:
    """One problem: the path of the field at fault, the schema keyword broken, the sentence."""

    path: tuple[str | int, ...]
    rule: str
    sentence: str


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + ELLIPSIS


def show(value: Any, limit: int = VALUE_CHARS) -> str:
    """``value`` in a message: short, whatever its size."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, str):
        text = repr(value[:limit])
        if len(text) > limit + 2 or len(value) > limit:
            text = text[:min(len(text) - 1, limit + 1)] + ELLIPSIS + text[-1]
        return text
    if isinstance(value, int | float):
        try:
            return clip(repr(value), limit)
        except ValueError:  # an int beyond the interpreter's digit limit
            return "a very large number"
    if isinstance(value, list):
        text = "[" + ", ".join(show(item, 12) for item in value[:5]) + "]"
        return text if len(value) <= 5 and len(text) <= limit else _count(len(value), "item")
    if isinstance(value, dict):
        text = "{" + ", ".join(f"{show(str(k), 12)}: {show(v, 12)}"
                               for k, v in list(value.items())[:3]) + "}"
        return text if len(value) <= 3 and len(text) <= limit else (
            "an object with " + _count(len(value), "field"))
    return clip(repr(value), limit)


def _count(n: int, noun: str) -> str:
    plural = noun if noun.endswith("s") else noun + "s"
    return f"no {plural}" if n == 0 else f"1 {noun}" if n == 1 else f"{n} {plural}"


def _category(value: Any) -> str:
    """The JSON type of a value, integers and other numbers alike."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), "other")


def _or(phrases: list[str]) -> str:
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " or " + phrases[-1]


def _not_any(phrases: list[str]) -> str:
    """``is not A``, ``is neither A nor B``, ``is not A, B or C``."""
    if len(phrases) == 2:
        return f"is neither {phrases[0]} nor {phrases[1]}"
    return "is not " + _or(phrases)


def _types(types: str | list[str]) -> str:
    names = [types] if isinstance(types, str) else list(types)
    if len(names) > 1:
        names = [name for name in names if name != "null"]
    return _or([_TYPE_NAMES.get(name, name) for name in names])


def _choices(values: list[Any]) -> str:
    """An enum's values, null left out, the list cut short if long."""
    shown = [show(v, 20) for v in values if v is not None] or ["null"]
    text = "[" + ", ".join(shown) + "]"
    if len(text) > 120:
        kept: list[str] = []
        while shown and len(", ".join([*kept, shown[0]])) < 100:
            kept.append(shown.pop(0))
        text = "[" + ", ".join([*kept, ELLIPSIS]) + "]"
    return text


def _what(schema: Any) -> str:
    """What a pattern wants, from the description of the schema holding it."""
    description = schema.get("description", "").strip() if isinstance(schema, dict) else ""
    if not description:
        return "in the expected format"
    description = description.removesuffix(".")
    # "An E.164 number ..." reads "is not an E.164 number ..."; "E.164 ..." stays as it is
    if len(description) > 1 and description[0].isupper() and not description[1].isupper():
        description = description[0].lower() + description[1:]
    return description


def _noun(schema: Any) -> str:
    items = schema.get("items") if isinstance(schema, dict) else None
    title = items.get("title") if isinstance(items, dict) else None
    return title if isinstance(title, str) and title else "item"


def _expectation(error: ValidationError) -> str | None:
    """What an alternative wants, as a noun phrase, where one keyword says it."""
    rule, value = error.validator, error.validator_value
    if rule == "type":
        return _types(value)
    if rule == "enum":
        kept = [v for v in value if v is not None]
        return show(kept[0], 20) if len(kept) == 1 else f"one of {_choices(value)}"
    if rule == "const":
        return show(value, 20)
    if rule == "pattern":
        return _what(error.schema)
    if rule == "maxLength":
        return "empty" if value == 0 else f"at most {value} characters long"
    if rule == "minLength":
        return "a non-empty string" if value == 1 else f"at least {value} characters long"
    if rule in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        word = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than",
                "exclusiveMaximum": "less than"}[rule]
        return f"{word} {show(value)}"
    return None


def _misses_the_type(error: ValidationError) -> bool:
    """Whether the value is of a JSON type the (sub)schema does not want at all."""
    if error.relative_path:
        return False
    if error.validator == "type":
        return True
    if error.validator in ("enum", "const"):
        allowed = error.validator_value if error.validator == "enum" else [error.validator_value]
        return _category(error.instance) not in {_category(v) for v in allowed}
    return error.validator is None  # the schema false


def _sentence(error: ValidationError) -> str:
    """The sentence for one error that is not about alternatives, a missing or an extra field."""
    rule, wanted, instance = error.validator, error.validator_value, error.instance
    value = show(instance)
    if rule == "type":
        return f"{value} is not {_types(wanted)}"
    if rule == "enum":
        return f"{value} is not one of {_choices(wanted)}"
    if rule == "const":
        return f"must be {show(wanted)}, not {value}"
    if rule == "pattern":
        return f"{value} is not {_what(error.schema)}"
    if rule in ("minLength", "maxLength") and isinstance(instance, str):
        if rule == "minLength" and wanted == 1:
            return "must not be empty"
        if rule == "maxLength" and wanted == 0:
            return f"must be empty, not {value}"
        limit = "at least {} needed" if rule == "minLength" else "at most {} allowed"
        return f"{value} is {len(instance)} characters long, " + limit.format(wanted)
    if rule in ("minItems", "maxItems", "uniqueItems") and isinstance(instance, list):
        counted = _count(len(instance), _noun(error.schema))
        if rule == "uniqueItems":
            return f"{counted}, some of them the same; each must be different"
        limit = "at least {} needed" if rule == "minItems" else "at most {} allowed"
        return f"{counted}, " + limit.format(wanted)
    if rule in ("minProperties", "maxProperties") and isinstance(instance, dict):
        limit = "at least {} needed" if rule == "minProperties" else "at most {} allowed"
        return f"{_count(len(instance), 'field')}, " + limit.format(wanted)
    bounds = {"minimum": "is less than the minimum of {}",
              "maximum": "is greater than the maximum of {}",
              "exclusiveMinimum": "must be greater than {}",
              "exclusiveMaximum": "must be less than {}",
              "multipleOf": "is not a multiple of {}"}
    if rule in bounds:
        return f"{value} " + bounds[rule].format(show(wanted))
    if rule == "format":
        return f"{value} is not a valid {wanted}"
    if rule == "oneOf":  # without context: the value fits several alternatives
        return f"{value} fits more than one of the allowed forms; it must fit exactly one"
    if rule is None or rule == "not":
        return f"{value} is not allowed here"
    return f"{value} breaks the schema's {rule!r} rule"


def _missing(error: ValidationError) -> list[Explained]:
    path = tuple(error.absolute_path)
    if not isinstance(error.instance, dict):
        return [Explained(path, "required", "is required")]
    missing = [name for name in error.validator_value if name not in error.instance]
    return [Explained((*path, name), "required", "is required") for name in missing]


def _extra(error: ValidationError) -> list[Explained]:
    path = tuple(error.absolute_path)
    if not isinstance(error.instance, dict):
        return [Explained(path, error.validator, _sentence(error))]
    known = list(error.schema.get("properties", {}))
    patterns = list(error.schema.get("patternProperties", {}))
    extra = [key for key in error.instance
             if key not in known and not any(re.search(p, key) for p in patterns)]
    found = []
    for key in extra[:MAX_EXTRA]:
        close = difflib.get_close_matches(key, known, n=1) if len(key) < 100 else []
        if close:
            hint = f" (did you mean {close[0]!r}?)"
        elif known and len(known) <= 12:
            hint = f"; known fields: {', '.join(known)}"
        else:
            hint = ""
        found.append(Explained((*path, key), error.validator, "is not a known field" + hint))
    if len(extra) > MAX_EXTRA:
        last = found.pop()
        found.append(Explained(last.path, last.rule, f"{last.sentence}; "
                               f"{len(extra) - MAX_EXTRA} more fields are unknown too"))
    return found


def _alternatives(error: ValidationError) -> list[Explained]:
    """A value that fits none of ``oneOf``/``anyOf``, explained by the alternatives."""
    from jsonschema.exceptions import relevance

    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting: list[list[ValidationError]] = []
    wanted: list[str | None] = []
    for _, errors in sorted(branches.items(), key=lambda item: str(item[0])):
        misses = [e for e in errors if _misses_the_type(e)]
        if misses:
            wanted.append(_expectation(misses[0]))
        else:
            fitting.append(errors)
            best = max(errors, key=relevance)
            wanted.append(_expectation(best) if len(errors) == 1 and not best.relative_path
                          else None)
    if len(fitting) == 1:
        return explain(max(fitting[0], key=relevance))
    if all(wanted):
        phrases = list(dict.fromkeys(w for w in wanted if w))
        if len(phrases) > 1:
            phrases = [p for p in phrases if p != "null"]
        return [Explained(tuple(error.absolute_path), error.validator,
                          f"{show(error.instance)} {_not_any(phrases)}")]
    candidates = [e for errors in fitting for e in errors] or list(error.context)
    return explain(max(candidates, key=relevance))


def explain(error: ValidationError) -> list[Explained]:
    """The problems one jsonschema error stands for (several for missing or extra fields)."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        return _alternatives(error)
    if error.validator == "required":
        return _missing(error)
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        return _extra(error)
    path = tuple(error.absolute_path)
    schema_path = list(error.absolute_schema_path)
    if len(schema_path) >= 2 and schema_path[-2] == "propertyNames":
        # the error is about one of the keys of the object at ``path``
        return [Explained(path, error.validator, "the key " + _sentence(error))]
    return [Explained(path, error.validator, _sentence(error))]


def explain_all(errors: Iterable[ValidationError]) -> list[Explained]:
    """Every problem of a validation, each sentence at most :data:`MAX_SENTENCE` long.
    jsonschema reports each missing field of an object as a separate error; they are
    explained once, and a problem said twice is kept once."""
    found: list[Explained] = []
    seen_required: set[tuple[Any, ...]] = set()
    seen: set[Explained] = set()
    for error in errors:
        if error.validator == "required":
            key = (tuple(error.absolute_path), tuple(error.absolute_schema_path))
            if key in seen_required:
                continue
            seen_required.add(key)
        for explained in explain(error):
            explained = Explained(explained.path, explained.rule,
                                  clip(explained.sentence, MAX_SENTENCE))
            if explained not in seen:  # two ``then``s may say the same thing
                seen.add(explained)
                found.append(explained)
    return found


def field_name(path: Iterable[str | int], prefix: str = "") -> str:
    """A dotted path, each part and the whole cut short (a key may be a user's long string)."""
    parts = ([prefix] if prefix else []) + [clip(str(part), 30) for part in path]
    name = ".".join(parts) or "(top level)"
    return name if len(name) <= MAX_FIELD else ELLIPSIS + name[-(MAX_FIELD - 1):]
