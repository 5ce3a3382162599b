"""Drives Hypothesis over each kind: draw a case, send it, classify the answers, shrink; then
the coverage sweep (:mod:`emulator.fuzz.sweep`).

One Hypothesis run per kind. Its test function sends the case's requests and, on a finding,
raises an exception of one class per finding class, so Hypothesis keeps the classes apart (it
tells failures apart by exception type) and shrinks each to its smallest example; the final
replay of each shrunk example is the one reported.

Determinism: Hypothesis is seeded with the run's seed (``@seed``), uses no example database
(``database=None``: nothing is replayed from an earlier run), no deadline and no health checks
(a slow handler must not change what is generated), and no constants mined from the calling
project's modules (:mod:`emulator.fuzz.determinism`). The same seed, versions and handler
behaviour give the same payload sequence; each kind reports a hash of the bodies it sent.

Time: a budget for the whole run. Before each request the runner checks it and, when it has run
out, raises :class:`OutOfTime`, a ``BaseException`` that Hypothesis does not take for a failure;
findings so far are reported unshrunk. Each request waits at most the smaller of the
per-request timeout and the budget left.

Threads: everything here is synchronous and blocking. :func:`emulator.fuzz.fuzz_async` runs it
in a worker thread so that a handler served on the caller's event loop keeps answering.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import Flaky, HypothesisException

from emulator.fuzz import kinds as kind_registry
from emulator.fuzz.cases import Case, cases, requests_for
from emulator.fuzz.determinism import without_local_constants
from emulator.fuzz.findings import (
    CLASSES,
    Finding,
    FuzzResult,
    KindStats,
    classify,
    expected_for,
)
from emulator.fuzz.http import Target, parse_target, send
from emulator.fuzz.options import FuzzOptions
from emulator.fuzz.sweep import sweep_cases
from emulator.providers.webhooks import WebhookKind

#: ``(kind, index, examples done, examples asked, findings, shrinking)``
Progress = Callable[[str, int, int, int, int, bool], None]


class OutOfTime(BaseException):
    """The time budget ran out: a BaseException, like KeyboardInterrupt, so that Hypothesis
    stops at once instead of taking it for a failure to shrink."""


class _Found(Exception):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.summary)
        self.finding = finding


#: one exception type per class, so Hypothesis shrinks each class separately
_RAISED: dict[str, type[_Found]] = {cls: type(f"Found_{cls}", (_Found,), {}) for cls in CLASSES}


class Budget:
    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def check(self) -> float:
        left = self.remaining()
        if left <= 0:
            raise OutOfTime
        return left


def _found_in(error: BaseException) -> list[_Found]:
    if isinstance(error, _Found):
        return [error]
    found: list[_Found] = []
    for inner in getattr(error, "exceptions", ()):
        found += _found_in(inner)
    return found


class _KindRun:
    """One kind's Hypothesis run."""

    def __init__(self, kind: WebhookKind, options: FuzzOptions, run_seed: int, target: Target,
                 credentials: Mapping[str, str], budget: Budget, index: int,
                 progress: Progress | None) -> None:
        self.kind, self.options, self.seed = kind, options, run_seed
        self.target, self.credentials, self.budget = target, credentials, budget
        self.index, self.progress = index, progress
        self.expected = list(options.expect or kind.success_statuses)
        self.security = options.security and kind.authenticated(credentials)
        self.stats = KindStats(kind.name)
        self.latest: dict[str, Finding] = {}
        self.digest = hashlib.sha256()

    def execute(self, case: Case) -> Finding | None:
        requests = requests_for(case, self.kind, self.credentials, self.target.url)
        responses = []
        for request in requests:
            left = self.budget.check()
            self.digest.update(request.body)
            wait = min(self.options.timeout, left)
            response = send(self.target, request, wait)
            self.stats.requests += 1
            if response.failure == "timeout" and wait < self.options.timeout:
                raise OutOfTime  # the budget, not the handler, cut this wait short
            responses.append(response)
            found = classify(response, expected_for(request, self.expected), request.forged)
            if found is not None:
                sent = requests[:len(responses)]
                return Finding(found, self.kind.name, case.probe,
                               case.payloads[len(responses) - 1], sent, responses,
                               [expected_for(r, self.expected) for r in sent])
        return None

    def test(self, case: Case) -> None:
        self.budget.check()
        self.stats.examples += 1
        if self.progress is not None:
            self.progress(self.kind.name, self.index, self.stats.examples,
                          self.options.examples, len(self.latest), bool(self.latest))
        finding = self.execute(case)
        if finding is not None:
            self.latest[finding.cls] = finding
            raise _RAISED[finding.cls](finding)

    def run(self) -> list[Finding]:
        findings: list[Finding] = []
        try:
            findings += self._hypothesis()
            if self.options.sweep:
                self._sweep(findings)
            self.stats.completed = True
        except OutOfTime:
            self.stats.note = "stopped by the time budget"
            if not findings:  # interrupted within Hypothesis's run: what it had, unshrunk
                findings = list(self.latest.values())
        self.stats.findings = len(findings)
        self.stats.sequence_sha256 = self.digest.hexdigest()
        return findings

    def _hypothesis(self) -> list[Finding]:
        if self.options.security and not self.security:
            self.stats.note = ("no forgery probes: these credentials make the provider send "
                               "unauthenticated webhooks")
        strategy = cases(self.kind, security=self.security,
                         extra_fields=self.options.extra_fields)
        configured = settings(max_examples=self.options.examples, database=None, deadline=None,
                              derandomize=False, phases=(Phase.generate, Phase.shrink),
                              suppress_health_check=list(HealthCheck),
                              verbosity=Verbosity.quiet, report_multiple_bugs=True,
                              print_blob=False)
        hypothesis_test = configured(seed(self.seed)(given(strategy)(self.test)))
        try:
            with without_local_constants():
                hypothesis_test()
        except Exception as error:  # what Hypothesis raises at the end of a failing run
            raised = _found_in(error)
            if not raised and not isinstance(error, HypothesisException):
                raise
            if not raised:  # e.g. Unsatisfiable: no valid payload could be drawn
                self.stats.note = f"{type(error).__name__}: {error}"
                return list(self.latest.values())
            flaky = isinstance(error, Flaky)
            for found in raised:
                found.finding.shrunk = True
                found.finding.flaky = flaky
            return [found.finding for found in raised]
        return []

    def _sweep(self, findings: list[Finding]) -> None:
        """Every bias value and probe once (see :mod:`emulator.fuzz.sweep`); its findings are
        added to ``findings`` for the classes Hypothesis did not find."""
        for case in sweep_cases(self.kind, security=self.security):
            self.stats.sweep += 1
            found = self.execute(case)
            if found is not None and found.cls not in {f.cls for f in findings}:
                found.source = "sweep"
                findings.append(found)


def run(options: FuzzOptions, progress: Progress | None = None) -> FuzzResult:
    """Fuzz ``options.target``; :class:`emulator.fuzz.options.UsageError` for bad options."""
    options.check()
    target = parse_target(options.target, allow_remote=options.allow_remote)
    chosen = kind_registry.select(options.kinds)
    credentials = kind_registry.credentials_for(chosen, options.credentials)
    run_seed = options.seed if options.seed is not None else random.SystemRandom().randrange(2**32)
    started = time.monotonic()
    budget = Budget(options.max_time)
    stats: list[KindStats] = []
    findings: list[Finding] = []
    for index, kind in enumerate(chosen, 1):
        if budget.remaining() <= 0:
            stats.append(KindStats(kind.name, note="not run: the time budget ran out"))
            continue
        one = _KindRun(kind, options, run_seed, target, credentials[kind.provider], budget, index,
                       progress)
        findings += one.run()
        stats.append(one.stats)
    stopped = "completed" if all(s.completed for s in stats) else "time_budget"
    return FuzzResult(target=target.url, seed=run_seed, kinds=stats, findings=findings,
                      elapsed=time.monotonic() - started, stopped=stopped,
                      options=_options_json(options, chosen))


def _options_json(options: FuzzOptions, chosen: list[WebhookKind]) -> dict[str, Any]:
    return {"kinds": [k.name for k in chosen], "examples": options.examples,
            "max_time": options.max_time, "timeout": options.timeout,
            "expect": list(options.expect) if options.expect else None,
            "security": options.security, "extra_fields": options.extra_fields,
            "sweep": options.sweep,
            "credentials": sorted(options.credentials)}
