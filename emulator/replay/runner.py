"""Runs scenarios against a system under test and an emulator reached through its control API.

Each scenario starts from a clean emulator: reset (ids restart from the scenario's seed; on a
manual clock the time is set to its start) and its configuration merged over the one the run
began with. Steps run in order:

- ``request`` pokes the system under test over HTTP and checks its status;
- ``inbound`` makes an end user send a message; ``advance`` moves the emulated clock;
- ``expect_*`` look at what happened since the latest ``request`` or ``inbound`` step began (or
  since a named step, or the start). A positive expectation with ``within`` moves a manual clock
  forward from one due job to the next, up to that window, until it holds; a negative one moves
  the clock through the whole window and then checks. Both also wait up to ``step_timeout``
  real seconds (polling) for a system under test that works asynchronously.

A ``request`` to the system under test (a URL under ``${sut}``) carries the emulator's base URL
in :data:`EMULATOR_URL_HEADER`, unless the step sets that header itself: ``replay`` starts its
emulator on a free port, and a system under test that follows the header (the example shop
does) needs no configuration for it.

A failed step stops its scenario; the result names the step and its line, says what was
expected and what was found, and keeps the journal entries around it.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qsl

import aiohttp

from emulator.config import deep_merge
from emulator.core.logline import short
from emulator.core.timefmt import iso_micro_z, parse_iso
from emulator.replay import values
from emulator.replay.control import ControlClient, ControlFailure
from emulator.replay.scenario import STIMULI, Scenario, Step

POLL_SECONDS = 0.02
#: header of every request to the system under test: where the emulator is
EMULATOR_URL_HEADER = "SMS-Emulator-URL"
JOURNAL_CONTEXT = 15


@dataclass
class Failure:
    step: Step | None
    expected: str
    actual: str
    journal: list[str] = field(default_factory=list)


class StepFailed(Exception):
    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"expected {expected}; actual {actual}")
        self.expected = expected
        self.actual = actual


@dataclass
class ScenarioResult:
    scenario: Scenario
    seconds: float = 0.0
    steps_run: int = 0
    failure: Failure | None = None

    @property
    def passed(self) -> bool:
        return self.failure is None


def _statuses(spec: Any) -> list[int] | None:
    if spec is None:
        return None
    return [spec] if isinstance(spec, int) else list(spec)


def _params(entry: dict[str, Any]) -> dict[str, Any]:
    """The fields of a recorded provider API call: its query and its form or JSON body (JSON
    when the content type says so or the body looks like it: TSG reads JSON whatever the
    content type)."""
    params: dict[str, Any] = {}
    for name, value in parse_qsl(entry.get("query") or "", keep_blank_values=True):
        params.setdefault(name, value)
    body = entry.get("body") or ""
    if "json" in (entry.get("content_type") or "") or body.lstrip()[:1] in ("{", "["):
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            params.update(parsed)
        elif parsed is not None:
            params["_body"] = parsed
    elif body:
        for name, value in parse_qsl(body, keep_blank_values=True):
            params.setdefault(name, value)
    return params


def _json_or_none(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _journal_line(entry: dict[str, Any]) -> str:
    skip = {"seq", "at", "kind", "provider"}
    detail = " ".join(f"{key}={short(value)}" for key, value in entry.items() if key not in skip)
    return f"#{entry['seq']} {entry['at']} {entry['kind']} {entry.get('provider') or '-'} {detail}"


class Runner:
    def __init__(self, control: ControlClient, session: aiohttp.ClientSession, *,
                 sut_url: str | None = None, variables: dict[str, Any] | None = None,
                 step_timeout: float = 5.0, quiet_period: float = 0.2) -> None:
        self.control = control
        self.session = session
        self.sut_url = sut_url.rstrip("/") if sut_url else None
        self.extra_variables = dict(variables or {})
        self.step_timeout = step_timeout
        self.quiet_period = quiet_period
        self._base_config: dict[str, Any] | None = None

    # -- a scenario -----------------------------------------------------------------------
    async def run(self, scenario: Scenario) -> ScenarioResult:
        result = ScenarioResult(scenario)
        started = time.perf_counter()
        step: Step | None = None
        self._start_cursor = 0
        try:
            await self._prepare(scenario)
            for step in scenario.steps:
                await self._run_step(step)
                result.steps_run += 1
        except StepFailed as failed:
            result.failure = Failure(step, failed.expected, failed.actual)
        except values.ValueProblem as exc:
            result.failure = Failure(step, "values that resolve", str(exc))
        except ControlFailure as exc:
            result.failure = Failure(step, "the emulator's control API to answer", str(exc))
        if result.failure is not None:
            result.failure.journal = await self._journal_around()
        result.seconds = time.perf_counter() - started
        return result

    async def _prepare(self, scenario: Scenario) -> None:
        if self._base_config is None:
            self._base_config = await self.control.config()
        clock = await self.control.clock()
        self.manual = clock["mode"] == "manual"
        self.speed = float(clock.get("speed", 1.0))
        reset = await self.control.reset(seed=scenario.seed,
                                         now=iso_micro_z(scenario.start) if self.manual else None)
        known: dict[str, Any] = {"emulator": self.control.base_url}
        sut = self.sut_url or scenario.vars.get("sut")
        if sut:
            known["sut"] = str(sut).rstrip("/")
        self.vars = values.Variables({**scenario.vars, **known, **self.extra_variables},
                                     scenario.seed)
        sut = self.vars.resolve(self.vars.values.get("sut"))
        self._sut = str(sut).rstrip("/") if sut else None
        config = self.vars.resolve(scenario.config)
        try:
            await self.control.replace_config(deep_merge(self._base_config, config))
        except ControlFailure as exc:
            raise StepFailed("the scenario's config to be accepted", str(exc)) from None
        self._start_cursor = reset["cursor"]["journal"]
        self.marks: dict[str, dict[str, Any]] = {"start": reset}
        self.latest = "start"

    async def _run_step(self, step: Step) -> None:
        mark = await self.control.clock()
        key = step.name or f"#{step.index}"
        self.marks[key] = mark
        if step.action in STIMULI:
            self.latest = key
        self.step = step
        spec = self.vars.resolve(step.spec)
        handler = getattr(self, f"_{step.action}")
        outcome = await handler(spec)
        for name, path in step.capture.items():
            path = str(self.vars.resolve(path))
            value = values.dig(outcome, path)
            if value is values.MISSING:
                raise StepFailed(f"a value at {path!r} to capture as {name}",
                                 f"nothing there in {short(outcome, 300)}")
            self.vars.values[name] = value

    def _since(self, spec: dict[str, Any]) -> dict[str, int]:
        return self.marks[spec.get("since", self.latest)]["cursor"]

    async def _journal_around(self) -> list[str]:
        try:
            entries = await self.control.journal(since=self._start_cursor)
        except ControlFailure:
            return []
        return [_journal_line(e) for e in entries[-JOURNAL_CONTEXT:]]

    # -- waiting ------------------------------------------------------------------------------
    async def _eventually(self, check, within: float, expected: str) -> Any:
        """Run ``check`` until it holds: ``(ok, outcome, actual)``."""
        clock = await self.control.clock()
        deadline = parse_iso(clock["now"]) + within
        real_deadline = time.monotonic() + self.step_timeout + (
            0 if self.manual else within / self.speed)
        while True:
            ok, outcome, actual = await check()
            if ok:
                return outcome
            if self.manual and within > 0:
                clock = await self.control.clock()
                due = parse_iso(clock["next_due"]) if clock["next_due"] else None
                if due is not None and due <= deadline:
                    await self.control.advance(max(0.0, due - parse_iso(clock["now"])))
                    continue
            if time.monotonic() >= real_deadline:
                raise StepFailed(expected, actual)
            await asyncio.sleep(POLL_SECONDS)  # the system under test may still be at work

    async def _never(self, check, within: float, expected: str) -> None:
        """Let ``within`` pass, then ``check`` must hold."""
        if within > 0:
            if self.manual:
                await self.control.advance(within)
            else:
                await asyncio.sleep(within / self.speed)
        await asyncio.sleep(self.quiet_period)  # the system under test may still be at work
        ok, _, actual = await check()
        if not ok:
            raise StepFailed(expected, actual)

    # -- actions --------------------------------------------------------------------------------
    async def _request(self, spec: dict[str, Any]) -> dict[str, Any]:
        has_body = any(key in spec for key in ("json", "form", "body"))
        method = spec.get("method") or ("POST" if has_body else "GET")
        headers = dict(spec.get("headers") or {})
        if self._to_sut(spec["url"]) and EMULATOR_URL_HEADER.lower() not in map(str.lower,
                                                                                 headers):
            headers[EMULATOR_URL_HEADER] = self.control.base_url
        kwargs: dict[str, Any] = {"headers": headers}
        if "json" in spec:
            kwargs["json"] = spec["json"]
        elif "form" in spec:
            kwargs["data"] = {k: str(v) for k, v in spec["form"].items()}
        elif "body" in spec:
            kwargs["data"] = spec["body"].encode("utf-8")
        url = spec["url"]
        try:
            async with self.session.request(
                    method, url, timeout=aiohttp.ClientTimeout(total=spec.get("timeout", 10)),
                    allow_redirects=False, **kwargs) as response:
                text = await response.text(errors="replace")
                status = response.status
                headers = dict(response.headers)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise StepFailed(f"an answer to {method} {url}",
                             f"{type(exc).__name__}: {exc}") from None
        wanted = _statuses(spec.get("status"))
        if (status not in wanted) if wanted else not 200 <= status < 300:
            raise StepFailed(f"{method} {url} to answer "
                             + ("/".join(map(str, wanted)) if wanted else "2xx"),
                             f"HTTP {status}: {short(text, 300)}")
        answer = _json_or_none(text)
        problems = values.mismatches(spec["match"], answer) if "match" in spec else []
        if problems:
            raise StepFailed(f"{method} {url} to answer with {spec['match']!r}",
                             "; ".join(problems))
        return {"status": status, "headers": headers, "text": text, "json": answer}

    def _to_sut(self, url: Any) -> bool:
        return bool(self._sut) and str(url).startswith(self._sut) and (
            str(url)[len(self._sut):][:1] in ("", "/", "?", "#"))

    async def _inbound(self, spec: dict[str, Any]) -> dict[str, Any]:
        try:
            body = await self.control.inbound(spec)
        except ControlFailure as exc:
            raise StepFailed("the emulator to accept the inbound message", str(exc)) from None
        return {"messages": body["messages"], "message": body["messages"][0]}

    async def _advance(self, spec: Any) -> dict[str, Any]:
        seconds = values.duration(spec)
        if self.manual:
            return await self.control.advance(seconds)
        await asyncio.sleep(seconds / self.speed)
        return await self.control.clock()

    # -- provider API calls -------------------------------------------------------------------
    def _api_calls(self, spec: dict[str, Any]):
        since = self._since(spec)["journal"]

        async def matching() -> tuple[list[dict[str, Any]], list[str]]:
            entries = await self.control.journal(kind="api_call", since=since,
                                                 provider=spec.get("provider"))
            found, near = [], []
            for entry in entries:
                if spec.get("method") and entry["method"] != spec["method"].upper():
                    continue
                if spec.get("path") and not fnmatchcase(entry["path"], spec["path"]):
                    continue
                params = _params(entry)
                problems = values.mismatches(spec.get("match") or {}, params)
                wanted = _statuses(spec.get("status"))
                if wanted and entry["status"] not in wanted:
                    problems.append(f"answered {entry['status']}, expected "
                                    + "/".join(map(str, wanted)))
                call = f"{entry['method']} {entry['path']} -> {entry['status']}"
                if problems:
                    near.append(f"{call}: " + "; ".join(problems))
                else:
                    found.append({"provider": entry["provider"], "method": entry["method"],
                                  "path": entry["path"], "status": entry["status"],
                                  "params": params, "at": entry["at"],
                                  "response": _json_or_none(entry.get("response"))})
            return found, near

        return matching

    @staticmethod
    def _describe(what: str, spec: dict[str, Any], keys: tuple[str, ...]) -> str:
        parts = [f"{key}={spec[key]!r}" for key in keys if key in spec]
        return what + (f" ({', '.join(parts)})" if parts else "")

    async def _expect_api_call(self, spec: dict[str, Any]) -> Any:
        matching = self._api_calls(spec)
        expected = self._describe("a call to the provider API", spec,
                                  ("provider", "method", "path", "match", "status", "count"))

        async def check():
            found, near = await matching()
            ok = len(found) == spec["count"] if "count" in spec else bool(found)
            actual = (f"{len(found)} matching call(s)" if found or "count" in spec
                      else "no matching call")
            if near:
                actual += "; other calls: " + " | ".join(near[:5])
            return ok, (found[0] if found else {"calls": found}), actual

        return await self._eventually(check, values.duration(spec.get("within", 0)), expected)

    async def _expect_no_api_call(self, spec: dict[str, Any]) -> Any:
        matching = self._api_calls(spec)
        expected = self._describe("no call to the provider API", spec,
                                  ("provider", "method", "path", "match"))

        async def check():
            found, _ = await matching()
            calls = [f"{c['method']} {c['path']} {short(c['params'], 200)}" for c in found]
            return not found, None, f"{len(found)} call(s): " + " | ".join(calls[:5])

        await self._never(check, values.duration(spec.get("within", 0)), expected)
        return {}

    # -- webhook deliveries -------------------------------------------------------------------
    async def _expect_delivery(self, spec: dict[str, Any]) -> Any:
        since = self._since(spec)["deliveries"]
        expected = self._describe("a webhook delivery", spec, (
            "provider", "kind", "url", "message", "state", "attempts", "status", "statuses",
            "payload"))

        async def check():
            deliveries = await self.control.deliveries(provider=spec.get("provider"),
                                                       message_id=spec.get("message"),
                                                       since=since)
            near = []
            for delivery in reversed(deliveries):  # oldest first
                if spec.get("kind") and delivery["kind"] != spec["kind"]:
                    continue
                if spec.get("url") and not fnmatchcase(delivery["url"], spec["url"]):
                    continue
                problems = self._delivery_problems(spec, delivery)
                if not problems:
                    return True, delivery, ""
                near.append(f"{delivery['id']} {delivery['kind']} to {delivery['url']}: "
                            + "; ".join(problems))
            return False, None, (" | ".join(near[:5]) if near else "no such delivery")

        return await self._eventually(check, values.duration(spec.get("within", 0)), expected)

    @staticmethod
    def _delivery_problems(spec: dict[str, Any], delivery: dict[str, Any]) -> list[str]:
        attempts = delivery["attempts"]
        answered = [a["status"] for a in attempts]
        problems = []
        if "state" in spec and delivery["state"] != spec["state"]:
            problems.append(f"state {delivery['state']}"
                            + (f" ({delivery['reason']})" if delivery.get("reason") else ""))
        if "attempts" in spec and len(attempts) != spec["attempts"]:
            problems.append(f"{len(attempts)} attempt(s)")
        if "status" in spec and (not answered or answered[-1] != spec["status"]):
            problems.append(f"last answer {answered[-1] if answered else 'none'}")
        if "statuses" in spec and answered != spec["statuses"]:
            problems.append(f"answers {answered}")
        if "payload" in spec:
            payload = _json_or_none(delivery["request"]["body"])
            problems += values.mismatches(spec["payload"], payload, "payload")
        return problems

    # -- messages -----------------------------------------------------------------------------
    def _messages(self, spec: dict[str, Any]):
        since = self._since(spec)["messages"]

        async def matching() -> tuple[list[dict[str, Any]], list[str]]:
            messages = await self.control.messages(
                provider=spec.get("provider"), direction=spec.get("direction", "outbound"),
                to=spec.get("to"), since=since, **{"from": spec.get("from")})
            found: list[dict[str, Any]] = []
            seen: list[str] = []
            for message in reversed(messages):  # oldest first
                if spec.get("origin") and message["origin"] != spec["origin"]:
                    continue
                if spec.get("channel") and message["channel"] != spec["channel"]:
                    continue
                if spec.get("via") and message["details"].get("via", "http") != spec["via"]:
                    continue
                problems = []
                if "text" in spec:
                    problems += values.mismatches(spec["text"], message["text"], "text")
                if "status" in spec:
                    problems += values.mismatches(spec["status"], message["status"], "status")
                summary = (f"{message['id']} {message['origin']} to {message['to']} "
                           f"status {message['status']} text {short(message['text'], 60)!r}")
                if problems:
                    seen.append(f"{summary}: " + "; ".join(problems))
                else:
                    found.append(message)
                    seen.append(summary)
            return found, seen

        return matching

    async def _expect_message(self, spec: dict[str, Any]) -> Any:
        matching = self._messages(spec)
        expected = self._describe("a message", spec, (
            "provider", "direction", "origin", "channel", "via", "to", "from", "text", "status",
            "count"))

        async def check():
            found, near = await matching()
            ok = len(found) == spec["count"] if "count" in spec else bool(found)
            actual = " | ".join(near[:5]) if near else "no message"
            return ok, (found[0] if found else None), actual

        return await self._eventually(check, values.duration(spec.get("within", 0)), expected)

    async def _expect_no_message(self, spec: dict[str, Any]) -> Any:
        matching = self._messages(spec)
        expected = self._describe("no message", spec, (
            "provider", "direction", "origin", "channel", "via", "to", "from", "text",
            "status"))

        async def check():
            found, near = await matching()
            return not found, None, " | ".join(near[:5])

        await self._never(check, values.duration(spec.get("within", 0)), expected)
        return {}
