"""What a replay run tells people: a text report for the terminal and JUnit XML for CI.

The text names each failing step by file and line, shows expected against actual and lists the
journal entries around the failure. The JUnit XML has one ``testsuite`` per file and one
``testcase`` per scenario (Jenkins/Surefire form: ``failure`` for a failed step, ``error`` for a
file that could not be loaded, ``skipped`` for a valid file not run because another one could
not), with the same text in the failure and the journal in ``system-out``.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from emulator.replay.runner import ScenarioResult


@dataclass
class FileOutcome:
    """One scenario file: its result, or the problems that kept it from running, or
    ``skipped`` when another file's problems refused the whole run."""

    file: str
    result: ScenarioResult | None = None
    problems: list[str] | None = None
    skipped: bool = False

    @property
    def passed(self) -> bool:
        return self.result is not None and self.result.passed

    @property
    def name(self) -> str:
        return self.result.scenario.name if self.result else Path(self.file).stem

    @property
    def seconds(self) -> float:
        return self.result.seconds if self.result else 0.0


def failure_text(outcome: FileOutcome) -> str:
    if outcome.problems:
        return "the file is not a valid scenario:\n" + "\n".join(
            f"  {problem}" for problem in outcome.problems)
    assert outcome.result is not None and outcome.result.failure is not None
    failure = outcome.result.failure
    scenario = outcome.result.scenario
    where = (f"{scenario.where(failure.step)}: {failure.step.title()}" if failure.step
             else f"{scenario.where()}: setting up the scenario")
    lines = [f"at {where}", f"  expected: {failure.expected}", f"  actual:   {failure.actual}"]
    if failure.journal:
        lines.append("  journal (newest last):")
        lines += [f"    {line}" for line in failure.journal]
    return "\n".join(lines)


SKIPPED = "not run: another file is not a valid scenario"


def text(outcomes: list[FileOutcome]) -> str:
    lines = []
    for outcome in outcomes:
        if outcome.skipped:
            lines.append(f"SKIP {outcome.file}: {SKIPPED}")
        elif outcome.passed:
            assert outcome.result is not None
            lines.append(f"PASS {outcome.file}: {outcome.name} "
                         f"({outcome.result.steps_run} steps, {outcome.seconds:.2f} s)")
        else:
            lines.append(f"FAIL {outcome.file}: {outcome.name}")
            lines += ["  " + line for line in failure_text(outcome).splitlines()]
    passed = sum(outcome.passed for outcome in outcomes)
    invalid = sum(outcome.problems is not None for outcome in outcomes)
    if invalid:
        lines.append(f"nothing was run: {invalid} of {len(outcomes)} file(s) "
                     f"{'is not a valid scenario' if invalid == 1 else 'are not valid scenarios'}"
                     " (sms-emulator validate shows the same problems)")
    else:
        lines.append(f"{passed} of {len(outcomes)} scenario(s) passed")
    return "\n".join(lines)


def junit(outcomes: list[FileOutcome]) -> str:
    suites = ET.Element("testsuites", name="sms-emulator replay")
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    host = socket.gethostname()
    totals = {"tests": 0, "failures": 0, "errors": 0}  # the schema has no skipped here
    total_time = 0.0
    for outcome in outcomes:
        failed = outcome.result is not None and not outcome.passed
        skipped = outcome.skipped
        errored = outcome.result is None and not skipped
        suite = ET.SubElement(suites, "testsuite", name=outcome.file, tests="1",
                              failures=str(int(failed)), errors=str(int(errored)),
                              skipped=str(int(skipped)),
                              time=f"{outcome.seconds:.3f}", timestamp=stamp, hostname=host)
        case = ET.SubElement(suite, "testcase", name=outcome.name,
                             classname=Path(outcome.file).stem, time=f"{outcome.seconds:.3f}")
        if failed:
            assert outcome.result is not None and outcome.result.failure is not None
            failure = outcome.result.failure
            element = ET.SubElement(case, "failure", type="StepFailed",
                                    message=f"expected {failure.expected}"[:500])
            element.text = failure_text(outcome)
            if failure.journal:
                ET.SubElement(case, "system-out").text = "\n".join(failure.journal)
        elif errored:
            element = ET.SubElement(case, "error", type="InvalidScenario",
                                    message=(outcome.problems or ["invalid"])[0][:500])
            element.text = failure_text(outcome)
        elif skipped:
            ET.SubElement(case, "skipped", message=SKIPPED)
        totals["tests"] += 1
        totals["failures"] += int(failed)
        totals["errors"] += int(errored)
        total_time += outcome.seconds
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("time", f"{total_time:.3f}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")
