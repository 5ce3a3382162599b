"""Encodings and segmentation (emulator.sms), shared by every provider: the encoding choice,
character costs, and property-based checks that parts always reassemble to the text, never
exceed their limits and never split an escape sequence or a surrogate pair."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.sms import encoding
from emulator.sms.encoding import GSM7, LATIN1, UCS2, Unencodable, choose, units
from emulator.sms.segmentation import TABLES, TooManyParts, split
from tests.seed_examples_tsg import MULTIPART_BODY_002

GSM_EXTENSION = "^{}\\[~]|€\f"


def test_the_gsm_alphabet_has_its_well_known_pitfalls() -> None:
    basic = encoding.GSM7_BASIC
    assert len(basic) == 127  # 128 positions, one of them the escape
    assert (basic["@"], basic["$"], basic["¤"], basic["¡"], basic["_"]) == (0, 2, 0x24, 0x40,
                                                                          0x11)
    assert (basic["Ç"], basic["§"], basic["¿"], basic["à"]) == (0x09, 0x5F, 0x60, 0x7F)
    assert "`" not in basic and "`" not in encoding.GSM7_EXTENSION
    assert set(encoding.GSM7_EXTENSION) == set(GSM_EXTENSION)
    assert len(encoding.encode("Hello [world] €5 ~ok", GSM7)) == 24  # 20 chars, 4 escaped


@pytest.mark.parametrize(("text", "requested", "expected"), [
    ("hello world", None, LATIN1),         # TSG's example: plain text comes back as 3
    ("Grüße, ça va? ¿Qué?", None, LATIN1),
    ("price: 5 €", None, UCS2),            # € is not Latin-1
    ("hi 😀", None, UCS2),
    ("hello world", GSM7, GSM7),           # 0 when asked and the text fits
    ("price: 5 €", GSM7, GSM7),            # € is in the GSM extension table
    ("á", GSM7, LATIN1),                   # not GSM: the inferred encoding instead
    ("😀", LATIN1, UCS2),
    ("hello", UCS2, UCS2),
])
def test_choose_follows_tsg(text: str, requested: int | None, expected: int) -> None:
    assert choose(text, requested) == expected


def test_costs_count_extension_characters_and_surrogate_pairs_double() -> None:
    assert units("a€[", GSM7) == 5
    assert units("a€[", UCS2) == 3
    assert units("a😀", UCS2) == 3
    assert units("ÿé", LATIN1) == 2
    with pytest.raises(Unencodable):
        units("€", LATIN1)
    with pytest.raises(Unencodable):
        choose("lone \ud800 surrogate")


@pytest.mark.parametrize(("table", "enc", "single", "multi", "max_parts"), [
    ("tsg", GSM7, 160, 153, 6), ("tsg", LATIN1, 140, 134, 5), ("tsg", UCS2, 70, 68, 6),
    ("3gpp", GSM7, 160, 153, 255), ("3gpp", LATIN1, 140, 134, 255), ("3gpp", UCS2, 70, 67, 255),
])
def test_segment_tables_at_their_boundaries(table: str, enc: int, single: int, multi: int,
                                            max_parts: int) -> None:
    limits = TABLES[table]
    assert split("a" * single, enc, limits).count == 1
    assert split("a" * (single + 1), enc, limits).count == 2
    assert [len(p) for p in split("a" * (single + 1), enc, limits).parts] == [multi,
                                                                               single + 1 - multi]
    assert split("a" * (multi * max_parts), enc, limits).count == max_parts
    with pytest.raises(TooManyParts) as raised:
        split("a" * (multi * max_parts + 1), enc, limits)
    assert raised.value.needed == max_parts + 1


def test_the_seed_multipart_body_is_three_latin1_parts() -> None:
    segmented = split(MULTIPART_BODY_002, choose(MULTIPART_BODY_002), TABLES["tsg"])
    assert (segmented.encoding, segmented.count) == (LATIN1, 3)
    assert [len(p) for p in segmented.parts] == [134, 134, 94]


def test_an_escape_sequence_moves_whole_to_the_next_part() -> None:
    text = "a" * 152 + "€" + "b" * 10  # € would straddle the 153-septet boundary
    parts = split(text, GSM7, TABLES["tsg"]).parts
    assert parts[0] == "a" * 152 and parts[1].startswith("€")
    emoji = "a" * 67 + "😀" + "b" * 10  # the pair would straddle the 68-unit boundary
    parts = split(emoji, UCS2, TABLES["tsg"]).parts
    assert parts[0] == "a" * 67 and parts[1].startswith("😀")


# -- properties --------------------------------------------------------------------------------
def short_and_long(alphabet: st.SearchStrategy[str], longest: int) -> st.SearchStrategy[str]:
    """Texts of any length, and texts long enough to need several parts."""
    return st.one_of(st.lists(alphabet, max_size=longest).map("".join),
                     st.lists(alphabet, min_size=longest // 4, max_size=longest).map("".join))


gsm_text = short_and_long(st.sampled_from(sorted(set(encoding.GSM7_BASIC) | set(GSM_EXTENSION))),
                          700)
latin1_text = short_and_long(st.characters(max_codepoint=0xFF), 500)
any_text = short_and_long(st.characters(blacklist_categories=("Cs",)), 450)
# plenty of emoji and extension characters, where splitting goes wrong if it can
tricky_text = short_and_long(st.sampled_from(["a", "€", "[", "😀", "é", "\U0001F468\u200D"]),
                             300)


def check_parts(text: str, enc: int, table_name: str) -> None:
    table = TABLES[table_name]
    limits = table.limits[enc]
    try:
        segmented = split(text, enc, table)
    except TooManyParts as exc:
        assert exc.needed > limits.max_parts
        assert units(text, enc) > limits.multipart * (limits.max_parts - 1)
        return
    assert "".join(segmented.parts) == text
    assert segmented.count <= limits.max_parts
    limit = limits.single if segmented.count == 1 else limits.multipart
    encoded = [encoding.encode(part, enc) for part in segmented.parts]
    for part, raw in zip(segmented.parts, encoded, strict=True):
        assert units(part, enc) <= limit
        # each part stands alone: no dangling escape, no half surrogate pair
        assert encoding.decode(raw, enc) == part
    if enc == UCS2:
        assert all(len(raw) <= 2 * limit for raw in encoded)
    if segmented.count > 1:  # greedy: a part ends only where the next character would not fit
        for part, following in zip(segmented.parts, segmented.parts[1:], strict=False):
            assert units(part + following[0], enc) > limits.multipart


@settings(max_examples=120, deadline=None, derandomize=True)
@given(text=gsm_text, table=st.sampled_from(["tsg", "3gpp"]))
def test_gsm7_parts_reassemble_and_fit(text: str, table: str) -> None:
    check_parts(text, GSM7, table)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(text=latin1_text, table=st.sampled_from(["tsg", "3gpp"]))
def test_latin1_parts_reassemble_and_fit(text: str, table: str) -> None:
    check_parts(text, LATIN1, table)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(text=st.one_of(any_text, tricky_text), table=st.sampled_from(["tsg", "3gpp"]))
def test_ucs2_parts_reassemble_and_fit(text: str, table: str) -> None:
    check_parts(text, UCS2, table)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(text=st.one_of(any_text, tricky_text, gsm_text))
def test_the_chosen_encoding_always_represents_the_text(text: str) -> None:
    chosen = choose(text)
    assert chosen in (LATIN1, UCS2)
    assert encoding.decode(encoding.encode(text, chosen), chosen) == text
    assert (chosen == LATIN1) == all(ord(c) < 0x100 for c in text)
