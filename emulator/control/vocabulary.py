"""``GET /_emulator/vocabulary``: the names each provider's messages and webhooks use.

The inbox page builds its choices from it (the channels an end user can write on, the statuses
a message can have), and a tool can too, instead of hard-coding any provider's names. It is
each provider's :class:`~emulator.providers.vocabulary.Vocabulary`, as JSON.
"""

from __future__ import annotations

from aiohttp import web

from emulator.providers.base import Provider, vocabulary_of


def build_route(prefix: str, providers: dict[str, Provider]) -> web.AbstractRouteDef:
    document = {"providers": {}}
    for name, provider in sorted(providers.items()):
        vocabulary = vocabulary_of(type(provider))
        document["providers"][name] = {
            "channels": list(vocabulary.channels),
            "statuses": list(vocabulary.statuses),
            "webhook_kinds": list(vocabulary.webhook_kinds),
            "inbound_fields": list(vocabulary.inbound_fields),
        }

    async def vocabulary(request: web.Request) -> web.Response:
        return web.json_response(document)

    return web.get(f"{prefix}/vocabulary", vocabulary)
