"""The options of a fuzz run, shared by the command line and the Python API, and their checks.

Defaults: 100 examples per kind, a 60-second budget for the whole run, 5 seconds per request,
the credentials the emulator uses by default, and the statuses each provider counts as
delivered (HTTP 200 for Telesign and TSG Global).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


class UsageError(ValueError):
    """Bad input: a bad target, an unknown kind, malformed credentials or options."""


@dataclass(frozen=True)
class FuzzOptions:
    #: the handler's URL; loopback only unless ``allow_remote``
    target: str
    #: kind names (``telesign.mo_sms``), short names (``mo_sms``), providers or ``all``
    kinds: tuple[str, ...] = ("all",)
    #: Hypothesis examples per kind (shrinking runs more)
    examples: int = 100
    #: ``None`` draws one; the result reports it so the run can be repeated
    seed: int | None = None
    #: seconds for the whole run; it stops when they run out and reports what was done
    max_time: float = 60.0
    #: seconds per request
    timeout: float = 5.0
    #: ``provider.name`` -> value, e.g. ``{"telesign.api_key": "..."}``
    credentials: Mapping[str, str] = field(default_factory=dict)
    #: statuses a genuine webhook must get; ``None``: what its provider counts as delivered
    expect: tuple[int, ...] | None = None
    #: send forged requests (missing, malformed, stale, wrong signatures)
    security: bool = True
    #: add unknown fields to some payloads, as a provider does when its API grows
    extra_fields: bool = True
    #: after Hypothesis, try every bias value and probe once on the smallest payload
    sweep: bool = True
    allow_remote: bool = False

    def check(self) -> None:
        if isinstance(self.kinds, str):
            raise UsageError("kinds must be a list of names, e.g. ['telesign.mo_sms']")
        if not isinstance(self.examples, int) or self.examples < 1:
            raise UsageError(f"examples must be a whole number of at least 1, not "
                             f"{self.examples!r}")
        if self.seed is not None and (not isinstance(self.seed, int) or self.seed < 0):
            raise UsageError(f"seed must be a whole number of 0 or more, not {self.seed!r}")
        for name, value in (("max_time", self.max_time), ("timeout", self.timeout)):
            if not isinstance(value, int | float) or not value > 0:
                raise UsageError(f"{name} must be a number of seconds above 0, not {value!r}")
        for status in self.expect or ():
            if not isinstance(status, int) or not 100 <= status <= 599:
                raise UsageError(f"expected status {status!r} is not an HTTP status (100-599)")
        if self.expect is not None and not self.expect:
            raise UsageError("expect needs at least one status")
