"""The garbage collector's thresholds for a long-running ``serve``.

A busy emulator holds about a million objects (100,000 messages and deliveries, the journal),
and with CPython's default thresholds (700, 10, 10) it ran a full collection of all of them
every few seconds: 0.7 s each, half of its CPU and a 0.7 s pause of every request and webhook
(measured with 100,000 TSG messages stored: 40,000 more took 5.6 s of CPU, 2.7 s of it in four
full collections). Collecting the youngest generation every 10,000 allocations instead of 700
makes full collections rare (none in the same 40,000, 3.4 s of CPU) while cycles of short-lived
objects, which is what aiohttp and asyncio leave, are still collected young.

Once it listens, ``serve`` also moves everything it has made so far (modules, schemas, the
configuration: about 50,000 objects, none of them ever garbage) out of the collector's sight
with :func:`gc.freeze`, so that a full collection walks only what came since. With the journal
keeping its entries as plain tuples (:mod:`emulator.core.journal`), a stored message leaves
about three tracked objects behind, where it left eleven.

Only ``serve`` does this: the pytest plugin and ``replay`` run inside someone else's process,
whose collector is not ours to tune.
"""

from __future__ import annotations

import gc

#: allocations between young collections, then young collections per older one (twice)
SERVE_THRESHOLDS: tuple[int, int, int] = (10_000, 10, 10)


def tune_for_serving() -> None:
    gc.set_threshold(*SERVE_THRESHOLDS)


def freeze_startup_objects() -> None:
    """Collect once, then let the collector ignore every object alive now (see above)."""
    gc.collect()
    gc.freeze()
