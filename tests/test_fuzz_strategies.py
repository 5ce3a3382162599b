"""The fuzzer's payloads: valid against the providers' schemas, formed as the providers form
them, aimed at what breaks handlers, and the same for the same seed."""

from __future__ import annotations

import importlib
import json
import sys
import unicodedata
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from emulator import schemas
from emulator.fuzz import bias
from emulator.fuzz.cases import DUPLICATE, GENUINE, OUT_OF_ORDER, Case, cases, requests_for
from emulator.fuzz.determinism import without_local_constants
from emulator.fuzz.kinds import available, select
from emulator.fuzz.strategies import payloads, unknown_field_names
from emulator.fuzz.sweep import sweep_cases
from emulator.providers.telesign.inbound import KEYWORDS
from emulator.providers.telesign.webhook_kinds import DESCRIPTIONS
from emulator.sms.keywords import detect
from tests.conftest import assert_valid

KINDS = list(available().values())
TELESIGN = [kind for kind in KINDS if kind.provider == "telesign"]


def draw(strategy: st.SearchStrategy[Any], count: int, at: int = 1) -> list[Any]:
    """``count`` values, seeded: what the fuzzer's generation phase would draw (unaffected by
    the modules loaded, as in the fuzzer)."""
    found: list[Any] = []

    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @seed(at)
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    with without_local_constants():
        collect()
    return found


@cache
def sample(name: str) -> tuple[dict[str, Any], ...]:
    """40 payloads of a kind, without unknown fields; shared by the tests below."""
    return tuple(draw(payloads(select([name])[0], extra_fields=False), 40))


def test_telesign_describes_all_seven_webhooks() -> None:
    assert [kind.name for kind in TELESIGN] == [
        "telesign.delivery_report", "telesign.mo_sms", "telesign.mo_email", "telesign.mo_mms",
        "telesign.mo_rcs", "telesign.mo_viber", "telesign.mo_whatsapp"]
    assert {kind.schema for kind in TELESIGN} == {
        "telesign/delivery-callback", "telesign/mo-sms", "telesign/mo-email",
        "telesign/mo-mms", "telesign/mo-rcs", "telesign/mo-viber", "telesign/mo-whatsapp"}


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_every_payload_is_valid_against_the_kinds_schema(kind) -> None:
    drawn = sample(kind.name)
    assert len(drawn) == 40  # none discarded by the schema check: the bias values are right
    for payload in drawn:
        assert_valid(kind.schema, payload)


def _action_of(action: dict[str, Any], text: str) -> None:
    """The keyword rules the provider applies: the action follows the text, exactly matched."""
    match = detect(text, KEYWORDS)
    assert action["action"].lower() == match.action
    assert action.get("keyword") == match.keyword


def test_mo_sms_aims_at_what_breaks_handlers() -> None:
    kind = select(["telesign.mo_sms"])[0]
    drawn = draw(payloads(kind), 200)
    texts = [p["user_response"]["mo_message"] for p in drawn]
    for payload in drawn:
        _action_of(payload["user_response"], payload["user_response"]["mo_message"])
    assert "" in texts
    assert any(not t.isascii() for t in texts)
    assert any(max(map(ord, t), default=0) > 0xFFFF for t in texts)  # emoji and the like
    # every action, its keywords in several letter cases, and keywords inside a sentence
    actions = {p["user_response"]["action"] for p in drawn}
    assert actions == {"stop", "help", "start", "generic"}
    said = {t.strip(" !.") for p, t in zip(drawn, texts, strict=True)
            if p["user_response"]["action"] != "generic"}
    assert any(t.isupper() for t in said) and any(t.islower() for t in said)
    # optional fields absent and present; both documented forms of an empty `errors`
    assert {"price" in p["user_response"] for p in drawn} == {True, False}
    assert {json.dumps(p["errors"]) for p in drawn} == {"[]", "{}"}
    # every timestamp format, in order within a payload
    stamps = [p["submit_timestamp"] for p in drawn]
    assert any(s.endswith("GMT") for s in stamps)
    assert any(len(s) == len("2015-10-03T14:51:28.709526Z") for s in stamps)
    assert any(len(s) == len("2015-10-03T14:51:28Z") for s in stamps)
    for payload in drawn:
        assert _instant(payload["submit_timestamp"]) <= _instant(payload["status"]["updated_on"])
    # unknown fields in some payloads only
    known = set(schemas.load(kind.schema)["properties"])
    assert {bool(set(p) - known) for p in drawn} == {True, False}


def _instant(text: str) -> datetime:
    if text.endswith("GMT"):
        return parsedate_to_datetime(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_delivery_reports_carry_the_documented_codes_with_their_descriptions() -> None:
    drawn = sample("telesign.delivery_report")
    codes = {p["status"]["code"] for p in drawn}
    assert codes <= set(DESCRIPTIONS) and len(codes) > 5
    for payload in drawn:
        assert payload["status"]["description"] == DESCRIPTIONS[payload["status"]["code"]]
    assert None in {p.get("external_id", "absent") for p in drawn}  # null where allowed


def test_the_sweep_tries_every_code_text_keyword_format_and_probe() -> None:
    kind = select(["telesign.delivery_report"])[0]
    swept = sweep_cases(kind)
    codes = [c.payloads[0]["status"]["code"] for c in swept if c.probe == GENUINE]
    assert set(codes) == set(DESCRIPTIONS)  # Hypothesis alone repeats; the sweep is exhaustive
    stamps = {c.payloads[0]["status"]["updated_on"][-3:] for c in swept}
    assert stamps >= {"GMT", "00Z"}
    assert [c.probe for c in swept if c.probe != GENUINE] == [
        DUPLICATE, OUT_OF_ORDER, *kind.forgeries]

    kind = select(["telesign.mo_sms"])[0]
    swept = sweep_cases(kind)
    texts = {c.payloads[0]["user_response"]["mo_message"] for c in swept}
    assert any(unicodedata.bidirectional(c) in ("R", "AL") for t in texts for c in t)
    assert any(len(t) == bias.MAX_TEXT for t in texts)
    assert texts >= set(bias.TRICKY_TEXTS) | set(bias.keyword_variants(["arrêt", "stop"]))
    for case in swept:
        for payload in case.payloads:
            assert_valid(kind.schema, payload)
            _action_of(payload["user_response"], payload["user_response"]["mo_message"])
    assert all(_instant(c.payloads[0]["submit_timestamp"])
               <= _instant(c.payloads[0]["status"]["updated_on"]) for c in swept)
    assert {"STOP", "Stop", "sToP", " STOP! "} <= {
        c.payloads[0]["user_response"]["mo_message"] for c in swept
        if c.payloads[0]["user_response"].get("keyword") == "stop"}


def test_rcs_and_whatsapp_keyword_actions_follow_their_text() -> None:
    for name in ("telesign.mo_rcs", "telesign.mo_whatsapp"):
        drawn = sample(name)
        actions = [p["content"]["end_user_action"] for p in drawn
                   if "end_user_action" in p["content"]]
        assert actions, name
        for action in actions:
            _action_of(action, action.get("text", ""))
        assert {a["action"] for a in actions} & {"generic", "GENERIC"}, name


def test_an_rcs_message_holds_one_kind_of_content() -> None:
    drawn = sample("telesign.mo_rcs")
    assert all(len(p["content"]) == 1 for p in drawn)
    assert {next(iter(p["content"])) for p in drawn} == {"text", "end_user_action", "file",
                                                          "location"}


def test_whatsapp_content_fields_match_its_type() -> None:
    drawn = sample("telesign.mo_whatsapp")
    typed = [p["content"] for p in drawn if "type" in p["content"]]
    for content in typed:
        fields = set(content["content"])
        if content["type"] == "text":
            assert fields == {"body"}
        elif content["type"] == "location":
            assert {"latitude", "longitude"} <= fields <= {"latitude", "longitude", "name",
                                                           "address"}
        elif content["type"] != "unsupported":
            assert "url" in fields and not fields & {"latitude", "longitude"}
    assert len({c["type"] for c in typed}) >= 3


def test_unknown_fields_are_the_only_departure_from_the_schema() -> None:
    for name in ("telesign.delivery_report", "telesign.mo_sms"):
        kind = select([name])[0]
        extra = unknown_field_names(kind)
        assert extra and "reference_id" not in extra and "status" not in extra
        validator = Draft202012Validator(schemas.load(kind.schema))
        for payload in draw(payloads(kind), 60):
            for error in validator.iter_errors(payload):
                assert error.validator == "additionalProperties", error.message


def test_the_same_seed_draws_the_same_cases() -> None:
    kind = select(["telesign.mo_sms"])[0]
    first = draw(cases(kind), 40, at=7)
    assert draw(cases(kind), 40, at=7) == first
    assert draw(cases(kind), 40, at=8) != first
    probes = {case.probe for case in first}
    assert GENUINE in probes and probes & set(kind.forgeries)


def test_out_of_order_reports_send_the_final_status_then_the_intermediate() -> None:
    kind = select(["telesign.delivery_report"])[0]
    pairs = [case.payloads for case in draw(cases(kind, extra_fields=False), 60)
             if case.probe == OUT_OF_ORDER]
    assert pairs
    for final, intermediate in pairs:
        assert final["reference_id"] == intermediate["reference_id"]
        assert final["status"]["code"] not in (203, 290, 291, 292, 295)
        assert intermediate["status"] == {"code": 203, "description": "Delivered to gateway",
                                          "updated_on": intermediate["status"]["updated_on"]}
        assert _instant(intermediate["status"]["updated_on"]) <= _instant(
            final["status"]["updated_on"])
        for payload in (final, intermediate):
            assert_valid(kind.schema, payload)


def test_a_duplicate_is_the_same_request_twice() -> None:
    kind = select(["telesign.mo_sms"])[0]
    payload = sample("telesign.mo_sms")[-1]
    first, second = requests_for(Case(DUPLICATE, (payload, payload)), kind,
                                 {"customer_id": "C", "api_key": "a2V5"},
                                 "http://127.0.0.1:1/cb", at=0)
    assert first == second and not first.forged
    assert first.body == kind.encode(payload)


def test_a_seed_draws_alike_whatever_modules_the_process_has_loaded(tmp_path,
                                                                    monkeypatch) -> None:
    """Hypothesis mines literals from the project's loaded modules; the fuzzer must not let
    them change what a seed generates (the command line and a pytest session load different
    modules)."""
    kind = select(["telesign.mo_sms"])[0]

    def fuzzer_draw() -> list[Any]:  # two seeds: each draws a constant now and then
        return draw(cases(kind), 40, at=3) + draw(cases(kind), 40, at=6)

    before = fuzzer_draw()
    (tmp_path / "vocabulary.py").write_text(
        "WORDS = " + repr([f"w{i}x" * 3 for i in range(300)] + list(range(1000, 1300))) + "\n",
        encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("vocabulary")
    try:
        assert fuzzer_draw() == before
    finally:
        del sys.modules["vocabulary"]
