"""Keyword detection in an end user's message (STOP, HELP, START and their synonyms).

A provider supplies its action-to-keyword mapping. Matching ignores case and the whitespace and
punctuation around the message. Two modes:

- ``exact`` (default): the whole message must be the keyword, so "STOP" and " stop! " opt out,
  but "please don't stop" is an ordinary (generic) message. This is what US carriers' compliance
  rules expect, and keeps a chatty reply from unsubscribing anyone.
- ``first_word``: the first word decides, so "STOP please" opts out too.

The keyword is reported as the user wrote it, in lower case (the providers' documents show
"Start" reported as "start" and "arrêt" as "arrêt"; "arret" stays "arret").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

MATCH_MODES = ("exact", "first_word")


@dataclass(frozen=True)
class KeywordMatch:
    action: str
    keyword: str | None  # None for the generic action


def _strip_punctuation(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _is_edge(text[start]):
        start += 1
    while end > start and _is_edge(text[end - 1]):
        end -= 1
    return text[start:end]


def _is_edge(char: str) -> bool:
    category = unicodedata.category(char)
    return char.isspace() or category.startswith("P") or category.startswith("S")


def detect(text: str, mapping: Mapping[str, tuple[str, ...]], mode: str = "exact",
           generic: str = "generic") -> KeywordMatch:
    """The action ``text`` triggers under ``mapping`` (action -> keywords, lower case)."""
    candidate = _strip_punctuation(unicodedata.normalize("NFC", text))
    if mode == "first_word":
        candidate = _strip_punctuation(candidate.split(maxsplit=1)[0]) if candidate else ""
    folded = candidate.casefold()
    for action, keywords in mapping.items():
        if folded in keywords:
            return KeywordMatch(action, candidate.lower())
    return KeywordMatch(generic, None)
