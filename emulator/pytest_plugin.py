"""pytest plugin (registered through the ``pytest11`` entry point, so installing the package is
enough): the ``sms_emulator`` fixture.

The emulator runs in a thread of its own, with its own event loop, on a free loopback port and a
manual clock; one server serves the whole session and every test starts from a reset (ids from
the seed, time 2026-01-01T00:00:00Z, the session's configuration). Because it has its own loop,
it works for plain synchronous tests (a Flask or Django app, the Telesign SDK) and for asyncio
tests alike. In an asyncio test whose system under test runs on the test's own loop (an aiohttp
app), use the awaitable helpers under ``sms_emulator.aio``: a blocking call would hold up that
loop while the emulator waits for the system's webhook answer.

Options: ``--sms-emulator-seed N`` (default 1), and the ini setting ``sms_emulator_config``, a
YAML configuration file for the session's emulator.

Conventions of the helpers: times are timezone-aware UTC ``datetime`` objects (``now()``; the
control API's own ISO 8601 text is ``now_iso()``), durations are seconds or a ``timedelta``,
``control()`` paths are relative to ``/_emulator`` (``"/clock"``; ``"/_emulator/clock"`` is
accepted too), and a refused control call raises :class:`ControlFailure`. The list helpers
(``messages()``, ``deliveries()``, ``journal()``, ``wait_for_message()``) read every page of
the control API's paged lists, following ``next``; ``control()`` returns one page as it is.

The emulator prints nothing into the test output: its event lines go to Python logging (logger
``sms_emulator.events``, INFO), so ``pytest --log-level=INFO`` shows them in a failing test's
captured log.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from emulator.config import Settings, load_config_file
from emulator.core.timefmt import parse_iso
from emulator.embedded import running
from emulator.replay.control import PAGE_SIZE, ControlClient, ControlFailure

START = "2026-01-01T00:00:00Z"
POLL_SECONDS = 0.01


class _ServerThread:
    """The emulator served from a daemon thread's event loop."""

    def __init__(self, settings: Settings, document: dict[str, Any] | None) -> None:
        self._settings = settings
        self._document = document
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.url = ""
        self._thread = threading.Thread(target=self._main, name="sms-emulator", daemon=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        try:
            async with running(self._settings, self._document) as (_, url):
                self.url = url
                self._stop = asyncio.Event()
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:  # reported to the test session by start()
            self._error = exc
            self._ready.set()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(30) or self._error is not None:
            raise RuntimeError(f"the sms-emulator did not start: {self._error!r}")

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


#: the prefix of every control API path
PREFIX = "/_emulator"


def _control_path(path: str) -> str:
    """``path`` relative to ``/_emulator``: ``clock``, ``/clock`` and ``/_emulator/clock`` alike."""
    path = "/" + path.lstrip("/")
    if path == PREFIX or path.startswith(PREFIX + "/"):
        path = path[len(PREFIX):]
    return path


def _seconds(duration: float | timedelta) -> float:
    return duration.total_seconds() if isinstance(duration, timedelta) else float(duration)


def _datetime(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC)


def _reset_body(seed: int | None, now: datetime | str | None) -> dict[str, Any]:
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("reset(now=...) needs a timezone-aware datetime")
        now = now.isoformat()
    return {k: v for k, v in {"seed": seed, "now": now}.items() if v is not None}


def _filters(filters: dict[str, Any]) -> dict[str, Any]:
    if "from_" in filters:
        filters["from"] = filters.pop("from_")
    return {k: v for k, v in filters.items() if v is not None}


def _matches(message: dict[str, Any], text: str | None, status: Any) -> bool:
    if text is not None and re.search(text, message["text"]) is None:
        return False
    return status is None or message["status"] == status


class AsyncHelpers:
    """The helpers of :class:`SmsEmulator` as coroutines, for asyncio tests
    (``await sms_emulator.aio.advance(5)``); each does what its synchronous namesake does."""

    def __init__(self, url: str) -> None:
        self._url = url
        #: items the list helpers ask for per request (they read every page whatever it is)
        self.page_size = PAGE_SIZE

    async def control(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """See :meth:`SmsEmulator.control`."""
        import aiohttp

        async with aiohttp.ClientSession() as session:
            return await ControlClient(self._url, session).call(
                method, _control_path(path), json=body, params=params)

    async def advance(self, seconds: float | timedelta) -> dict[str, Any]:
        return await self.control("POST", "/clock/advance", {"seconds": _seconds(seconds)})

    async def now(self) -> datetime:
        return _datetime(await self.now_iso())

    async def now_iso(self) -> str:
        return (await self.control("GET", "/clock"))["now"]

    async def message(self, message_id: str) -> dict[str, Any]:
        return await self.control("GET", f"/messages/{message_id}")

    async def config(self) -> dict[str, Any]:
        return await self.control("GET", "/config")

    async def send_inbound(self, text: str | None = None, *, from_: str, to: str | None = None,
                           provider: str = "telesign", **fields: Any) -> list[dict[str, Any]]:
        document = _inbound(text, from_, to, provider, fields)
        return (await self.control("POST", "/inbound", document))["messages"]

    async def _pages(self, path: str, key: str,
                     filters: dict[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
        body = await self.control("GET", path,
                                  **{"limit": self.page_size, **_filters(filters)})
        yield body[key]
        while body["next"]:
            body = await self.control("GET", body["next"])
            yield body[key]

    async def messages(self, **filters: Any) -> list[dict[str, Any]]:
        return [m async for page in self._pages("/messages", "messages", filters) for m in page]

    async def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        return [d async for page in self._pages("/deliveries", "deliveries", filters)
                for d in page]

    async def journal(self, **filters: Any) -> list[dict[str, Any]]:
        return [e async for page in self._pages("/journal", "entries", filters) for e in page]

    async def wait_for_message(self, *, text: str | None = None, status: Any = None,
                               timeout: float = 5.0, **filters: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            async for page in self._pages("/messages", "messages", dict(filters)):
                for message in page:
                    if _matches(message, text, status):
                        return message
            if time.monotonic() >= deadline:
                raise AssertionError(_no_message(text, status, filters, timeout))
            await asyncio.sleep(POLL_SECONDS)

    async def patch_config(self, patch: dict[str, Any]) -> dict[str, Any]:
        return await self.control("PATCH", "/config", patch)

    async def reset(self, *, seed: int | None = None,
                    now: datetime | str | None = None) -> dict[str, Any]:
        return await self.control("POST", "/reset", _reset_body(seed, now))


def _inbound(text: str | None, sender: str, to: str | None, provider: str,
             fields: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {"provider": provider, "from": sender, **fields}
    if text is not None:
        document["text"] = text
    if to is not None:
        document["to"] = to
    return document


def _no_message(text: str | None, status: Any, filters: dict[str, Any], timeout: float) -> str:
    wanted = {**_filters(dict(filters)), "text": text, "status": status}
    described = ", ".join(f"{k}={v!r}" for k, v in wanted.items() if v is not None)
    return f"no message with {described or 'any content'} within {timeout:g} s"


class SmsEmulator:
    """What a test gets from the ``sms_emulator`` fixture: where the emulator is, the
    credentials a system under test needs, and helpers to drive and inspect it."""

    def __init__(self, url: str, config: dict[str, Any]) -> None:
        self.url = url
        #: base URL for the Telesign SDK's ``rest_endpoint`` and TSG's API
        self.telesign_url = self.tsg_url = url
        telesign = config.get("telesign", {})
        self.telesign_customer_id: str = telesign.get("customer_id", "")
        self.telesign_api_key: str = telesign.get("api_key", "")
        self.tsg_api_key: str = config.get("tsg", {}).get("api_key", "")
        #: items the list helpers ask for per request (they read every page whatever it is)
        self.page_size = PAGE_SIZE
        self.aio = AsyncHelpers(url)

    def control(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """Call the control API and return its JSON answer: ``path`` is relative to
        ``/_emulator`` (``"/clock"``; ``"/_emulator/clock"`` works too), ``body`` is sent as
        JSON, keyword arguments become the query (``None`` left out). A 4xx or 5xx answer raises
        :class:`ControlFailure` with the emulator's message."""
        path = _control_path(path)
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        request = urllib.request.Request(
            f"{self.url}{PREFIX}{path}" + (f"?{query}" if query else ""), method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise ControlFailure(f"{method} {PREFIX}{path} answered {exc.code}: "
                                 f"{exc.read().decode('utf-8', 'replace')}") from None

    def advance(self, seconds: float | timedelta) -> dict[str, Any]:
        """Move the manual clock by ``seconds`` (a number or a ``timedelta``); returns the
        clock document once every webhook that fell due was attempted."""
        return self.control("POST", "/clock/advance", {"seconds": _seconds(seconds)})

    def now(self) -> datetime:
        """The emulated time, a timezone-aware UTC ``datetime``."""
        return _datetime(self.now_iso())

    def now_iso(self) -> str:
        """The emulated time as the control API writes it (``2026-01-01T00:00:05.000000Z``),
        the form of the emulator's timestamps."""
        return self.control("GET", "/clock")["now"]

    def send_inbound(self, text: str | None = None, *, from_: str, to: str | None = None,
                     provider: str = "telesign", **fields: Any) -> list[dict[str, Any]]:
        """An end user sends a message (``channel=...`` and the channel's fields as keywords);
        the stored messages, auto-replies included."""
        document = _inbound(text, from_, to, provider, fields)
        return self.control("POST", "/inbound", document)["messages"]

    def _pages(self, path: str, key: str, filters: dict[str, Any]) -> Iterator[list[Any]]:
        """The pages of a control API list, following ``next`` until there is none."""
        body = self.control("GET", path, **{"limit": self.page_size, **_filters(filters)})
        yield body[key]
        while body["next"]:
            body = self.control("GET", body["next"])
            yield body[key]

    def messages(self, **filters: Any) -> list[dict[str, Any]]:
        """Every matching message, newest first (all pages); filters ``provider``,
        ``direction``, ``to``, ``from_``, ``origin``, ``channel``, ``status``, ``q``,
        ``thread``, ``since`` (as ``GET /_emulator/messages``)."""
        return [m for page in self._pages("/messages", "messages", filters) for m in page]

    def message(self, message_id: str) -> dict[str, Any]:
        """One message (a Telesign reference id or a TSG message id) with its status history
        and webhook deliveries."""
        return self.control("GET", f"/messages/{message_id}")

    def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        """Every matching webhook delivery, newest first (all pages), with every attempt;
        filters ``provider``, ``state``, ``url``, ``message_id``, ``since``."""
        return [d for page in self._pages("/deliveries", "deliveries", filters) for d in page]

    def journal(self, **filters: Any) -> list[dict[str, Any]]:
        """Every matching journal entry, oldest first (all pages); filters ``kind``,
        ``provider``, ``since``."""
        return [e for page in self._pages("/journal", "entries", filters) for e in page]

    def wait_for_message(self, *, text: str | None = None, status: Any = None,
                         timeout: float = 5.0, **filters: Any) -> dict[str, Any]:
        """The newest message matching the filters, ``text`` (a regex, searched) and
        ``status``, waiting up to ``timeout`` real seconds for the system under test to send
        it; fails the test if none comes. It does not move the clock."""
        deadline = time.monotonic() + timeout
        while True:
            for page in self._pages("/messages", "messages", dict(filters)):  # newest first
                for message in page:
                    if _matches(message, text, status):
                        return message
            if time.monotonic() >= deadline:
                raise AssertionError(_no_message(text, status, filters, timeout))
            time.sleep(POLL_SECONDS)

    def config(self) -> dict[str, Any]:
        """The configuration document in use."""
        return self.control("GET", "/config")

    def patch_config(self, patch: dict[str, Any]) -> dict[str, Any]:
        """Deep-merge into the configuration, for this test only; the merged document."""
        return self.control("PATCH", "/config", patch)

    def reset(self, *, seed: int | None = None,
              now: datetime | str | None = None) -> dict[str, Any]:
        """Forget messages, deliveries and the journal and restart the ids from the seed (or a
        new ``seed``); the configuration stays, and so does the clock unless ``now`` (an aware
        ``datetime`` or ISO 8601 text) sets it. The clock document."""
        return self.control("POST", "/reset", _reset_body(seed, now))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sms-emulator")
    group.addoption("--sms-emulator-seed", type=int, default=1,
                    help="seed of the sms_emulator fixture's ids and fake values (default 1)")
    parser.addini("sms_emulator_config", "YAML configuration file for the sms_emulator fixture")


@pytest.fixture(scope="session")
def _sms_emulator_server(pytestconfig: pytest.Config) -> Iterator[tuple[str, dict[str, Any]]]:
    path = pytestconfig.getini("sms_emulator_config")
    document = load_config_file(pytestconfig.rootpath / path) if path else None
    server = _ServerThread(Settings(port=0, clock="manual", start=parse_iso(START),
                                    seed=pytestconfig.getoption("sms_emulator_seed")), document)
    server.start()
    try:
        yield server.url, SmsEmulator(server.url, {}).config()
    finally:
        server.stop()


@pytest.fixture
def sms_emulator(_sms_emulator_server: tuple[str, dict[str, Any]],
                 pytestconfig: pytest.Config) -> SmsEmulator:
    """The emulator, reset for this test: manual clock at 2026-01-01T00:00:00Z, ids from the
    seed, the session's configuration."""
    url, config = _sms_emulator_server
    emulator = SmsEmulator(url, config)
    emulator.control("PUT", "/config", config)
    emulator.control("POST", "/reset", {"seed": pytestconfig.getoption("sms_emulator_seed"),
                                        "now": START})
    return emulator
