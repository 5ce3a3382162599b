"""The one shape of an error about a user's input: a list of problems, each naming the field at
fault (and, for a file, its line), so that all of them are shown at once."""

from __future__ import annotations


class Problems(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
