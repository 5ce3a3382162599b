"""How a provider describes the names its messages and webhooks use, for tools that check what a
user writes about them (the scenario checker).

A provider returns a :class:`Vocabulary` from ``Provider.vocabulary()``: the ``kind`` of each
webhook delivery it makes (as ``GET /_emulator/deliveries`` shows it), the channels its messages
travel on, the values a message's ``status`` takes, and the fields its
``POST /_emulator/inbound`` document accepts. It is plain data, so a checker knows no provider and
a provider knows no checker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Vocabulary:
    #: the ``kind`` of its webhook deliveries (``delivery_report``, ``sms_dlr``, ...)
    webhook_kinds: tuple[str, ...]
    #: the ``channel`` of its messages, which is also what ``inbound`` accepts as ``channel``
    channels: tuple[str, ...]
    #: every value a message's ``status`` takes, outbound and inbound
    statuses: tuple[Any, ...]
    #: the fields of its ``POST /_emulator/inbound`` document
    inbound_fields: tuple[str, ...]
