"""A one-line progress bar on stderr: kind, examples done, findings, and whether it shrinks.

Drawn only on a terminal (the command line turns it off for pipes, CI logs and ``--quiet``),
redrawn at most ten times a second, and erased when the run ends.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 24


class ProgressBar:
    def __init__(self, stream: TextIO | None = None, total_kinds: int = 1) -> None:
        self.stream = stream or sys.stderr
        self.total_kinds = total_kinds
        self._drawn_at = 0.0
        self._shown = False

    def __call__(self, kind: str, index: int, done: int, total: int, findings: int,
                 shrinking: bool) -> None:
        now = time.monotonic()
        if now - self._drawn_at < 0.1 and done < total:
            return
        self._drawn_at = now
        filled = min(WIDTH, WIDTH * done // max(total, 1))
        bar = "#" * filled + "." * (WIDTH - filled)
        state = "  shrinking" if shrinking else ""
        line = (f"\r[{bar}] {kind} ({index}/{self.total_kinds}) {min(done, total)}/{total} "
                f"examples, {findings} finding(s){state}")
        self.stream.write(line.ljust(100)[:120])
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\r" + " " * 120 + "\r")
            self.stream.flush()
