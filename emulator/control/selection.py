"""Which messages a control API list selects, from the filters of its query.

Equality filters compare a message's field with the value as given: ``provider``,
``direction`` (outbound or inbound), ``to``, ``from``, ``origin`` (api, end_user, provider),
``channel``. Besides them:

- ``status``: the message's current status written as text (a Telesign code such as ``200``, a
  TSG name such as ``delivered``);
- ``q``: a case-insensitive substring of the message's text, ``to``, ``from`` or id;
- ``thread``: a thread key (:mod:`.threads`): that thread's messages, both directions.

A bad ``direction``, ``origin`` or ``thread`` is a :class:`~.paging.BadQuery` naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import reduce

from emulator.control import threads
from emulator.control.paging import BadQuery
from emulator.core.paging import matching
from emulator.core.store import DIRECTIONS, ORIGINS, Message

#: query parameter -> the message attribute it must equal
EQUAL = {"provider": "provider", "direction": "direction", "to": "to", "from": "from_",
         "origin": "origin", "channel": "channel"}
#: every filter a selection knows
NAMES: tuple[str, ...] = (*EQUAL, "status", "q", "thread")

Test = Callable[[Message], bool]


@dataclass(frozen=True)
class Selection:
    #: message attribute -> the value it must equal
    equal: dict[str, str] = field(default_factory=dict)
    status: str | None = None
    q: str | None = None
    thread: threads.Parts | None = None

    def test(self) -> Test | None:
        """A test that a message matches every filter; None when there is none."""
        tests = [test for test in (matching(**self.equal), _status(self.status), _search(self.q),
                                   None if self.thread is None else threads.member(self.thread))
                 if test is not None]
        # equality first: the cheapest, and the one most likely to refuse
        return reduce(_both, tests) if tests else None


def parse(query: Mapping[str, str], names: tuple[str, ...] = NAMES) -> Selection:
    """The selection the filters ``names`` of ``query`` make (others are not looked at)."""
    given = {name: query[name] for name in names if name in query}
    _one_of(given, "direction", DIRECTIONS)
    _one_of(given, "origin", ORIGINS)
    thread = None
    if "thread" in given:
        try:
            thread = threads.parse(given["thread"])
        except ValueError as exc:
            raise BadQuery("thread", str(exc)) from None
    return Selection(equal={EQUAL[name]: value for name, value in given.items() if name in EQUAL},
                     status=given.get("status"), q=given.get("q"), thread=thread)


def _both(first: Test, second: Test) -> Test:
    return lambda message: first(message) and second(message)


def _one_of(given: dict[str, str], name: str, allowed: tuple[str, ...]) -> None:
    if name in given and given[name] not in allowed:
        choices = " or ".join(allowed) if len(allowed) == 2 else "one of " + ", ".join(allowed)
        raise BadQuery(name, f"{name} must be {choices}")


def _status(wanted: str | None) -> Test | None:
    if wanted is None:
        return None
    return lambda message: str(message.status) == wanted


def _search(q: str | None) -> Test | None:
    if q is None:
        return None
    needle = q.casefold()

    def test(message: Message) -> bool:
        return (needle in message.text.casefold() or needle in message.to.casefold()
                or needle in (message.from_ or "").casefold()
                or needle in message.id.casefold())

    return test
