"""The one shape of an error about a user's input: a list of problems, each naming the field at
fault (and, for a file, its line), so that all of them are shown at once."""

from __future__ import annotations

#: the longest one-line answer made of several problems (an API's error message)
MAX_SUMMARY = 300


class Problems(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems

    def summary(self, limit: int = MAX_SUMMARY) -> str:
        """The problems on one line for an API answer: the first, then as many more as fit in
        ``limit`` characters, then how many were left out."""
        return summarise(self.problems, limit)


def summarise(problems: list[str], limit: int = MAX_SUMMARY) -> str:
    first = problems[:1]
    shown = [p if len(p) <= limit - 20 else p[:limit - 21] + "…" for p in first]
    for index, problem in enumerate(problems[1:], start=1):
        rest = len(problems) - index - 1
        tail = len(f"; and {rest} more") if rest else 0
        if len("; ".join([*shown, problem])) + tail > limit:
            break
        shown.append(problem)
    left = len(problems) - len(shown)
    text = "; ".join(shown)
    if left:
        text += f"; and {left} more"
    return text
