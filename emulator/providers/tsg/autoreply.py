"""Reads a webhook's answer to an ``sms`` object: ``{"body": "..."}`` with HTTP 200 asks TSG to
send that text from the number back to the originator.

As documented, only the ``body`` key is used (other keys are noted in the journal and
ignored). The answer is read as JSON whatever its Content-Type. Anything else (an empty answer,
text that is not JSON, JSON that is not an object or has no non-empty string ``body``) sends
nothing, and the journal's ``auto_reply_ignored`` entry says why. The answer is parsed as the
emulator parses every JSON body (:mod:`emulator.core.strictjson`), so a hostile answer nested
900 levels deep is ignored with its reason rather than exhausting the recursion limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from emulator import schemas
from emulator.core import strictjson


@dataclass(frozen=True)
class Answer:
    text: str | None
    reason: str = ""
    ignored_keys: list[str] = field(default_factory=list)


def read(body: bytes) -> Answer:
    if not body.strip():
        return Answer(None, "the answer was empty")
    try:
        document = strictjson.loads(body)
    except strictjson.NotStandardJson as exc:  # deeper than 32 levels, a 400-digit number...
        return Answer(None, f"the answer is not usable JSON: {exc.field}: {exc}")
    except (UnicodeDecodeError, ValueError, RecursionError):
        return Answer(None, "the answer is not JSON")
    if not isinstance(document, dict):
        return Answer(None, f"the answer is JSON but not an object ({type(document).__name__})")
    problems = schemas.problems("tsg/webhook-answer", document)
    if problems:
        return Answer(None, f"{problems[0].field()}: {problems[0].message}")
    return Answer(document["body"], ignored_keys=sorted(k for k in document if k != "body"))
