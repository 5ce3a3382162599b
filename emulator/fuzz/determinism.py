"""Keeps a seeded run independent of the process it runs in.

Recent Hypothesis versions (6.1xx) sometimes draw literals they find in the source of the
project's own loaded modules ("local constants"), so which modules happen to be imported (the
command line, a pytest session, a project's own suite) would change what a seed generates. While
the fuzzer runs, that pool is empty; Hypothesis's built-in constants stay. This reaches into a
Hypothesis internal, so it is guarded: with a version that lacks it there is nothing to turn off.
It applies process-wide for the run's duration, hence the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()


@contextmanager
def without_local_constants() -> Iterator[None]:
    try:
        from hypothesis.internal.conjecture import providers

        original = providers._get_local_constants
        empty = providers.Constants()
        cache = providers.CONSTANTS_CACHE.cache
    except (ImportError, AttributeError):  # a Hypothesis without local constants
        yield
        return
    with _LOCK:
        providers._get_local_constants = lambda: empty
        cache.clear()  # it may hold permitted constants computed with the local ones
        try:
            yield
        finally:
            providers._get_local_constants = original
            cache.clear()
