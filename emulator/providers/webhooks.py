"""How a provider describes the webhooks it sends, for tools that imitate them (the fuzzer).

A provider returns :class:`WebhookKind` objects from ``Provider.webhook_kinds()``. Each says which
schema its payload follows, how the provider encodes and signs a body, which forged variants of
the signature an attacker could send, and which values of the payload matter on the wire
(status codes, keywords, timestamp formats). It is plain data and functions, with no dependency
on the fuzzer, so the fuzzer knows no provider and a provider knows no fuzzer.

Field paths are dotted key paths into the payload (``user_response.mo_message``); list items
add ``[]`` (``errors[].code``); a path may hold ``fnmatch`` wildcards (``content.text_*``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Credentials = Mapping[str, str]
#: the headers a provider sends with ``body`` at Unix time ``at``
HeaderFn = Callable[[bytes, Credentials, float], dict[str, str]]
#: the headers of a forged request: ``(body, credentials, at, other_body)``, where
#: ``other_body`` is another genuine body whose signature a replay may reuse
ForgeryFn = Callable[[bytes, Credentials, float, bytes], dict[str, str]]


@dataclass(frozen=True)
class Credential:
    """A secret the receiving handler verifies webhooks with."""

    name: str
    default: str
    help: str
    #: returns a problem with the value, or ``None`` when it is usable
    check: Callable[[str], str | None] = lambda value: None


@dataclass(frozen=True)
class Bias:
    """Provider knowledge that aims generated payloads at realistic, handler-breaking values.

    Each mapping is keyed by field path. The fuzzer gives precedence to ``choices``, then
    ``patterns``, ``ranges``, ``texts`` and ``timestamps``; other fields come from the schema.
    """

    #: fields holding an end user's text: drawn from unicode, emoji, right-to-left, empty,
    #: 1600-character texts and every keyword in every case
    texts: tuple[str, ...] = ()
    #: the keywords the provider acts on (STOP, HELP, ...)
    keywords: tuple[str, ...] = ()
    #: timestamp fields, in chronological order (each is at or after the previous one)
    timestamps: tuple[str, ...] = ()
    #: the formats the provider writes timestamps in; one is drawn per payload
    timestamp_formats: tuple[Callable[[float], str], ...] = ()
    #: formats of particular timestamp fields, where they differ from ``timestamp_formats``
    #: (the n-th format drawn for the payload is the n-th here too, cycling)
    timestamp_field_formats: Mapping[str, tuple[Callable[[float], str], ...]] = field(
        default_factory=dict)
    #: realistic values for a field (status codes, countries, whole sub-objects)
    choices: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    #: a regular expression for strings the schema leaves loose (URLs, sender ids)
    patterns: Mapping[str, str] = field(default_factory=dict)
    #: inclusive bounds for numbers the schema leaves unbounded (latitude, sizes)
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    #: objects where exactly one of the named optional properties is present
    exclusive: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookKind:
    """One kind of webhook a provider sends."""

    #: ``<provider>.<kind>``, e.g. ``telesign.mo_sms``
    name: str
    provider: str
    #: the payload's schema, e.g. ``telesign/mo-sms``
    schema: str
    summary: str
    credentials: tuple[Credential, ...]
    #: the genuine headers, signed as the provider signs them
    headers: HeaderFn
    #: named forged variants of the headers (missing, malformed, stale, forged signature ...)
    forgeries: Mapping[str, ForgeryFn]
    #: the body bytes exactly as the provider serialises a payload
    encode: Callable[[Any], bytes]
    bias: Bias = field(default_factory=Bias)
    #: makes the cross-field rules a schema cannot state hold (the keyword follows the text,
    #: the description follows the code); returns the payload to send
    finish: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    #: a delivery report sent out of order: a final status, then an intermediate one for the
    #: same message; ``None`` where the kind has no status lifecycle
    out_of_order: Callable[[dict[str, Any]], list[dict[str, Any]]] | None = None
    #: whether the provider authenticates its webhooks with these credentials (TSG Global
    #: sends ``x-api-key`` only when one is configured); without it no forgery can be told apart
    authenticated: Callable[[Credentials], bool] = lambda credentials: True
    #: what the provider counts as delivered
    success_statuses: tuple[int, ...] = (200,)
    method: str = "POST"

    @property
    def short_name(self) -> str:
        return self.name.split(".", 1)[1]
