"""The one shape every provider plugin has.

A provider is a sub-package of :mod:`emulator.providers` whose ``__init__`` exposes ``PROVIDER``,
a :class:`Provider` subclass. The application finds it by scanning the package, so adding a
provider means adding a folder (plus its schemas under ``schemas/<name>/``); the core never
names one.

A provider's handlers may hand extra detail for the journal's ``api_call`` entry of a request
with :func:`annotate` on the response they return: ``code`` (the provider's own status or error
code), ``reason`` (why a request was refused, in a few words), ``note`` (a hint about a common
mistake) and ``message_ids``. The application's middleware copies it into the entry, where the
control API and the log lines read it; the wire answer is not touched.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

from aiohttp import web

from emulator.core.context import Context
from emulator.core.store import Message
from emulator.providers.transport import (
    TRANSPORT_WEBHOOK_KINDS,
    MoOutlet,
    ReceiptState,
    Refused,
    Submission,
)
from emulator.providers.vocabulary import Vocabulary
from emulator.providers.webhooks import WebhookKind

#: where :func:`annotate` keeps a response's detail for the ``api_call`` entry
API_DETAIL: Any = (web.ResponseKey("api_detail", dict) if hasattr(web, "ResponseKey")
                   else "sms_emulator.api_detail")  # aiohttp < 3.12 has no ResponseKey


_Response = TypeVar("_Response", bound=web.StreamResponse)


def annotate(response: _Response, **detail: Any) -> _Response:
    """Add ``detail`` (``code``, ``reason``, ``note``, ``message_ids``) to the ``api_call``
    journal entry of the request ``response`` answers; ``None`` values are left out."""
    found = response.get(API_DETAIL)
    if found is None:
        found = response[API_DETAIL] = {}
    found.update((key, value) for key, value in detail.items() if value is not None)
    return response


class InboundError(ValueError):
    """Bad input to ``POST /_emulator/inbound``; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Provider(ABC):
    #: short name used in URLs, filters, config sections and lifecycle rules
    name: ClassVar[str]
    #: path prefixes whose errors this provider formats (404, 405, 413, ...)
    path_prefixes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @classmethod
    @abstractmethod
    def default_config(cls) -> dict[str, Any]:
        """This provider's section of the configuration document, with working defaults."""

    @classmethod
    def config_schema(cls) -> str:
        return f"{cls.name}/config"

    @classmethod
    def check_config(cls, section: dict[str, Any]) -> list[str]:
        """Checks of this provider's section beyond its schema (each names its field)."""
        return []

    @classmethod
    @abstractmethod
    def accepts_status(cls, status: Any) -> bool:
        """Whether ``status`` is a status this provider's lifecycle rules may name."""

    @abstractmethod
    def routes(self) -> list[web.AbstractRouteDef]:
        """The provider API's routes."""

    @abstractmethod
    def error_response(self, http_status: int, reason: str) -> web.Response:
        """An error in this provider's own wire format (unknown route, wrong method, ...)."""

    @classmethod
    def webhook_kinds(cls) -> Sequence[WebhookKind]:
        """The webhooks this provider sends (payload schema, signing, forgeries, bias values),
        for the fuzzer; a provider that sends none keeps the default."""
        return ()

    @classmethod
    @abstractmethod
    def vocabulary(cls) -> Vocabulary:
        """The names this provider's messages and webhooks use (webhook kinds, channels,
        statuses, inbound fields), which scenario files are checked against."""

    def owns(self, path: str) -> bool:
        return self.owned_prefix_length(path) >= 0

    def owned_prefix_length(self, path: str) -> int:
        """The length of the longest of this provider's prefixes ``path`` falls under, or -1."""
        lengths = [len(p) for p in self.path_prefixes
                   if path == p.rstrip("/") or path.startswith(p.rstrip("/") + "/")]
        return max(lengths, default=-1)

    def control_routes(self, prefix: str) -> list[web.AbstractRouteDef]:
        """Extra control API routes under ``prefix`` (``/_emulator/<name>``)."""
        return []

    def banner(self) -> list[str]:
        """Lines printed at start-up: endpoints and credentials in use."""
        return []

    def reset(self) -> None:  # noqa: B027 - optional hook, most providers keep no extra state
        """Forget provider-held state (config stays)."""

    async def inbound(self, document: dict[str, Any]) -> list[Any]:
        """An end user sends a message; returns the stored messages."""
        raise InboundError("provider", f"{self.name} does not accept inbound messages yet")

    # -- other transports (SMPP; see emulator.providers.transport) --------------------------
    def new_message_id(self) -> str:
        """An id in the provider's own form (the seeded RNG), for a part answered before its
        message exists."""
        return self.ctx.rng.uuid4()

    def check_addresses(self, sender: str, to: str) -> None:  # noqa: B027 - optional hook
        """:class:`Refused` when ``submit`` would refuse these numbers (checked on each part
        of a multipart message, before it is answered)."""

    def submit(self, submission: Submission) -> Message:
        """Store a message sent through another transport, as the provider's API would."""
        raise Refused("provider", f"{self.name} takes no messages from other transports")

    def receipt_state(self, message: Message) -> ReceiptState | None:
        """How the message's current status reads in an SMPP delivery receipt; ``None`` while
        it is not final."""
        return None


def takes_submissions(cls: type[Provider]) -> bool:
    """Whether the provider takes messages from other transports (has its own ``submit``)."""
    return cls.submit is not Provider.submit


def hand_to_outlet(provider: Provider, transport: str, message: Message, webhook: str) -> None:
    """Send an inbound message over another transport (``smpp``); when it cannot go, the
    journal says why (``webhook_skipped``)."""
    outlet: MoOutlet | None = provider.ctx.outlets.get(transport)
    result = (outlet.deliver(provider.name, message) if outlet is not None
              else f"the {transport} transport is not available")
    if isinstance(result, str):
        provider.ctx.journal.record("webhook_skipped", provider.name, message_id=message.id,
                                    webhook=webhook, cause=f"inbound {message.channel}",
                                    reason=result)


def vocabulary_of(cls: type[Provider]) -> Vocabulary:
    """The provider's names, with the webhook kinds of the transports it takes messages from."""
    vocabulary = cls.vocabulary()
    if not takes_submissions(cls):
        return vocabulary
    return dataclasses.replace(
        vocabulary, webhook_kinds=(*vocabulary.webhook_kinds, *TRANSPORT_WEBHOOK_KINDS))
