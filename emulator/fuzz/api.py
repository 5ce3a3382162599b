"""The fuzzer's Python API (:func:`fuzz`, :func:`fuzz_async`); ``emulator.fuzz`` re-exports
it, loading it (and Hypothesis) on first use."""


from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from emulator.fuzz.findings import Finding, FuzzResult, KindStats
from emulator.fuzz.options import FuzzOptions, UsageError
from emulator.fuzz.runner import Progress, run

__all__ = ["Finding", "FuzzOptions", "FuzzResult", "KindStats", "UsageError", "fuzz",
           "fuzz_async"]


def fuzz(target: str, kinds: Iterable[str] | str = ("all",), *, examples: int = 100,
         seed: int | None = None, max_time: float = 60.0, timeout: float = 5.0,
         credentials: Mapping[str, str] | None = None, expect: Iterable[int] | None = None,
         security: bool = True, extra_fields: bool = True, sweep: bool = True,
         allow_remote: bool = False,
         progress: Progress | None = None) -> FuzzResult:
    """Fuzz the handler at ``target`` with ``kinds`` (names, providers or ``"all"``).

    See :class:`FuzzOptions` for the options; :class:`UsageError` for bad ones.
    """
    options = FuzzOptions(
        target=target, kinds=(kinds,) if isinstance(kinds, str) else tuple(kinds),
        examples=examples, seed=seed, max_time=max_time, timeout=timeout,
        credentials=dict(credentials or {}), expect=None if expect is None else tuple(expect),
        security=security, extra_fields=extra_fields, sweep=sweep, allow_remote=allow_remote)
    return run(options, progress)


async def fuzz_async(target: str, kinds: Iterable[str] | str = ("all",),
                     **options: object) -> FuzzResult:
    """:func:`fuzz` in a worker thread, so the calling event loop keeps running."""
    return await asyncio.to_thread(fuzz, target, kinds, **options)  # type: ignore[arg-type]
