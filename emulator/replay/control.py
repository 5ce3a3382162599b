"""An asynchronous client of the ``/_emulator`` control API, used by the scenario runner and the
pytest plugin. It speaks only HTTP, so it drives an emulator in this process or one already
running elsewhere alike. An emulator started with a control token needs it: the client sends
``SMS_EMULATOR_CONTROL_TOKEN`` from the environment, if set, as ``Authorization: Bearer``.

The lists (:meth:`ControlClient.messages`, ``deliveries``, ``journal``) follow the answers'
``next`` links, :data:`PAGE_SIZE` items a page, and return every item, in the list's order."""

from __future__ import annotations

import os
from typing import Any

import aiohttp

#: items asked for per page when a helper reads a whole list (the control API's maximum)
PAGE_SIZE = 1000


class ControlFailure(RuntimeError):
    """The control API refused a call or could not be reached."""


class ControlClient:
    def __init__(self, base_url: str, session: aiohttp.ClientSession,
                 page_size: int = PAGE_SIZE,
                 token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        #: items asked for per request when reading a whole list
        self.page_size = page_size
        token = token or os.environ.get("SMS_EMULATOR_CONTROL_TOKEN", "").strip()
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def call(self, method: str, path: str, *, json: Any = None,
                   params: dict[str, Any] | None = None) -> Any:
        """``method`` on ``/_emulator{path}``; ``path`` may carry a query of its own (a
        ``next`` link without its ``/_emulator``)."""
        url = f"{self.base_url}/_emulator{path}"
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        try:
            async with self._session.request(method, url, json=json,
                                             params=query or None,
                                             headers=self._headers) as response:
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ControlFailure(f"{method} {url}: {type(exc).__name__}: {exc}") from None
        if response.status >= 400:
            detail = body.get("error") if isinstance(body, dict) else body
            raise ControlFailure(f"{method} {url} answered {response.status}: {detail}")
        return body

    async def every(self, path: str, key: str, filters: dict[str, Any]) -> list[dict[str, Any]]:
        """Every item of a paged list: the first page, then each ``next`` until there is
        none."""
        body = await self.call("GET", path, params={"limit": self.page_size, **filters})
        found = list(body[key])
        while body.get("next"):
            body = await self.call("GET", body["next"].removeprefix("/_emulator"))
            found += body[key]
        return found

    async def clock(self) -> dict[str, Any]:
        return await self.call("GET", "/clock")

    async def advance(self, seconds: float) -> dict[str, Any]:
        return await self.call("POST", "/clock/advance", json={"seconds": seconds})

    async def reset(self, **fields: Any) -> dict[str, Any]:
        return await self.call("POST", "/reset",
                               json={k: v for k, v in fields.items() if v is not None})

    async def config(self) -> dict[str, Any]:
        return await self.call("GET", "/config")

    async def replace_config(self, document: dict[str, Any]) -> dict[str, Any]:
        return await self.call("PUT", "/config", json=document)

    async def inbound(self, document: dict[str, Any]) -> dict[str, Any]:
        return await self.call("POST", "/inbound", json=document)

    async def messages(self, **filters: Any) -> list[dict[str, Any]]:
        """Every message matching ``filters``, newest first."""
        return await self.every("/messages", "messages", filters)

    async def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        """Every delivery matching ``filters``, newest first."""
        return await self.every("/deliveries", "deliveries", filters)

    async def journal(self, **filters: Any) -> list[dict[str, Any]]:
        """Every journal entry matching ``filters``, oldest first."""
        return await self.every("/journal", "entries", filters)
