"""``GET /_emulator/smpp/sessions``: the SMPP listener's address and its open sessions."""

from __future__ import annotations

from aiohttp import web

from emulator.control import paging
from emulator.smpp.listener import SmppServer


def build_routes(prefix: str, server: SmppServer) -> list[web.AbstractRouteDef]:
    async def sessions(request: web.Request) -> web.Response:
        """Every open session, oldest first (``limit`` of them; there are at most
        ``smpp.max_sessions``); ``next`` is always null."""
        try:
            query = paging.page_query(request)
        except paging.BadQuery as exc:
            return paging.bad_query_response(exc)
        answer = server.to_json()
        answer["sessions"] = answer["sessions"][:query.limit]
        answer["next"] = None
        return web.json_response(answer)

    return [web.get(f"{prefix}/sessions", sessions)]
