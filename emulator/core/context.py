"""The services every provider and the control API share, built once per application."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emulator.config import Config, Settings
from emulator.core.clock import Clock
from emulator.core.dispatcher import Dispatcher
from emulator.core.journal import Journal
from emulator.core.rng import SeededRandom
from emulator.core.scheduler import Scheduler
from emulator.core.store import Store


@dataclass
class Context:
    settings: Settings
    config: Config
    clock: Clock
    scheduler: Scheduler
    store: Store
    journal: Journal
    dispatcher: Dispatcher
    rng: SeededRandom
    base_url: str = ""
    #: transports other than HTTP that take inbound messages, by name (``smpp``); a provider
    #: hands them what it routes there (:mod:`emulator.providers.transport`)
    outlets: dict[str, Any] = field(default_factory=dict)
