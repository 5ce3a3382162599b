"""Handlers of the ``/_emulator`` control API (contract in DESIGN.md).

All answers are JSON. Errors are ``{"error": message, "field": name-or-null}`` with a 4xx
status; a message always names the field at fault. Lists are paged (:mod:`.paging`): each
answer holds at most ``limit`` items and ``next``, the path of the following page.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from aiohttp import web

from emulator import __version__
from emulator.config import ConfigError
from emulator.control import conversations, paging, selection
from emulator.core import strictjson
from emulator.core.clock import ManualClock
from emulator.core.context import Context
from emulator.core.dispatcher import AttemptInFlight
from emulator.core.scheduler import AdvanceBusy
from emulator.core.timefmt import in_range, iso_micro_z, parse_iso
from emulator.providers.base import InboundError, Provider
from emulator.schema_messages import show

PREFIX = "/_emulator"
#: the filters of ``GET /_emulator/conversations``: they pick the messages that count
CONVERSATION_FILTERS = ("provider", "channel", "direction", "status", "origin", "q")
#: the longest single advance: ten years of emulated time
MAX_ADVANCE_SECONDS = 10 * 365 * 86400


class ControlError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def control_error(status: int, message: str, field: str | None = None) -> web.Response:
    return web.json_response({"error": message, "field": field}, status=status)


async def _json_object(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        document = strictjson.loads(raw)
    except strictjson.NotStandardJson as exc:  # NaN, Infinity, a lone surrogate
        where = f"{exc.field}: " if exc.field else ""
        raise ControlError(400, f"the body is not valid JSON: {where}{exc}", exc.field) from None
    except ValueError as exc:
        raise ControlError(400, f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ControlError(400, "the body is nested too deeply to read") from None
    if not isinstance(document, dict):
        raise ControlError(400, "the body must be a JSON object")
    return document


def _filters(request: web.Request, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: request.query[name] for name in names if name in request.query}


def _paged(request: web.Request) -> tuple[paging.PageQuery, int]:
    """The page (``limit``, ``cursor``) and ``since`` asked for; a bad one is a 400 naming it."""
    try:
        return paging.page_query(request), paging.since(request)
    except paging.BadQuery as exc:
        raise ControlError(400, str(exc), exc.field) from None


def _selection(request: web.Request, names: tuple[str, ...]) -> selection.Selection:
    try:
        return selection.parse(request.query, names)
    except paging.BadQuery as exc:
        raise ControlError(400, str(exc), exc.field) from None


def build_routes(ctx: Context, providers: dict[str, Provider],
                 reset_hooks: list[Callable[[], None]]) -> list[web.AbstractRouteDef]:
    def guarded(handler):
        async def wrapper(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except ControlError as exc:
                return control_error(exc.status, exc.message, exc.field)

        return wrapper

    async def health(request: web.Request) -> web.Response:
        retention = {"messages": ctx.store.retention.describe(len(ctx.store)),
                     "deliveries": ctx.dispatcher.retention.describe(ctx.dispatcher.kept),
                     "journal": ctx.journal.retention()}
        return web.json_response({"status": "ok", "version": __version__,
                                  "providers": sorted(providers), "retention": retention})

    async def list_messages(request: web.Request) -> web.Response:
        chosen = _selection(request, selection.NAMES)
        query, since = _paged(request)
        page = ctx.store.page(since=since, before=query.cursor, limit=query.limit,
                              where=chosen.test())
        return web.json_response({"messages": [m.to_json() for m in page.items],
                                  "next": paging.next_link(request, page.cursor)})

    async def list_conversations(request: web.Request) -> web.Response:
        chosen = _selection(request, CONVERSATION_FILTERS)
        try:
            query = paging.page_query(request)
        except paging.BadQuery as exc:
            raise ControlError(400, str(exc), exc.field) from None
        found = conversations.page(ctx.store.newest_first(), chosen.test(), query.cursor,
                                   query.limit)
        return web.json_response({"conversations": [t.to_json() for t in found.threads],
                                  "total": found.total, "facets": found.facets,
                                  "next": paging.next_link(request, found.cursor)})

    async def get_message(request: web.Request) -> web.Response:
        message = ctx.store.get(request.match_info["id"])
        if message is None:
            raise ControlError(404, f"no message with id {show(request.match_info['id'])}", "id")
        found = message.to_json()
        found["deliveries"] = [d.to_json() for d in ctx.dispatcher.for_message(message.id)]
        return web.json_response(found)

    async def inbound(request: web.Request) -> web.Response:
        document = await _json_object(request)
        name = document.get("provider")
        if not isinstance(name, str) or not name:
            raise ControlError(400, "provider is required (one of: "
                               + ", ".join(sorted(providers)) + ")", "provider")
        if name not in providers:
            raise ControlError(400, f"unknown provider {show(name)} (one of: "
                               + ", ".join(sorted(providers)) + ")", "provider")
        try:
            messages = await providers[name].inbound(document)
        except InboundError as exc:  # "from: is required": the message names its field
            raise ControlError(400, str(exc), exc.field) from None
        await ctx.scheduler.settle()
        return web.json_response({"messages": [m.to_json() for m in messages]}, status=201)

    async def list_deliveries(request: web.Request) -> web.Response:
        filters = _filters(request, ("provider", "state", "url", "message_id"))
        query, since = _paged(request)
        page = ctx.dispatcher.page(**filters, since=since, before=query.cursor,
                                   limit=query.limit)
        return web.json_response({"deliveries": [d.to_json() for d in page.items],
                                  "next": paging.next_link(request, page.cursor)})

    async def get_delivery(request: web.Request) -> web.Response:
        delivery = ctx.dispatcher.get(request.match_info["id"])
        if delivery is None:
            raise ControlError(404, f"no delivery with id {show(request.match_info['id'])}", "id")
        return web.json_response(delivery.to_json())

    async def redeliver(request: web.Request) -> web.Response:
        """Send a delivery again now, as a new attempt sequence; on a manual clock its first
        attempt has been made when the answer comes (as for ``inbound``). No body, or ``{}``."""
        document = await _json_object(request)
        if document:
            name = sorted(document)[0]
            raise ControlError(400, f"unknown field {show(name)} (redeliver takes no body)",
                               name)
        try:
            delivery = ctx.dispatcher.redeliver(request.match_info["id"])
        except AttemptInFlight as exc:
            raise ControlError(409, str(exc), "id") from None
        if delivery is None:
            raise ControlError(404, f"no delivery with id {show(request.match_info['id'])}", "id")
        await ctx.scheduler.settle()
        return web.json_response(delivery.to_json())

    async def journal(request: web.Request) -> web.Response:
        """Oldest first; the cursor is a lower bound like ``since`` (the later of the two
        applies)."""
        query, since = _paged(request)
        page = ctx.journal.page(kind=request.query.get("kind"),
                                provider=request.query.get("provider"),
                                since=max(since, query.cursor or 0), limit=query.limit)
        return web.json_response({"entries": [e.to_json() for e in page.items],
                                  "dropped": ctx.journal.dropped,
                                  "next": paging.next_link(request, page.cursor)})

    def clock_state() -> dict[str, Any]:
        state = ctx.clock.describe()
        state["pending_jobs"] = ctx.scheduler.pending
        state["pending_deliveries"] = ctx.dispatcher.pending
        next_due = ctx.scheduler.next_due()
        state["next_due"] = None if next_due is None else iso_micro_z(next_due)
        # where each sequence stands: pass one as ``since`` to see only what comes after
        state["cursor"] = {"journal": ctx.journal.last_seq, "messages": ctx.store.last_seq,
                           "deliveries": ctx.dispatcher.last_seq}
        return state

    async def get_clock(request: web.Request) -> web.Response:
        return web.json_response(clock_state())

    async def advance(request: web.Request) -> web.Response:
        document = await _json_object(request)
        if not isinstance(ctx.clock, ManualClock):
            raise ControlError(409, f"the clock is {ctx.clock.mode}; only a manual clock can be "
                               "advanced (start the emulator with --clock manual)")
        seconds = document.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ControlError(400, "seconds is required and must be a number", "seconds")
        # bounds first: math.isfinite overflows on an int too large for a float
        if not 0 <= seconds <= MAX_ADVANCE_SECONDS or not math.isfinite(seconds):
            raise ControlError(400, f"seconds must be between 0 and {MAX_ADVANCE_SECONDS}",
                               "seconds")
        if not in_range(ctx.clock.now() + seconds):
            raise ControlError(400, "seconds would move the clock past the year 9000", "seconds")
        try:
            ran = await ctx.scheduler.advance(float(seconds), started=lambda target: (
                ctx.journal.record("clock_advanced", None, seconds=seconds,
                                   to=iso_micro_z(target))))
        except AdvanceBusy as exc:
            raise ControlError(409, str(exc)) from None
        return web.json_response({**clock_state(), "jobs_run": ran})

    async def get_config(request: web.Request) -> web.Response:
        return web.json_response(ctx.config.document)

    async def change_config(request: web.Request) -> web.Response:
        """PATCH deep-merges the body in; PUT makes it the whole document (over the
        defaults)."""
        document = await _json_object(request)
        change = ctx.config.patch if request.method == "PATCH" else ctx.config.replace
        try:
            updated = change(document)
        except ConfigError as exc:
            field = exc.problems[0].split(":", 1)[0] if exc.problems else None
            raise ControlError(400, exc.summary(), field) from None
        kind = "config_patched" if request.method == "PATCH" else "config_replaced"
        ctx.journal.record(kind, None, keys=sorted(document))
        return web.json_response(updated)

    async def reset(request: web.Request) -> web.Response:
        """Optional body: ``{"seed": N}`` restarts the id sequence from a new seed and, on a
        manual clock, ``{"now": ISO 8601}`` sets the emulated time (backwards too), so a scenario
        can run reproducibly on an emulator that is already running."""
        document = await _json_object(request)
        seed = document.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                                 or seed < 0):
            raise ControlError(400, "seed must be a whole number >= 0", "seed")
        now = None
        if document.get("now") is not None:
            if not isinstance(ctx.clock, ManualClock):
                raise ControlError(409, f"the clock is {ctx.clock.mode}; only a manual clock can "
                                   "be set", "now")
            now = parse_iso(document["now"])
            if now is None or not in_range(now):
                raise ControlError(400, "now must be an ISO 8601 time with a zone between 1970 "
                                   "and 9000, e.g. 2026-01-01T00:00:00Z", "now")
        unknown = sorted(set(document) - {"seed", "now"})
        if unknown:
            raise ControlError(400, f"unknown field {show(unknown[0])} (known: seed, now)",
                               unknown[0])
        for hook in reset_hooks:
            hook()
        if seed is not None:
            ctx.rng.reseed(seed)
        if now is not None:
            ctx.clock.restart_at(now)
        ctx.journal.record("reset", None, seed=ctx.rng.seed,
                           now=None if now is None else iso_micro_z(now))
        return web.json_response({"status": "reset", "seed": ctx.rng.seed, **clock_state()})

    routes = [
        ("GET", "/health", health),
        ("GET", "/messages", list_messages),
        ("GET", "/messages/{id}", get_message),
        ("GET", "/conversations", list_conversations),
        ("POST", "/inbound", inbound),
        ("GET", "/deliveries", list_deliveries),
        ("GET", "/deliveries/{id}", get_delivery),
        ("POST", "/deliveries/{id}/redeliver", redeliver),
        ("GET", "/journal", journal),
        ("GET", "/clock", get_clock),
        ("POST", "/clock/advance", advance),
        ("GET", "/config", get_config),
        ("PATCH", "/config", change_config),
        ("PUT", "/config", change_config),
        ("POST", "/reset", reset),
    ]
    return [web.route(method, PREFIX + path, guarded(handler)) for method, path, handler in routes]
