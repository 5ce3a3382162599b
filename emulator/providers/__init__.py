"""Provider plugins. Each sub-package exposes ``PROVIDER``; :func:`discover` finds them all."""

from __future__ import annotations

import importlib
import pkgutil

from emulator.providers.base import Provider


def discover() -> list[type[Provider]]:
    """Every provider class under this package, in name order."""
    found: list[type[Provider]] = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not module.ispkg:
            continue
        package = importlib.import_module(f"{__name__}.{module.name}")
        provider = getattr(package, "PROVIDER", None)
        if provider is not None:
            found.append(provider)
    return found
