"""The ``smpp`` section of the configuration document: who may bind, and the session limits.

Defaults work with no file: one account per provider that takes SMPP traffic, its system_id
the provider's name and the password ``emulator`` (``telesign``/``emulator``,
``tsg``/``emulator``). The schema is ``schemas/smpp/config.schema.json``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

DEFAULT_PASSWORD = "emulator"
SMSC_SYSTEM_ID = "sms-emulator"


@dataclass(frozen=True)
class Account:
    system_id: str
    password: str
    provider: str


def default_config(providers: Iterable[str]) -> dict[str, Any]:
    return {
        "system_id": SMSC_SYSTEM_ID,
        "accounts": [{"system_id": name, "password": DEFAULT_PASSWORD, "provider": name}
                     for name in providers],
        "window": 10,
        "response_timeout_seconds": 10.0,
        "session_init_seconds": 30.0,
        "max_sessions": 64,
        "retry": {"attempts": 5, "delay_seconds": 60.0},
    }


def check(section: dict[str, Any], providers: Iterable[str]) -> list[str]:
    """What the schema cannot say: a known provider, and each system_id once."""
    known = set(providers)
    problems: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(section["accounts"]):
        if entry["provider"] not in known:
            problems.append(f"accounts.{index}.provider: {entry['provider']!r} is not a "
                            f"provider that takes SMPP traffic ({', '.join(sorted(known))})")
        if entry["system_id"] in seen:
            problems.append(f"accounts.{index}.system_id: {entry['system_id']!r} is listed "
                            "twice")
        seen.add(entry["system_id"])
    return problems


def accounts(section: dict[str, Any]) -> list[Account]:
    return [Account(e["system_id"], e["password"], e["provider"]) for e in section["accounts"]]


def find(section: dict[str, Any], system_id: str) -> Account | None:
    return next((a for a in accounts(section) if a.system_id == system_id), None)


def first_of(section: dict[str, Any], provider: str) -> Account | None:
    """The account a provider's MO goes to: its first in the list."""
    return next((a for a in accounts(section) if a.provider == provider), None)
