"""What a fuzz run found: the classification of an answer, findings and the run's result.

Classes, for one request:

- ``accepted_forgery``: a forged request (see :mod:`emulator.fuzz.cases`) got a 2xx answer;
- ``server_error``: a 5xx answer (to any request);
- ``timeout``: no answer within the per-request timeout;
- ``connection_failure``: refused, reset or closed without an answer;
- ``unexpected_status``: a genuine request got another status than expected (by default the
  one the provider counts as delivered: anything else makes the provider retry).

A forged request answered 3xx or 4xx is correctly refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from emulator.fuzz.cases import Request
from emulator.fuzz.http import Response

ACCEPTED_FORGERY = "accepted_forgery"
SERVER_ERROR = "server_error"
TIMEOUT = "timeout"
CONNECTION_FAILURE = "connection_failure"
UNEXPECTED_STATUS = "unexpected_status"
CLASSES = (ACCEPTED_FORGERY, SERVER_ERROR, TIMEOUT, CONNECTION_FAILURE, UNEXPECTED_STATUS)
TITLES = {ACCEPTED_FORGERY: "accepted forgery", SERVER_ERROR: "server error",
          TIMEOUT: "timeout", CONNECTION_FAILURE: "connection failure",
          UNEXPECTED_STATUS: "unexpected status"}
#: what the reproduction of a forged request expects: a refusal
REFUSALS = (400, 401, 403)


def classify(response: Response, expected: Sequence[int], forged: bool) -> str | None:
    """The finding class of ``response``, or ``None`` if it is a correct answer."""
    if response.failure == "timeout":
        return TIMEOUT
    if response.status is None:
        return CONNECTION_FAILURE
    if forged and 200 <= response.status < 300:
        return ACCEPTED_FORGERY
    if response.status >= 500 and response.status not in expected:
        return SERVER_ERROR
    if forged or response.status in expected:
        return None
    return UNEXPECTED_STATUS


def expected_for(request: Request, expected: Sequence[int]) -> list[int]:
    return list(REFUSALS) if request.forged else list(expected)


@dataclass
class Finding:
    """One failure, with the requests that reproduce it (the last one fails)."""

    cls: str
    kind: str
    probe: str
    payload: dict[str, Any]
    requests: list[Request]
    responses: list[Response]
    #: per request, the statuses a correct handler answers
    expected: list[list[int]]
    #: Hypothesis shrank it (False when the time budget ran out first)
    shrunk: bool = False
    #: the handler did not fail again when the shrunk example was replayed
    flaky: bool = False
    #: ``hypothesis``, or ``sweep`` for the coverage sweep (see :mod:`emulator.fuzz.sweep`)
    source: str = "hypothesis"

    @property
    def request(self) -> Request:
        return self.requests[-1]

    @property
    def response(self) -> Response:
        return self.responses[-1]

    @property
    def summary(self) -> str:
        answer = (f"HTTP {self.response.status}" if self.response.status is not None
                  else self.response.error or "no answer")
        what = "a genuine" if self.probe == "genuine" else f"a {self.probe.replace('_', ' ')}"
        return f"{TITLES[self.cls]} on {self.kind}: {answer} to {what} request"


@dataclass
class KindStats:
    """What was done for one kind."""

    kind: str
    #: Hypothesis examples run, shrinking included
    examples: int = 0
    #: cases of the coverage sweep sent
    sweep: int = 0
    requests: int = 0
    findings: int = 0
    completed: bool = False
    #: sha256 of every body sent, in order: equal for two runs that sent the same payloads
    sequence_sha256: str = ""
    note: str | None = None


@dataclass
class FuzzResult:
    target: str
    seed: int
    kinds: list[KindStats]
    findings: list[Finding]
    elapsed: float
    #: ``completed``, or ``time_budget`` when it ran out before every kind was done
    stopped: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings

    def report(self) -> dict[str, Any]:
        """The JSON report (``schemas/fuzz/report.schema.json``)."""
        from emulator.fuzz.report import report

        return report(self)

    def text(self) -> str:
        """A readable account: totals, then each finding with its reproduction."""
        from emulator.fuzz.report import text

        return text(self)

    def assert_clean(self) -> None:
        """Raise ``AssertionError`` with every finding's reproduction if there is any."""
        if self.findings:
            raise AssertionError(self.text())
