"""Checks the names a scenario step uses against what the emulator has, so that a misspelt name
is an error before the run instead of an expectation that can never fail (``expect_no_message:
{provider: tsgg}`` would pass forever).

The names come from where the emulator keeps them: providers from the provider plugins, found
as the application finds them (:func:`emulator.providers.discover`), each describing its
webhook kinds, channels, message statuses and inbound fields in its
:class:`~emulator.providers.vocabulary.Vocabulary`; delivery states, message directions and
origins from the core; HTTP methods from aiohttp. A kind, channel or status given with a
``provider`` is checked against that provider's names, without one against every provider's.

Only values known before the run are checked: plain values, and ``${name}`` references to
``vars``. A captured value, a ``regex``/``contains``/``present`` matcher or a wrong type (which
the schema reports) is left alone. Each problem is ``(path inside the step's spec, whether the
path is a key, message)``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from aiohttp import hdrs

from emulator.core.dispatcher import DELIVERY_STATES
from emulator.core.store import DIRECTIONS, ORIGINS
from emulator.providers import discover
from emulator.providers.base import vocabulary_of
from emulator.providers.transport import TRANSPORTS
from emulator.providers.vocabulary import Vocabulary
from emulator.replay import values

SubPath = tuple[str | int, ...]
Found = tuple[SubPath, bool, str]
#: a list of allowed names longer than this is left out of a message (the suggestion stays)
LIST_LIMIT = 12
METHODS = tuple(sorted(hdrs.METH_ALL))


@dataclass(frozen=True)
class Known:
    """Every name a scenario may use."""

    providers: Mapping[str, Vocabulary]

    def names(self, attribute: str, provider: str | None) -> tuple[Any, ...]:
        """A provider's names of one sort, or every provider's (in provider order)."""
        if provider is not None:
            return tuple(getattr(self.providers[provider], attribute))
        union: dict[Any, None] = {}
        for vocabulary in self.providers.values():
            union.update(dict.fromkeys(getattr(vocabulary, attribute)))
        return tuple(union)

    def owners(self, attribute: str, name: Any) -> list[str]:
        return [provider for provider, vocabulary in self.providers.items()
                if _same(name, getattr(vocabulary, attribute))]


@cache
def known() -> Known:
    return Known({cls.name: vocabulary_of(cls) for cls in discover()})


def _same(value: Any, allowed: Sequence[Any]) -> bool:
    """``value`` is one of ``allowed``; ``200`` and ``"200"`` are the same name, as matchers
    treat them (form fields are text)."""
    if isinstance(value, bool):
        return False
    return value in allowed or str(value) in {str(name) for name in allowed}


def unknown(what: str, value: Any, allowed: Sequence[Any], *, plural: str,
            owner: str | None = None, elsewhere: Sequence[str] = ()) -> str:
    """``unknown <what> 'x' (did you mean 'y'?); <plural> are: ...`` (or, for a name of one
    provider, ``tsg has no <what> 'x' ...; its <plural> are: ...``)."""
    text = f"{owner} has no {what} {value!r}" if owner else f"unknown {what} {value!r}"
    if elsewhere:
        text += f" (that is {' and '.join(elsewhere)}'s)"
    by_text = {str(name): name for name in allowed}
    close = difflib.get_close_matches(str(value), list(by_text), n=1)
    if close and not elsewhere:
        text += f" (did you mean {by_text[close[0]]!r}?)"
    if len(allowed) <= LIST_LIMIT:
        text += f"; {'its ' if owner else ''}{plural} are: {', '.join(map(str, allowed))}"
    return text


class _Step:
    """The checks of one step's spec; ``found`` collects the problems."""

    def __init__(self, spec: dict[str, Any], variables: Mapping[str, Any], names: Known) -> None:
        self.spec = spec
        self.variables = variables
        self.names = names
        self.found: list[Found] = []

    def value(self, path: SubPath) -> Any:
        """The value at ``path`` if it is known before the run, else :data:`values.MISSING`."""
        value: Any = self.spec
        for part in path:
            if not isinstance(value, Mapping) or part not in value:
                return values.MISSING
            value = value[part]
        if isinstance(value, list | Mapping) or value is None:
            return values.MISSING  # a wrong type: the schema says so
        return values.resolve_static(value, self.variables)

    def name(self, path: SubPath, what: str, allowed: Sequence[Any], *, plural: str,
             owner: str | None = None, attribute: str | None = None,
             normal: Callable[[Any], Any] = lambda value: value) -> bool:
        """Check the name at ``path``; whether it is known (or cannot be checked)."""
        value = self.value(path)
        if value is values.MISSING or _same(normal(value), allowed):
            return True
        elsewhere = (self.names.owners(attribute, value) if owner and attribute else [])
        self.found.append((path, False, unknown(what, value, allowed, plural=plural,
                                                owner=owner, elsewhere=elsewhere)))
        return False

    def provider(self) -> tuple[bool, str | None]:
        """Check ``provider``: whether it is usable, and the provider named (if known)."""
        ok = self.name(("provider",), "provider", tuple(self.names.providers), plural="providers")
        value = self.value(("provider",))
        return ok, (value if ok and value is not values.MISSING else None)

    def scoped(self, key: str, attribute: str, what: str, plural: str,
               provider: str | None) -> None:
        self.name((key,), what, self.names.names(attribute, provider), plural=plural,
                  owner=provider, attribute=attribute)

    def status(self, provider: str | None) -> None:
        """``status`` of a message: a plain value or a matcher; plain values and ``equals``
        are checked, ``regex``, ``contains`` and ``present`` cannot be."""
        if "status" not in self.spec:
            return
        status = self.spec["status"]
        allowed = self.names.names("statuses", provider)

        def check(path: SubPath) -> None:
            self.name(path, "message status", allowed, plural="statuses", owner=provider,
                      attribute="statuses")

        if isinstance(status, Mapping):
            extra = [key for key in status if key not in values.MATCHER_KEYS]
            for key in extra:
                close = difflib.get_close_matches(str(key), sorted(values.MATCHER_KEYS), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.found.append((("status", key), True,
                                   f"unknown matcher {key!r}{hint}; a status is a value or "
                                   "one of: " + ", ".join(sorted(values.MATCHER_KEYS))))
            if not status:
                self.found.append((("status",), False, "an empty matcher; give a value or one "
                                   "of: " + ", ".join(sorted(values.MATCHER_KEYS))))
            if "equals" in status and not extra:
                check(("status", "equals"))
        elif isinstance(status, list):
            self.found.append((("status",), False, "a message has one status: give a value "
                               "or a matcher (regex: 'a|b' for either)"))
        else:
            check(("status",))


def _inbound(step: _Step) -> None:
    ok, provider = step.provider()
    if not ok or provider is None:
        return
    vocabulary = step.names.providers[provider]
    step.scoped("channel", "channels", "channel", "channels", provider)
    for key in step.spec:
        if key not in vocabulary.inbound_fields:
            step.found.append(((key,), True, unknown(
                "inbound field", key, vocabulary.inbound_fields, plural="fields",
                owner=provider)))


def _api_call(step: _Step) -> None:
    step.provider()
    step.name(("method",), "HTTP method", METHODS, plural="methods",
              normal=lambda value: str(value).upper())


def _delivery(step: _Step) -> None:
    ok, provider = step.provider()
    if ok:
        step.scoped("kind", "webhook_kinds", "webhook kind", "kinds", provider)
    step.name(("state",), "delivery state", DELIVERY_STATES, plural="states")


def _message(step: _Step) -> None:
    ok, provider = step.provider()
    step.name(("direction",), "direction", DIRECTIONS, plural="directions")
    step.name(("via",), "transport", TRANSPORTS, plural="transports")
    step.name(("origin",), "origin", ORIGINS, plural="origins")
    if ok:
        step.scoped("channel", "channels", "channel", "channels", provider)
        step.status(provider)


CHECKS: dict[str, Callable[[_Step], None]] = {
    "inbound": _inbound,
    "expect_api_call": _api_call, "expect_no_api_call": _api_call,
    "expect_delivery": _delivery,
    "expect_message": _message, "expect_no_message": _message,
}


def check(action: str, spec: Any, variables: Mapping[str, Any]) -> list[Found]:
    """The unknown names in one step's ``spec``; ``variables`` are the scenario's ``vars``."""
    if action not in CHECKS or not isinstance(spec, dict):
        return []
    step = _Step(spec, variables, known())
    CHECKS[action](step)
    return step.found
