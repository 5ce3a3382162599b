"""The one clock every timestamp, delay, retry and lifecycle step reads.

Three modes:

- ``real``: wall-clock time.
- ``scaled``: starts at wall-clock time (or a given start) and runs ``speed`` times faster.
- ``manual``: stands still until :meth:`ManualClock.set` moves it; tests and the control API's
  ``clock/advance`` drive it through the scheduler.

Times are POSIX seconds (floats, UTC). :meth:`Clock.real_delay` converts an emulated delay into
real seconds to sleep, which is how the scheduler's driver waits on real and scaled clocks.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod

from emulator.core.timefmt import iso_micro_z


class Clock(ABC):
    """Emulated time source."""

    mode: str = ""
    speed: float = 1.0

    @abstractmethod
    def now(self) -> float:
        """Emulated time as POSIX seconds."""

    @abstractmethod
    def real_delay(self, emulated_seconds: float) -> float:
        """Real seconds until ``emulated_seconds`` pass; ``inf`` if time never moves alone."""

    def describe(self) -> dict:
        return {"now": iso_micro_z(self.now()), "mode": self.mode, "speed": self.speed}


class RealClock(Clock):
    mode = "real"

    def now(self) -> float:
        return time.time()

    def real_delay(self, emulated_seconds: float) -> float:
        return max(0.0, emulated_seconds)


class ScaledClock(Clock):
    """Real time multiplied by ``speed`` (60 means one real second is an emulated minute)."""

    mode = "scaled"

    def __init__(self, speed: float, start: float | None = None) -> None:
        if not speed > 0:
            raise ValueError("speed must be greater than 0")
        self.speed = float(speed)
        self._start = time.time() if start is None else start
        self._mono0 = time.monotonic()

    def now(self) -> float:
        return self._start + (time.monotonic() - self._mono0) * self.speed

    def real_delay(self, emulated_seconds: float) -> float:
        return max(0.0, emulated_seconds) / self.speed


class ManualClock(Clock):
    """A clock that only moves when told to. Starts at ``start`` (default: now, whole seconds)."""

    mode = "manual"

    def __init__(self, start: float | None = None) -> None:
        self._now = float(math.floor(time.time()) if start is None else start)

    def now(self) -> float:
        return self._now

    def set(self, when: float) -> None:
        """Move to ``when``; a manual clock never goes backwards."""
        if when > self._now:
            self._now = when

    def restart_at(self, when: float) -> None:
        """Jump to ``when``, backwards too; only for a reset, when nothing is queued."""
        self._now = float(when)

    def real_delay(self, emulated_seconds: float) -> float:
        return math.inf


def make_clock(mode: str, speed: float = 1.0, start: float | None = None) -> Clock:
    """Build the clock a ``--clock``/``--speed`` pair asks for."""
    if mode == "manual":
        return ManualClock(start)
    if mode == "scaled" or (mode == "real" and speed != 1.0):
        return ScaledClock(speed, start)
    if mode == "real":
        return RealClock() if start is None else ScaledClock(1.0, start)
    raise ValueError(f"unknown clock mode {mode!r} (use real, scaled or manual)")
