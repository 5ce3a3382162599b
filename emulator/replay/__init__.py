"""Scenario files: their model and loader, the runner, reports, and the ``replay`` and
``validate`` commands.

:func:`replay` is the Python entry point: it runs scenario files against a system under test,
with an emulator already running (``emulator_url``) or one it starts for the run. Every file
is checked as ``validate`` checks it before anything runs: one invalid file refuses the whole run
(a misspelt name would otherwise make an expectation that can never fail).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import aiohttp

from emulator.config import Settings
from emulator.embedded import running
from emulator.replay.control import ControlClient
from emulator.replay.report import FileOutcome
from emulator.replay.runner import Runner
from emulator.replay.scenario import Scenario, ScenarioError, load


def load_all(files: Iterable[str | Path]) -> tuple[list[Scenario], list[FileOutcome]]:
    """Every file's scenario; and, if any file is not a valid scenario, an outcome per file
    that refuses the run: the problems of each invalid file, the others skipped."""
    loaded: list[tuple[str, Scenario | None, list[str] | None]] = []
    for file in files:
        try:
            loaded.append((str(file), load(file), None))
        except ScenarioError as exc:
            loaded.append((str(file), None, exc.problems))
    if all(problems is None for _, _, problems in loaded):
        return [scenario for _, scenario, _ in loaded if scenario is not None], []
    return [], [FileOutcome(file, problems=problems, skipped=problems is None)
                for file, _, problems in loaded]


async def run_scenarios(control_url: str, scenarios: Iterable[Scenario], *,
                        sut_url: str | None = None, variables: dict[str, Any] | None = None,
                        step_timeout: float = 5.0, quiet_period: float = 0.2
                        ) -> list[FileOutcome]:
    """Run loaded scenarios against the emulator at ``control_url``, one after another."""
    outcomes: list[FileOutcome] = []
    async with aiohttp.ClientSession() as session:
        runner = Runner(ControlClient(control_url, session), session, sut_url=sut_url,
                        variables=variables, step_timeout=step_timeout,
                        quiet_period=quiet_period)
        for scenario in scenarios:
            outcomes.append(FileOutcome(scenario.file, await runner.run(scenario)))
    return outcomes


async def replay_with(control_url: str, files: Iterable[str | Path], **options: Any
                      ) -> list[FileOutcome]:
    """Run every file against the emulator at ``control_url``, one after another; nothing runs
    if any file is not a valid scenario (see :func:`load_all`)."""
    scenarios, refused = load_all(files)
    if refused:
        return refused
    return await run_scenarios(control_url, scenarios, **options)


async def replay(files: Iterable[str | Path], *, emulator_url: str | None = None,
                 settings: Settings | None = None, config: dict[str, Any] | None = None,
                 started: Callable[[str], None] | None = None,
                 **options: Any) -> list[FileOutcome]:
    """Run scenario files; start an emulator with ``settings`` (default: manual clock on a free
    loopback port, so that it never collides with an emulator already serving on 8025) and base
    ``config`` unless ``emulator_url`` names a running one. ``started`` is called with the
    emulator's base URL before the first scenario runs. Every file is loaded first: if any is
    not a valid scenario, nothing runs and no emulator starts."""
    scenarios, refused = load_all(files)
    if refused:
        return refused
    if emulator_url:
        if started:
            started(emulator_url.rstrip("/"))
        return await run_scenarios(emulator_url, scenarios, **options)
    settings = settings or Settings(port=0, clock="manual")
    async with running(settings, config) as (_, url):
        if started:
            started(url)
        return await run_scenarios(url, scenarios, **options)


__all__ = ["FileOutcome", "load_all", "replay", "replay_with", "run_scenarios"]
