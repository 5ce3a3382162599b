"""Builds the aiohttp application from :class:`~emulator.config.Settings` and a configuration
document: the core services, every provider plugin's routes and the control API.

A middleware turns framework errors (unknown path, wrong method, body too large) into the error
format of whichever API the path belongs to, and any unexpected exception into a logged JSON
error, so no request ever gets an HTML page or a traceback. It also applies the control API's
guard (:mod:`emulator.control.guard`: Host, Origin, token, Content-Type) before any handler
reads a body.
"""

from __future__ import annotations

import logging
from time import perf_counter
from typing import Any

from aiohttp import web

from emulator.config import CORE_DEFAULTS, Config, Settings, deep_merge
from emulator.control.events import EVENT_STREAMS, EventStreams
from emulator.control.guard import Guard, Refusal
from emulator.control.routes import PREFIX as CONTROL_PREFIX
from emulator.control.routes import build_routes as control_routes
from emulator.control.routes import control_error
from emulator.control.vocabulary import build_route as vocabulary_route
from emulator.core.clock import make_clock
from emulator.core.context import Context
from emulator.core.dispatcher import Dispatcher
from emulator.core.journal import Journal
from emulator.core.rng import SeededRandom
from emulator.core.scheduler import Scheduler
from emulator.core.store import Store
from emulator.inbox.routes import build_routes as inbox_routes
from emulator.media_type import media_type
from emulator.providers import discover
from emulator.providers.base import API_DETAIL, Provider, takes_submissions
from emulator.smpp import accounts as smpp_accounts
from emulator.smpp.listener import SmppServer
from emulator.smpp.routes import build_routes as smpp_routes

log = logging.getLogger("sms_emulator")

CONTEXT = web.AppKey("context", Context)
PROVIDERS = web.AppKey("providers", dict)
SMPP = web.AppKey("smpp", SmppServer)

#: the largest request body accepted (Telesign messages are at most 1600 characters)
MAX_BODY_BYTES = 1024 * 1024
#: the most paths whose owner the middleware remembers (a client may ask for any path)
MAX_OWNERS_KNOWN = 4096


def _core_checks(provider_classes: list[type[Provider]]):
    def check_lifecycle(section: dict[str, Any]) -> list[str]:
        problems = []
        for r, rule in enumerate(section.get("rules", [])):
            named = rule.get("provider")
            candidates = [p for p in provider_classes if named in (None, p.name)]
            if named is not None and not candidates:
                problems.append(f"rules.{r}.provider: unknown provider {named!r}")
                continue
            for s, step in enumerate(rule["steps"]):
                if not any(p.accepts_status(step["status"]) for p in candidates):
                    whose = named or "any provider"
                    problems.append(f"rules.{r}.steps.{s}.status: {step['status']!r} is not a "
                                    f"status of {whose}")
        return problems

    return {"lifecycle": check_lifecycle}


def build_config(document: dict[str, Any] | None = None) -> Config:
    provider_classes = discover()
    defaults = dict(CORE_DEFAULTS)
    section_schemas = {"webhooks": "core/config-webhooks", "lifecycle": "core/config-lifecycle"}
    checks = _core_checks(provider_classes)
    for cls in provider_classes:
        defaults[cls.name] = cls.default_config()
        section_schemas[cls.name] = cls.config_schema()
        checks[cls.name] = cls.check_config
    smpp_providers = [cls.name for cls in provider_classes if takes_submissions(cls)]
    defaults["smpp"] = smpp_accounts.default_config(smpp_providers)
    section_schemas["smpp"] = "smpp/config"
    checks["smpp"] = lambda section: smpp_accounts.check(section, smpp_providers)
    config = Config(defaults, section_schemas, checks)
    if document:
        config.patch(document)
    return config


def build_context(settings: Settings, config: Config) -> Context:
    clock = make_clock(settings.clock, settings.speed, settings.start)
    journal = Journal(clock, max_entries=settings.journal_max_entries,
                      max_bytes=settings.journal_max_bytes,
                      max_field_bytes=settings.journal_max_field_bytes)
    scheduler = Scheduler(clock, on_error=lambda label, exc: journal.record(
        "job_error", None, job=label, error=f"{type(exc).__name__}: {exc}"))
    dispatcher = Dispatcher(scheduler, journal,
                            timeout=lambda: float(config.section("webhooks")["timeout_seconds"]),
                            connections_per_host=lambda: int(
                                config.section("webhooks")["max_connections_per_host"]),
                            queued_per_host=lambda: int(
                                config.section("webhooks")["max_queued_per_host"]),
                            max_deliveries=settings.max_deliveries)
    store = Store(journal, max_messages=settings.max_messages, busy=dispatcher.busy_for)
    return Context(settings=settings, config=config, clock=clock, scheduler=scheduler,
                   store=store, journal=journal, dispatcher=dispatcher,
                   rng=SeededRandom(settings.seed))


def owner_of(providers: dict[str, Provider], path: str) -> Provider | None:
    """The provider whose API ``path`` belongs to: the one with the longest matching prefix, so
    that one provider can own a path under another's (``/v1/sms/`` under ``/v1/``)."""
    best: tuple[int, Provider | None] = (-1, None)
    for provider in providers.values():
        length = provider.owned_prefix_length(path)
        if length > best[0]:
            best = (length, provider)
    return best[1]


def _client_gone(request: web.Request) -> bool:
    """Whether the client of ``request`` has closed its connection."""
    transport = request.transport
    return transport is None or transport.is_closing()


def _middleware(providers: dict[str, Provider], ctx: Context, guard: Guard):
    """One layer around every handler, for speed:

    - a request that is not for a provider API passes the :class:`Guard` first (the Host of
      every such path; Origin, token and Content-Type under ``/_emulator``); a refusal is
      journaled as ``control_refused`` and no handler runs;
    - framework errors (unknown path, wrong method, body too large) become the error format of
      the API the path belongs to, and an unexpected exception a logged JSON error, so no
      request ever gets an HTML page or a traceback;
    - a client that goes away in the middle of its request (a body cut short) is a client
      event, not an error of ours: one ``client_disconnected`` journal entry (one log line),
      no traceback, no ``api_call``;
    - every call to a provider API is journaled as ``api_call``: method, path, query, content
      type, body, the answer's status and body and ``latency_ms`` (from the request's arrival
      at the middleware to the answer being ready, not counting the socket write), whatever the
      answer was, plus the detail the provider put on the answer with
      :func:`~emulator.providers.base.annotate` (``code``, ``reason``, ``note``,
      ``message_ids``). This is how scenario expectations and the log lines see what the
      system under test asked of a provider. Bodies are kept as bytes and decoded only when
      the journal is read.
    """

    def formatted(provider: Provider | None, path: str, status: int,
                  reason: str) -> web.Response:
        if provider is not None:
            return provider.error_response(status, reason)
        if path.startswith(CONTROL_PREFIX):
            return control_error(status, f"{reason}: {path}")
        return web.json_response({"error": reason, "path": path}, status=status)

    def refused(request: web.Request, refusal: Refusal) -> web.Response:
        ctx.journal.record("control_refused", None, method=request.method, path=request.path,
                           status=refusal.status, field=refusal.field, reason=refusal.reason)
        if request.path.startswith(CONTROL_PREFIX):
            response = control_error(refusal.status, refusal.message, refusal.field)
        else:
            response = web.json_response({"error": refusal.message, "path": request.path},
                                         status=refusal.status)
        if refusal.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="sms-emulator control API"'
        return response

    owners: dict[str, Provider | None] = {}  # the owner of each path seen (bounded)

    def owner(path: str) -> Provider | None:
        try:
            return owners[path]
        except KeyError:
            found = owner_of(providers, path)
            if len(owners) < MAX_OWNERS_KNOWN:
                owners[path] = found
            return found

    @web.middleware
    async def middleware(request: web.Request, handler) -> web.StreamResponse:
        started = perf_counter()
        provider = owner(request.path)
        if provider is None:
            refusal = guard.check_host(request)
            if refusal is None and request.path.startswith(CONTROL_PREFIX):
                refusal = guard.check_control(request)
            if refusal is not None:
                return refused(request, refusal)
        body = b""
        response: web.StreamResponse | None = None
        try:
            if provider is not None:
                body = await request.read()
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = formatted(provider, request.path, exc.status, exc.reason)
        except Exception as exc:
            if isinstance(exc, ConnectionError) and _client_gone(request):
                ctx.journal.record("client_disconnected", provider and provider.name,
                                   method=request.method, path=request.path,
                                   error=str(exc) or type(exc).__name__)
                return web.Response(status=400)  # nobody is left to read it
            # a bug of ours; still answer in the API's own format
            log.exception("unhandled error on %s %s", request.method, request.path)
            ctx.journal.record("internal_error", None, method=request.method, path=request.path,
                               error=f"{type(exc).__name__}: {exc}")
            response = formatted(provider, request.path, 500, "Internal error")
        if provider is not None:
            answer = response.body if isinstance(response, web.Response) else None
            extra = response.get(API_DETAIL)
            ctx.journal.record(
                "api_call", provider.name, method=request.method, path=request.path,
                query=request.query_string, content_type=media_type(request), body=body,
                status=response.status, response=answer if isinstance(answer, bytes) else None,
                latency_ms=round((perf_counter() - started) * 1000, 3), **(extra or {}))
        return response

    return middleware


def build_app(settings: Settings | None = None,
              config_document: dict[str, Any] | None = None) -> web.Application:
    settings = settings or Settings()
    config = build_config(config_document)
    ctx = build_context(settings, config)
    providers = {cls.name: cls(ctx) for cls in discover()}

    smpp = SmppServer(ctx, providers)

    def reset() -> None:
        smpp.reset()
        ctx.scheduler.clear()
        ctx.dispatcher.clear()
        ctx.store.clear()
        ctx.journal.clear()
        ctx.rng.reseed()
        for provider in providers.values():
            provider.reset()

    guard = Guard(bound_host=settings.host, allow_hosts=settings.allow_hosts,
                  token=settings.control_token)
    app = web.Application(middlewares=[_middleware(providers, ctx, guard)],
                          client_max_size=MAX_BODY_BYTES)
    app[CONTEXT] = ctx
    app[PROVIDERS] = providers
    app[SMPP] = smpp
    for provider in providers.values():
        app.add_routes(provider.routes())
        app.add_routes(provider.control_routes(f"{CONTROL_PREFIX}/{provider.name}"))
    app.add_routes(control_routes(ctx, providers, [reset]))
    app.add_routes([vocabulary_route(CONTROL_PREFIX, providers)])
    app.add_routes(inbox_routes())
    app.add_routes(smpp_routes(f"{CONTROL_PREFIX}/smpp", smpp))
    streams = app[EVENT_STREAMS] = EventStreams(
        ctx.journal, providers, heartbeat=settings.events_heartbeat_seconds,
        queue_limit=settings.events_queue_limit)
    app.add_routes([web.get(f"{CONTROL_PREFIX}/events", streams.handle, allow_head=False)])

    async def on_startup(app: web.Application) -> None:
        ctx.scheduler.start()
        if settings.smpp_port is not None:
            await smpp.start(settings.host, settings.smpp_port)

    async def on_shutdown(app: web.Application) -> None:
        await smpp.stop()
        await streams.close()  # before aiohttp waits for the requests in flight to end

    async def on_cleanup(app: web.Application) -> None:
        await ctx.scheduler.stop()
        await ctx.dispatcher.close()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app


def merge_documents(*documents: dict[str, Any] | None) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for document in documents:
        if document:
            merged = deep_merge(merged, document)
    return merged
