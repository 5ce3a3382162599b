"""US/Canada compliance keywords: automatic replies and the opt-out list (seed 000).

A stop, help or start keyword by SMS from a number in one of ``telesign.compliance.countries``
(default US and CA) makes Telesign answer the user automatically. The reply text is the keyword's
own template if one is configured (``keyword_templates``, so ``arrêt`` answers in French), else
the action's (``templates``).

STOP puts (code, user) on the opt-out list and START takes it off. While a user is opted out,
a ``POST /v1/messaging`` to them ends asynchronously in 510 "Message blocked by subscriber action
or request", as documented, when its ``sender_id`` is the code they opted out of, or when it names
no sender at all (the account's default sender; the emulator cannot tell which code that is).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from emulator.core.paging import DEFAULT_LIMIT, Page, take
from emulator.core.records import Records
from emulator.core.timefmt import iso_micro_z

DEFAULT_TEMPLATES = {
    "stop": "You have been unsubscribed and will receive no more messages. Reply START to "
            "subscribe again.",
    "help": "For help, contact support. Reply STOP to unsubscribe. Msg&data rates may apply.",
    "start": "You have been subscribed again. Reply HELP for help, STOP to unsubscribe.",
}
DEFAULT_KEYWORD_TEMPLATES = {
    "arrêt": "Vous êtes désabonné et ne recevrez plus de messages. Répondez START pour vous "
             "réabonner.",
    "arret": "Vous êtes désabonné et ne recevrez plus de messages. Répondez START pour vous "
             "réabonner.",
    "aide": "Pour obtenir de l'aide, contactez le support. Répondez ARRET pour vous désabonner.",
}


def default_config() -> dict[str, Any]:
    return {"countries": ["US", "CA"], "templates": dict(DEFAULT_TEMPLATES),
            "keyword_templates": dict(DEFAULT_KEYWORD_TEMPLATES)}


def reply_text(section: dict[str, Any], action: str, keyword: str) -> str:
    return section["keyword_templates"].get(keyword) or section["templates"][action]


@dataclass
class OptOut:
    sender: str
    phone_number: str
    keyword: str
    at: float
    #: the order of the list (a STOP again moves the user to its end)
    seq: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"sender_id": self.sender, "phone_number": self.phone_number,
                "keyword": self.keyword, "at": iso_micro_z(self.at)}


class OptOuts:
    """The opt-out list, oldest first, paged like every control list; indexed by user too,
    so that a send without ``sender_id`` and ``remove`` cost what one user has, not what the
    whole list holds. It keeps one entry per (code, user), as Telesign keeps them: it is
    bounded by the users that opt out, not by the messages sent."""

    def __init__(self) -> None:
        self._entries: Records[tuple[str, str], OptOut] = Records(
            lambda o: (o.sender, o.phone_number), lambda o: o.seq)
        self._senders: dict[str, set[str]] = {}  # phone number -> codes it opted out of
        self._seq = itertools.count(1)

    def stop(self, sender: str, phone_number: str, keyword: str, at: float) -> None:
        self._entries.add(OptOut(sender, phone_number, keyword, at, next(self._seq)))
        self._senders.setdefault(phone_number, set()).add(sender)

    def start(self, sender: str, phone_number: str) -> None:
        self._entries.remove((sender, phone_number))
        senders = self._senders.get(phone_number)
        if senders is not None:
            senders.discard(sender)
            if not senders:
                del self._senders[phone_number]

    def blocks(self, phone_number: str, sender: str | None) -> bool:
        if sender is not None:
            return (sender, phone_number) in self._entries
        return phone_number in self._senders

    def remove(self, phone_number: str) -> int:
        senders = self._senders.pop(phone_number, set())
        for sender in senders:
            self._entries.remove((sender, phone_number))
        return len(senders)

    def page(self, after: int = 0, limit: int = DEFAULT_LIMIT) -> Page[OptOut]:
        """Opt-outs after the cursor ``after``, oldest first."""
        return take(self._entries.oldest_first(after), lambda o: o.seq, limit)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
        self._senders.clear()
