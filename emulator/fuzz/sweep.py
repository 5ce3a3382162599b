"""The coverage sweep: every bias value and every probe, once each, on the smallest payload.

Hypothesis draws bias values often but not exhaustively: it repeats and mutates earlier
examples, so in 100 examples it may try a third of 48 status codes. After Hypothesis's run the
sweep sends, deterministically, the kind's smallest payload (what Hypothesis shrinks toward)
with one value changed at a time: every ``choices`` value (each status code), every tricky text
and keyword variant in every text field, every timestamp format; then every probe (duplicate,
out of order, each forgery) once. A few hundred requests at most, without Hypothesis's overhead.

A sweep case is already minimal but for the one value it aims at, so its failures are reported
as found, unshrunk, and only for finding classes Hypothesis did not find on its own.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

from hypothesis import HealthCheck, Phase, find, settings

from emulator import schemas
from emulator.fuzz import bias
from emulator.fuzz.cases import DUPLICATE, GENUINE, OUT_OF_ORDER, Case, another
from emulator.fuzz.determinism import without_local_constants
from emulator.fuzz.strategies import FIRST_INSTANT, payloads, timestamp_formats
from emulator.providers.webhooks import WebhookKind

_SMALLEST: dict[str, dict[str, Any]] = {}


def smallest(kind: WebhookKind) -> dict[str, Any]:
    """The simplest payload of ``kind`` (required fields only, shortest values)."""
    if kind.name not in _SMALLEST:
        # Hypothesis's first example is its simplest one, so no shrinking is needed
        quiet = settings(database=None, max_examples=1, phases=(Phase.generate,),
                         suppress_health_check=list(HealthCheck), deadline=None)
        with without_local_constants():
            _SMALLEST[kind.name] = find(payloads(kind, extra_fields=False), lambda _: True,
                                        settings=quiet)
    return copy.deepcopy(_SMALLEST[kind.name])


def _paths(value: Any, path: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else key
            yield inner
            yield from _paths(item, inner)


def _set(payload: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    *parents, last = path.split(".")
    target = changed
    for key in parents:
        target = target[key]
    target[last] = copy.deepcopy(value)
    return changed


def _targets(glob: str, paths: list[str]) -> list[str]:
    """The fields ``glob`` names in the payload; an absent optional field counts when its
    parent object is there (``content.text_*`` as ``content.text_1``)."""
    found = [p for p in paths if fnmatchcase(p, glob)]
    if not found:
        path = glob.replace("*", "1")
        parent = path.rpartition(".")[0]
        if "[" not in path and (not parent or parent in paths):
            found.append(path)
    return found


def _variants(kind: WebhookKind, base: dict[str, Any]) -> Iterator[dict[str, Any]]:
    b = kind.bias
    paths = list(_paths(base))
    for glob, values in b.choices.items():
        for path in _targets(glob, paths):
            for value in values:
                yield _set(base, path, value)
    texts = (*bias.TRICKY_TEXTS, *bias.keyword_variants(b.keywords))
    for glob in b.texts:
        for path in _targets(glob, paths):
            for text in texts:
                yield _set(base, path, text)
    # in the provider's chronological order, each a second after the previous one
    stamped = sorted(((p, timestamp_formats(b, p)) for p in paths
                      if any(fnmatchcase(p, glob) for glob in b.timestamps)),
                     key=lambda item: next(i for i, glob in enumerate(b.timestamps)
                                           if fnmatchcase(item[0], glob)))
    for style in range(max((len(formats) for _, formats in stamped), default=0)):
        changed = base
        for offset, (path, formats) in enumerate(stamped):
            changed = _set(changed, path, formats[style % len(formats)](FIRST_INSTANT + offset))
        yield changed


def sweep_cases(kind: WebhookKind, *, security: bool = True) -> list[Case]:
    """The sweep's cases for ``kind``, each distinct and valid against its schema."""
    base = smallest(kind)
    found: list[Case] = []
    seen: set[bytes] = {kind.encode(base)}
    for variant in _variants(kind, base):
        if kind.finish is not None:
            variant = kind.finish(variant)
        body = kind.encode(variant)
        if body not in seen and not schemas.problems(kind.schema, variant):
            seen.add(body)
            found.append(Case(GENUINE, (variant,)))
    found.append(Case(DUPLICATE, (base, base)))
    if kind.out_of_order is not None:
        found.append(Case(OUT_OF_ORDER, tuple(kind.out_of_order(copy.deepcopy(base)))))
    if security:
        found += [Case(name, (base,), other=another(base)) for name in kind.forgeries]
    return found
