"""Every error made from a schema is a short sentence naming the field, the rule and the value.

The walk derives invalid instances from each schema the emulator validates input against (for
every node: wrong types, values outside an enum, strings and lists past their bounds, pattern
violations, missing and extra fields, huge values) and checks every message it gets. Then the
three reported cases end to end over HTTP, and the control API's forms of the same messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from emulator import schemas
from emulator.problems import summarise
from emulator.schema_messages import show
from tests.conftest import Emulator
from tests.tsg_support import NUMBER, call

#: every schema user input is checked against: the TSG API, the control API's inbound
#: documents, a webhook's answer, the configuration sections, scenario files
INPUT_SCHEMAS = ("tsg/send-request", "tsg/number-webhook-request", "tsg/inbound-request",
                 "tsg/webhook-answer", "telesign/inbound-request", "core/config-webhooks",
                 "core/config-lifecycle", "tsg/config", "telesign/config", "replay/scenario")
MAX_MESSAGE = 300
#: what jsonschema says itself; none of it may reach a user
RAW_PHRASES = ("is not valid under any of the given schemas", "does not match",
               "Additional properties", "is too long", "is too short", "is a required property",
               "is not of type", "should be non-empty", "were unexpected", "was unexpected",
               "is valid under each of", "Failed validating", "False schema")
HUGE = 5000  # characters
MANY = 1100  # items or fields: more than any maxItems


def resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    assert ref.startswith("#/"), f"only local $refs are walked: {ref}"
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def a_key(root: dict[str, Any], node: dict[str, Any]) -> str:
    """A key the node's ``propertyNames`` (if any) accepts, to reach its other properties."""
    names = node.get("propertyNames")
    if not names:
        return "k"
    if "$ref" in names:
        names = resolve(root, names["$ref"])
    check = schemas.validator_of(names)
    return next((k for k in ("sms", "delivered", "15550001111") if check.is_valid(k)), "k")


def nodes(root: dict[str, Any], node: Any, path: tuple[str | int, ...] = (),
          refs: frozenset[str] = frozenset()) -> Iterator[tuple[tuple[str | int, ...], dict]]:
    """Every subschema with the instance path it applies at."""
    if not isinstance(node, dict):
        return
    yield path, node
    ref = node.get("$ref")
    if ref and ref not in refs:  # a recursive $ref is walked once
        yield from nodes(root, resolve(root, ref), path, refs | {ref})
    for name, sub in node.get("properties", {}).items():
        yield from nodes(root, sub, (*path, name), refs)
    if isinstance(node.get("additionalProperties"), dict):
        yield from nodes(root, node["additionalProperties"], (*path, a_key(root, node)), refs)
    if isinstance(node.get("items"), dict):
        yield from nodes(root, node["items"], (*path, 0), refs)
    for keyword in ("oneOf", "anyOf", "allOf"):
        for sub in node.get(keyword, []):
            yield from nodes(root, sub, path, refs)
    for keyword in ("then", "else"):
        yield from nodes(root, node.get(keyword), path, refs)


def bad_values(node: dict[str, Any]) -> list[Any]:
    """Values meant to break ``node``: of every JSON type, huge, and past each of its bounds."""
    values: list[Any] = [None, True, 12345, -1e308, 10**30, "zzz not allowed", "x" * HUGE,
                         [1, "a"], {"a": 1}]
    if "maxLength" in node:
        values.append("y" * (node["maxLength"] + 1))
    if "minLength" in node:
        values.append("y" * (node["minLength"] - 1))
    if "pattern" in node:
        values += ["bad value!", "Z" * HUGE, "1" * 40]
    if "maxItems" in node:
        values.append(["15551234567"] * (node["maxItems"] + 1))
    if "minItems" in node:
        values.append([])
    for bound, step in (("minimum", -1), ("maximum", 1), ("exclusiveMinimum", 0),
                        ("exclusiveMaximum", 0)):
        if bound in node:
            values.append(node[bound] + step)
    if "enum" in node or "const" in node:
        values += ["not-a-choice", 987654]
    if node.get("type") == "object" or "properties" in node:
        values += [{}, {"unexpected_" + "q" * 300: 1}]
    if node.get("additionalProperties") is False:
        values.append({f"f{i}": i for i in range(MANY)})
    if "propertyNames" in node:
        values += [{"bad key": {}}, {"K" * HUGE: {}}]
    return values


def place(path: tuple[str | int, ...], value: Any) -> Any:
    """A document holding ``value`` at ``path`` (nothing else is meant to be right)."""
    for part in reversed(path):
        value = [value] if isinstance(part, int) else {part: value}
    return value


def shown_token(value: Any) -> str | None:
    """A piece of ``value`` its message must show, if the rule is about the value itself."""
    if isinstance(value, str):
        return value[:10] or None
    if isinstance(value, bool) or value is None:
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int | float):
        return repr(value)[:10]
    if isinstance(value, list):  # a long one by its length, a short one as it is
        return f"{len(value)} " if len(value) > 5 else "[" if value else None
    return None


def check_message(text: str, patterns: list[str], where: str) -> None:
    assert len(text) <= MAX_MESSAGE, f"{where}: {len(text)} characters: {text[:400]}"
    for phrase in RAW_PHRASES:
        assert phrase not in text, f"{where}: raw jsonschema text: {text}"
    assert not re.search(r"\^.*\$", text), f"{where}: a regex: {text}"
    for pattern in patterns:
        assert pattern not in text, f"{where}: the pattern {pattern}: {text}"


VALUE_RULES = {"type", "enum", "const", "pattern", "maxLength", "minimum", "maximum",
               "exclusiveMinimum", "exclusiveMaximum", "oneOf", "anyOf", "minItems", "maxItems"}


@pytest.mark.parametrize("name", INPUT_SCHEMAS)
def test_every_schema_error_is_a_short_sentence_naming_field_rule_and_value(name: str) -> None:
    root = schemas.load(name)
    check = schemas.validator(name)
    patterns = [node["pattern"] for _, node in nodes(root, root) if "pattern" in node]
    walked: set[str] = set()
    for path, node in nodes(root, root):
        for value in bad_values(node):
            document = place(path, value)
            key = repr(document)
            if key in walked:  # the same field reached twice (through if/then, a $ref)
                continue
            walked.add(key)
            raw = list(check.iter_errors(document))
            found = schemas.problems(name, document)
            where = f"{name} at {path} with {show(value)}"
            assert bool(found) == bool(raw), where  # nothing invalid passes unreported
            reported = {p.path[:n] for p in found for n in range(len(p.path) + 1)}
            for error in raw:  # each reported at its own field or one below it
                assert tuple(error.absolute_path) in reported, f"{where}: {error.message}"
            for problem in found:
                text = f"{problem.field()}: {problem.message}"
                check_message(text, patterns, where)
                assert problem.field() != "(top level)" or not problem.path, where
                token = shown_token(value)
                if problem.path == path and problem.rule in VALUE_RULES and token:
                    assert token in problem.message, f"{where}: value not shown: {text}"
    assert len(walked) > 15


@pytest.mark.parametrize("name", INPUT_SCHEMAS)
def test_every_pattern_of_an_input_schema_is_described(name: str) -> None:
    root = schemas.load(name)
    bare = [path for path, node in nodes(root, root)
            if "pattern" in node and not node.get("description")]
    assert not bare, f"{name}: patterns without a description at {bare}"


@pytest.mark.parametrize(("name", "document", "expected"), [
    ("tsg/send-request", {"encoding": 7}, "encoding: 7 is not one of [0, 3, 8]"),
    ("tsg/send-request", {"force_encoding": "x"}, "force_encoding: 'x' is not one of [0, 3, 8]"),
    ("tsg/send-request", {"to": ["15551234567"] * 1001},
     "to: 1001 recipients, at most 1000 allowed"),
    ("tsg/send-request", {"to": []}, "to: no recipients, at least 1 needed"),
    ("tsg/send-request", {"to": ["1", "15551234567"]},
     "to.0: '1' is not a phone number of 2 to 15 digits, not starting with 0 (E.164; the + is "
     "optional)"),
    ("tsg/send-request", {"body": ""}, "body: must not be empty"),
    ("tsg/send-request", {"registered_delivery": 4},
     "registered_delivery: 4 is greater than the maximum of 3"),
    ("tsg/send-request", {}, "from: is required"),
    ("tsg/number-webhook-request", {"webhook_url": "ftp://x"},
     "webhook_url: 'ftp://x' is neither empty nor an http:// or https:// URL without spaces"),
    ("telesign/inbound-request", {"imagse": 2}, "imagse: is not a known field (did you mean "
     "'images'?)"),
    ("telesign/inbound-request", {"file": 5}, "file: 5 is neither true nor an object"),
    ("telesign/inbound-request", {"videos": ["https://x"] * 11},
     "videos: 11 URLs, at most 10 allowed"),
    ("telesign/inbound-request", {"location": {"latitude": 91, "longitude": 0}},
     "location.latitude: 91 is greater than the maximum of 90"),
    ("telesign/inbound-request", {"text": "x" * 1601},
     "text: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…' is 1601 characters long, at most 1600 "
     "allowed"),
    ("tsg/config", {"numbers": {"+1555": {}}},
     "numbers: the key '+1555' is not a number (DID) of 1 to 15 digits"),
    ("replay/scenario", {"steps": [{"advance": "soon"}]},
     "steps.0.advance: 'soon' is not a duration such as 10, '10s', '5m', '2h' or '3d'"),
    ("replay/scenario", {"steps": [{"expect_message": {"count": "many"}}]},
     "steps.0.expect_message.count: 'many' is not an integer"),
])
def test_messages_read_as_sentences(name: str, document: dict[str, Any], expected: str) -> None:
    assert expected in schemas.errors(name, document)


def test_each_missing_field_is_its_own_problem_and_said_once() -> None:
    document = {"provider": "telesign", "from": "15551234567", "text": "x" * 1601}
    assert schemas.errors("telesign/inbound-request", document) == [
        "text: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…' is 1601 characters long, at most "
        "1600 allowed",
        "to: is required"]  # both if/then branches say it; it is said once
    assert [p.field() for p in schemas.problems("tsg/send-request", {"body": "x"})] == [
        "from", "to"]


def test_values_and_fields_are_shown_short() -> None:
    assert show("x" * 100) == "'" + "x" * 40 + "…'"
    assert show(list(range(1001))) == "1001 items"
    assert show([1, "a"]) == "[1, 'a']"
    assert (show(None), show(True), show(10**100)) == ("null", "true", "1" + "0" * 38 + "…")
    [problem] = schemas.problems("tsg/number-webhook-request", {"did": "1", "k" * 5000: 1,
                                                                "webhook_type": "k" * 5000})
    assert len(problem.field()) <= 30 and len(problem.message) < 100


def test_a_summary_of_many_problems_stays_short() -> None:
    problems = [f"field{i}: is required" for i in range(100)]
    text = summarise(problems)
    assert len(text) <= 300 and text.startswith("field0: is required; field1")
    assert text.endswith(" more") and summarise(problems[:2]) == "; ".join(problems[:2])
    assert len(summarise(["x" * 5000, "y"])) <= 300


async def tsg_error(emulator: Emulator, document: dict[str, Any]) -> str:
    answer = await call(emulator, "POST", "/messages", json=document)
    assert answer.status == 422, answer.body
    [error] = answer.body["errors"]
    assert error["id"] == "invalid_parameter"
    return error["message"]


VALID = {"from": NUMBER, "to": ["15551234567"], "body": "hello"}


async def test_tsg_an_unknown_encoding_lists_the_allowed_ones(emulator: Emulator) -> None:
    assert await tsg_error(emulator, {**VALID, "encoding": 7}) == (
        "encoding: 7 is not one of [0, 3, 8]")


async def test_tsg_too_many_recipients_are_counted_not_listed(emulator: Emulator) -> None:
    to = [f"1555{n:07d}" for n in range(1001)]
    assert await tsg_error(emulator, {**VALID, "to": to}) == (
        "to: 1001 recipients, at most 1000 allowed")


async def test_tsg_a_too_long_sender_is_described_not_shown_as_a_regex(
        emulator: Emulator) -> None:
    assert await tsg_error(emulator, {**VALID, "from": "A sender ID far too long"}) == (
        "from: 'A sender ID far too long' is not a phone number of 2 to 15 digits (E.164; the "
        "+ is optional) or a sender ID of 1 to 11 letters, digits, spaces or . _ & - (starting "
        "with a letter or digit)")


async def test_control_api_inbound_errors_name_the_field(emulator: Emulator) -> None:
    status, body = await emulator.control("POST", "/inbound", json={
        "provider": "telesign", "from": "15551234567", "to": "4442", "text": "x" * 5000})
    assert status == 400
    assert body == {"error": "text: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…' is 5000 "
                             "characters long, at most 1600 allowed", "field": "text"}
    status, body = await emulator.control("POST", "/inbound", json={
        "provider": "tsg", "to": NUMBER, "text": "hi"})
    assert (status, body) == (400, {"error": "from: is required", "field": "from"})


async def test_config_patch_errors_are_sentences_and_a_bounded_list(emulator: Emulator) -> None:
    status, body = await emulator.control("PATCH", "/config", json={
        "tsg": {"segments": "gsm"}})
    assert (status, body) == (400, {"error": "tsg.segments: 'gsm' is not one of ['tsg', "
                                             "'3gpp']", "field": "tsg.segments"})
    status, body = await emulator.control("PATCH", "/config", json={
        "telesign": {f"unknown_{i}": i for i in range(200)}})
    assert status == 400 and body["field"] == "telesign.unknown_0"
    assert body["error"].startswith("telesign.unknown_0: is not a known field")
    assert len(body["error"]) <= 300 and body["error"].endswith(" more")


LONG = "9" * 3000 + "x"


async def test_hand_written_messages_show_a_long_value_short(emulator: Emulator) -> None:
    """Checks written in code rather than in a schema shorten the value they quote too; the
    answers' schemas bound every message at 300 characters as well."""
    answers = [
        await emulator.control("POST", "/inbound", json={
            "provider": "telesign", "from": LONG, "to": "4442", "text": "hi"}),
        await emulator.control("POST", "/inbound", json={
            "provider": "telesign", "from": "15551234567", "to": LONG, "text": "hi"}),
        await emulator.control("POST", "/inbound", json={
            "provider": "telesign", "channel": LONG, "from": "15551234567", "text": "hi"}),
        await emulator.control("GET", f"/messages/{LONG}"),
        await emulator.control("POST", "/reset", json={LONG: 1}),
    ]
    for status, body in answers:
        assert 400 <= status < 500, body
        assert len(body["error"]) <= 300 and "9" * 41 not in body["error"], body
        assert "…" in body["error"], body
    message = await tsg_error(emulator, {**VALID, "deliver_at": LONG})
    assert message.startswith("deliver_at: '999") and len(message) <= 300, message
