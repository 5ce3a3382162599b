"""The README's code blocks, for the tests that run its examples verbatim (so the README cannot
drift from what works)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def block(language: str, containing: str) -> str:
    """The one ``language`` code block of the README that contains ``containing``."""
    found = [body for lang, body in _BLOCK.findall(README.read_text(encoding="utf-8"))
             if lang == language and containing in body]
    assert len(found) == 1, f"{len(found)} {language} blocks of README.md contain {containing!r}"
    return found[0]


def command_lines(shell_block: str) -> list[str]:
    """The commands of a shell block, one string each: continuation lines joined, comments and
    blank lines left out."""
    joined = shell_block.replace("\\\n", " ")
    return [line for line in joined.splitlines() if shlex.split(line, comments=True)]
