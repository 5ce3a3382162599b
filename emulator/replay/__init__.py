"""Scenario files: their model and loader, the runner, reports, and the ``replay`` and
``validate`` commands.

:func:`replay` is the Python entry point: it runs scenario files against a system under test,
with an emulator already running (``emulator_url``) or one it starts for the run.
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
from emulator.replay.scenario import ScenarioError, load


async def replay_with(control_url: str, files: Iterable[str | Path], *,
                      sut_url: str | None = None, variables: dict[str, Any] | None = None,
                      step_timeout: float = 5.0, quiet_period: float = 0.2
                      ) -> list[FileOutcome]:
    """Run every file against the emulator at ``control_url``, one after another."""
    outcomes: list[FileOutcome] = []
    async with aiohttp.ClientSession() as session:
        runner = Runner(ControlClient(control_url, session), session, sut_url=sut_url,
                        variables=variables, step_timeout=step_timeout,
                        quiet_period=quiet_period)
        for file in files:
            try:
                scenario = load(file)
            except ScenarioError as exc:
                outcomes.append(FileOutcome(str(file), problems=exc.problems))
                continue
            outcomes.append(FileOutcome(str(file), await runner.run(scenario)))
    return outcomes


async def replay(files: Iterable[str | Path], *, emulator_url: str | None = None,
                 settings: Settings | None = None, config: dict[str, Any] | None = None,
                 started: Callable[[str], None] | None = None,
                 **options: Any) -> list[FileOutcome]:
    """Run scenario files; start an emulator with ``settings`` (default: manual clock on a free
    loopback port, so that it never collides with an emulator already serving on 8025) and base
    ``config`` unless ``emulator_url`` names a running one. ``started`` is called with the
    emulator's base URL before the first scenario runs."""
    if emulator_url:
        if started:
            started(emulator_url.rstrip("/"))
        return await replay_with(emulator_url, files, **options)
    settings = settings or Settings(port=0, clock="manual")
    async with running(settings, config) as (_, url):
        if started:
            started(url)
        return await replay_with(url, files, **options)


__all__ = ["FileOutcome", "replay", "replay_with"]
