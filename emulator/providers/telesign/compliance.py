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

from dataclasses import dataclass
from typing import Any

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

    def to_json(self) -> dict[str, Any]:
        return {"sender_id": self.sender, "phone_number": self.phone_number,
                "keyword": self.keyword, "at": iso_micro_z(self.at)}


class OptOuts:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], OptOut] = {}

    def stop(self, sender: str, phone_number: str, keyword: str, at: float) -> None:
        self._entries[(sender, phone_number)] = OptOut(sender, phone_number, keyword, at)

    def start(self, sender: str, phone_number: str) -> None:
        self._entries.pop((sender, phone_number), None)

    def blocks(self, phone_number: str, sender: str | None) -> bool:
        if sender is not None:
            return (sender, phone_number) in self._entries
        return any(number == phone_number for _, number in self._entries)

    def remove(self, phone_number: str) -> int:
        keys = [key for key in self._entries if key[1] == phone_number]
        for key in keys:
            del self._entries[key]
        return len(keys)

    def to_json(self) -> list[dict[str, Any]]:
        return [entry.to_json() for entry in self._entries.values()]

    def clear(self) -> None:
        self._entries.clear()
