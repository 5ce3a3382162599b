"""Threads: the messages between one of our numbers (or sender ids) and one end user, at one
provider, both directions.

A message's end user is its ``to`` when outbound and its ``from`` when inbound; "ours" is the
other side: ``from`` when outbound (``""`` when there is none, e.g. a Telesign send without
``sender_id``), ``to`` when inbound. A thread is named by its **key**
``"<provider>|<ours>|<end_user>"``, e.g. ``telesign|4442|14155550123`` or
``telesign||14155550123``. Each part has ``%`` written ``%25`` and ``|`` written ``%7C`` (and
nothing else encoded), so numbers and sender ids read as they are and a key always splits into
its three parts at its two ``|``. In a URL the key is a query value like any other
(``thread=telesign%7C4442%7C14155550123``, or its ``|`` left bare: servers accept both).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from emulator.core.store import Message

#: a thread: (provider, ours, end_user)
Parts = tuple[str, str, str]


def parts(message: Message) -> Parts:
    """The thread ``message`` belongs to."""
    if message.direction == "inbound":
        return message.provider, message.to, message.from_ or ""
    return message.provider, message.from_ or "", message.to


def _encode(part: str) -> str:
    return part.replace("%", "%25").replace("|", "%7C")


def key(thread: Parts) -> str:
    """The key naming ``thread``."""
    return "|".join(map(_encode, thread))


def parse(text: str) -> Parts:
    """The thread a key names; ValueError if it is not ``provider|ours|end_user`` with a
    provider."""
    pieces = text.split("|")
    if len(pieces) != 3 or not pieces[0]:
        raise ValueError("thread must be a key provider|ours|end_user, as conversations give "
                         "it (ours may be empty)")
    provider, ours, end_user = (unquote(piece) for piece in pieces)
    return provider, ours, end_user


def member(thread: Parts) -> Callable[[Message], bool]:
    """A test that a message belongs to ``thread`` (cheaper than comparing its key)."""
    provider, ours, end_user = thread

    def test(message: Message) -> bool:
        if message.provider != provider:
            return False
        if message.direction == "inbound":
            return message.to == ours and (message.from_ or "") == end_user
        return message.to == end_user and (message.from_ or "") == ours

    return test
