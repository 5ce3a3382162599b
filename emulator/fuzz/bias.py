"""Provider-independent values that break real webhook handlers.

End-user text is drawn from: arbitrary unicode (first, so Hypothesis shrinks toward the empty
string and the smallest offending character), a list of known troublemakers (emoji with joiners
and flags, right-to-left and bidi controls, combining marks, 1600-character and empty messages,
quotes, markup and format strings) and the provider's keywords in every letter case, alone and
inside a sentence. Control characters other than tab, CR and LF are left out: no SMS, RCS or
WhatsApp message carries them.

Unknown fields, the other bias, are what a provider adds when its API grows; a handler must
ignore them.
"""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import strategies as st

MAX_TEXT = 1600  # Telesign's limit for one message (concatenated SMS)

TRICKY_TEXTS: tuple[str, ...] = (
    "",
    " ",
    "😀",
    "👨\u200d👩\u200d👧\u200d👦",  # a family: one glyph, seven code points
    "🇺🇸🇫🇷",
    "مرحبا، كيف حالك؟",
    "שלום עולם",
    "abc \u200fשלום\u200f 123",  # right-to-left marks around Hebrew
    "\u202eevil.exe\u202c",  # right-to-left override
    "e\u0301 n\u0303",  # combining accents
    "Ünïcödé ñ ç ß ø",
    "日本語のテキスト",
    "Привет, мир",
    "line1\nline2\r\nline3\ttabbed",
    "\"quoted\" 'single' \\backslash",
    "<script>alert(1)</script>",
    "'; DROP TABLE messages; --",
    "%s %d {0} {{name}} %(x)s ${7*7} #{7*7}",  # format strings and template injection
    "null",
    "\ufeffbyte order mark",
    "\u00a0non-breaking\u00a0space",
    "A" * 160,
    "A" * 161,
    "€" * 70,
    "é" * 71,
    "A" * MAX_TEXT,
    "😀" * MAX_TEXT,
    "ש" * MAX_TEXT,
)

TEXT_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Co", "Cn"),
                              include_characters="\t\n\r")

EXTRA_FIELD_NAMES: tuple[str, ...] = (
    "x_new_field", "metadata", "channel", "version", "trace_id", "_links", "", "🆕", "data",
)
EXTRA_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-1000, 1000), st.text(TEXT_ALPHABET, max_size=20),
    st.just({}), st.lists(st.integers(0, 9), max_size=3),
    st.fixed_dictionaries({"nested": st.text(TEXT_ALPHABET, max_size=10)}),
)


def keyword_variants(keywords: Iterable[str]) -> tuple[str, ...]:
    """Each keyword in every letter case, padded with space and punctuation, and inside a
    sentence (where it must not count as the keyword)."""
    found: dict[str, None] = {}
    for word in keywords:
        alternating = "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(word))
        for variant in (word.lower(), word.upper(), word.capitalize(), alternating,
                        f" {word.upper()}! ", f"{word.capitalize()}.", f"please {word} now"):
            found[variant] = None
    return tuple(found)


def texts(keywords: Iterable[str] = ()) -> st.SearchStrategy[str]:
    """End-user text, biased toward what breaks handlers."""
    branches = [st.text(TEXT_ALPHABET, max_size=MAX_TEXT), st.sampled_from(TRICKY_TEXTS)]
    variants = keyword_variants(keywords)
    if variants:
        branches.append(st.sampled_from(variants))
    return st.one_of(branches)
