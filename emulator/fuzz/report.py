"""Reproductions and reports: curl commands, scenario files, the JSON report and the text.

A scenario is a replay file (``sms-emulator replay``) whose steps re-send the finding's requests
byte for byte, each expecting what a correct handler answers; it fails while the bug is there.
Forged requests expect a refusal (400, 401 or 403). A ``${`` in a request is written ``$${``,
the replay format's escape, so the request is re-sent exactly.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

import yaml

from emulator import __version__
from emulator.fuzz.cases import DUPLICATE, GENUINE, OUT_OF_ORDER
from emulator.fuzz.findings import TIMEOUT, TITLES, Finding, FuzzResult

MAX_TEXT_BODY = 2000  # characters of a body shown in the text report


def curl(finding: Finding) -> str:
    """Shell commands that send the finding's requests again, exactly."""
    commands = []
    for request in finding.requests:
        words = ["curl", "-sS", "-i", "-X", request.method, request.url]
        for name, value in request.headers.items():
            words += ["-H", f"{name}: {value}"]
        words += ["--data-binary", request.body.decode("utf-8")]
        commands.append(" ".join(shlex.quote(word) for word in words))
    return "\n".join(commands)


def _step_names(finding: Finding) -> list[str]:
    if finding.probe == DUPLICATE:
        return ["send the shrunk payload", "send it again (a duplicate delivery)"]
    if finding.probe == OUT_OF_ORDER:
        return ["send the final status first", "then the intermediate status it overtook"]
    if finding.probe == GENUINE:
        return ["send the shrunk payload"]
    return [f"send the shrunk payload with a {finding.probe.replace('_', ' ')}"]


def _literal(text: str) -> str:
    """``text`` as a replay value that stands for itself (``${`` escaped as ``$${``)."""
    return text.replace("${", "$${")


def scenario(finding: Finding, seed: int | None = None) -> str:
    """A replay scenario (YAML) that re-sends the finding's requests."""
    description = (f"Found by sms-emulator fuzz{f' (seed {seed})' if seed is not None else ''}: "
                   f"{finding.summary}. The last step fails until the handler is fixed.")
    steps = []
    for name, request, expected in zip(_step_names(finding), finding.requests,
                                       finding.expected, strict=False):
        spec: dict[str, Any] = {
            "method": request.method, "url": _literal(request.url),
            "headers": {name: _literal(value) for name, value in request.headers.items()},
            "body": _literal(request.body.decode("utf-8")), "status": expected}
        if finding.cls == TIMEOUT and request is finding.request:
            spec["timeout"] = max(finding.response.elapsed_ms / 1000, 0.001)
        steps.append({"name": name, "request": spec})
    document = {"name": f"fuzz: {TITLES[finding.cls]} on {finding.kind}",
                "description": description, "steps": steps}
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=2**31)
    if yaml.safe_load(text) != document:  # a character YAML cannot carry raw: escape them all
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=False, width=2**31)
    return text


def finding_json(finding: Finding, seed: int | None = None) -> dict[str, Any]:
    return {
        "class": finding.cls,
        "kind": finding.kind,
        "probe": finding.probe,
        "summary": finding.summary,
        "shrunk": finding.shrunk,
        "flaky": finding.flaky,
        "source": finding.source,
        "payload": finding.payload,
        "request": finding.request.to_json(),
        "response": finding.response.to_json(),
        "expected_status": finding.expected[-1],
        "requests": [
            {"request": request.to_json(), "response": response.to_json(),
             "expected_status": expected}
            for request, response, expected in zip(finding.requests, finding.responses,
                                                    finding.expected, strict=True)],
        "curl": curl(finding),
        "scenario": scenario(finding, seed),
    }


def report(result: FuzzResult) -> dict[str, Any]:
    """The JSON report; its schema is ``schemas/fuzz/report.schema.json``."""
    return {
        "tool": f"sms-emulator {__version__}",
        "target": result.target,
        "seed": result.seed,
        "options": result.options,
        "stopped": result.stopped,
        "elapsed_seconds": round(result.elapsed, 3),
        "totals": {
            "examples": sum(k.examples for k in result.kinds),
            "requests": sum(k.requests for k in result.kinds),
            "findings": len(result.findings),
            "sweep": sum(k.sweep for k in result.kinds),
            "kinds": {k.kind: {"examples": k.examples, "sweep": k.sweep, "requests": k.requests,
                               "findings": k.findings, "completed": k.completed,
                               "sequence_sha256": k.sequence_sha256, "note": k.note}
                      for k in result.kinds},
        },
        "findings": [finding_json(f, result.seed) for f in result.findings],
    }


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def text(result: FuzzResult) -> str:
    lines = [f"sms-emulator fuzz: {result.target}, seed {result.seed} "
             f"(pass --seed {result.seed} to repeat this run)"]
    for k in result.kinds:
        state = ("done" + (f"; {k.note}" if k.note else "") if k.completed
                 else k.note or "stopped by the time budget")
        lines.append(f"  {k.kind:<26} {k.examples:>5} examples {k.sweep:>4} swept "
                     f"{k.requests:>5} requests {k.findings:>3} findings  {state}")
    stopped = "" if result.stopped == "completed" else " (stopped: the time budget ran out)"
    lines.append(f"{len(result.findings)} finding(s) in {result.elapsed:.1f} s{stopped}")
    for number, finding in enumerate(result.findings, 1):
        # escaped, so that invisible and right-to-left characters show
        body = json.dumps(finding.payload, ensure_ascii=True)
        if len(body) > MAX_TEXT_BODY:
            body = body[:MAX_TEXT_BODY] + f"... ({len(body)} characters; see the curl command)"
        response = finding.response
        excerpt = " ".join(response.body[:200].decode("utf-8", "replace").split())
        answer = (f"HTTP {response.status}: {excerpt}" if response.status is not None
                  else response.error or "")
        shrunk = ("shrunk" if finding.shrunk else "found by the coverage sweep, on the smallest "
                  "payload" if finding.source == "sweep" else "not shrunk: the time budget ran out")
        lines += ["", f"[{number}] {finding.summary} ({shrunk}"
                  + (", flaky: it did not fail again on replay)" if finding.flaky else ")"),
                  f"  expected {finding.expected[-1]}, got {answer.strip()}",
                  f"  payload (escaped): {body}", "  reproduce with curl:", _indent(curl(finding)),
                  "  or as a scenario (sms-emulator replay FILE):",
                  _indent(scenario(finding, result.seed).rstrip())]
    return "\n".join(lines)
