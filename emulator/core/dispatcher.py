"""Webhook dispatcher: POSTs payloads to the system under test and retries by policy.

A provider hands over a fully built body, a function that makes the (signed) headers for an
attempt, and a :class:`RetryPolicy`. Each attempt runs as a scheduler job, so retries follow the
emulated clock: on a manual clock a three-day retry schedule runs in milliseconds. Every attempt
is kept on the :class:`Delivery` and written to the journal (time, URL, HTTP status or error,
latency, next retry, attempt n of max). A delivery ends ``delivered`` or ``exhausted`` with its
reason; nothing is dropped silently. A provider may say what caused a webhook (``cause``: a
status change, an inbound message); it is journaled with ``webhook_queued``.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from emulator.core.journal import Journal
from emulator.core.scheduler import Scheduler
from emulator.core.timefmt import iso_micro_z

HeaderFn = Callable[[bytes, float], dict[str, str]]
ResponseHook = Callable[["Delivery", int, bytes], Awaitable[None]]

MAX_RESPONSE_BYTES = 64 * 1024
#: the states of a delivery: pending -> retrying -> delivered | exhausted
DELIVERY_STATES: tuple[str, ...] = ("pending", "retrying", "delivered", "exhausted")


@dataclass(frozen=True)
class RetryPolicy:
    """``delays[i]`` is the wait after failed attempt ``i + 1``; attempts = len(delays) + 1."""

    name: str
    delays: Sequence[float]
    success: Callable[[int], bool] = lambda status: status == 200

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1


@dataclass
class Attempt:
    number: int
    at: float
    url: str
    status: int | None = None
    error: str | None = None
    latency_ms: float | None = None
    next_retry_at: float | None = None
    response_body: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "at": iso_micro_z(self.at),
            "url": self.url,
            "status": self.status,
            "error": self.error,
            "latency_ms": self.latency_ms,
            "next_retry_at": (None if self.next_retry_at is None
                              else iso_micro_z(self.next_retry_at)),
            "response_body": self.response_body,
        }


@dataclass
class Delivery:
    id: str
    seq: int
    provider: str
    kind: str
    url: str
    body: bytes
    policy: RetryPolicy
    created_at: float
    message_id: str | None = None
    state: str = "pending"  # one of DELIVERY_STATES
    attempts: list[Attempt] = field(default_factory=list)
    next_attempt_at: float | None = None
    reason: str | None = None
    headers_fn: HeaderFn | None = field(default=None, repr=False)
    on_response: ResponseHook | None = field(default=None, repr=False)
    last_headers: dict[str, str] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.state in ("delivered", "exhausted")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seq": self.seq,
            "provider": self.provider,
            "kind": self.kind,
            "url": self.url,
            "message_id": self.message_id,
            "state": self.state,
            "reason": self.reason,
            "policy": self.policy.name,
            "max_attempts": self.policy.max_attempts,
            "created_at": iso_micro_z(self.created_at),
            "next_attempt_at": (None if self.next_attempt_at is None
                                else iso_micro_z(self.next_attempt_at)),
            "request": {"headers": self.last_headers, "body": self.body.decode("utf-8", "replace")},
            "attempts": [attempt.to_json() for attempt in self.attempts],
        }


def describe_error(exc: BaseException, timeout: float) -> str:
    """A short, stable cause for a failed attempt."""
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return f"timeout: no answer within {timeout:g} s"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"connection failed: {exc.os_error or exc}"
    if isinstance(exc, aiohttp.InvalidURL):
        return f"invalid URL: {exc}"
    if isinstance(exc, aiohttp.ClientError):
        return f"{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}"


class Dispatcher:
    def __init__(self, scheduler: Scheduler, journal: Journal,
                 timeout: Callable[[], float] = lambda: 10.0) -> None:
        self.scheduler = scheduler
        self.clock = scheduler.clock
        self.journal = journal
        self._timeout = timeout
        self._deliveries: dict[str, Delivery] = {}
        self._ids = itertools.count(1)
        #: the ``seq`` of the newest delivery (0 before the first)
        self.last_seq = 0
        self._session: aiohttp.ClientSession | None = None

    def submit(self, *, provider: str, kind: str, url: str, body: bytes, policy: RetryPolicy,
               headers: HeaderFn, message_id: str | None = None,
               on_response: ResponseHook | None = None, cause: str | None = None) -> Delivery:
        """Queue a webhook; its first attempt falls due now. ``cause``: what fired it, in a
        few words (``status 200 Delivered``), for the journal."""
        now = self.clock.now()
        seq = self.last_seq = next(self._ids)
        delivery = Delivery(
            id=f"D{seq:06d}", seq=seq, provider=provider, kind=kind, url=url, body=body,
            policy=policy, created_at=now, message_id=message_id, next_attempt_at=now,
            headers_fn=headers, on_response=on_response,
        )
        self._deliveries[delivery.id] = delivery
        self.journal.record("webhook_queued", provider, delivery=delivery.id, webhook=kind,
                            url=url, message_id=message_id, cause=cause,
                            max_attempts=policy.max_attempts)
        self.scheduler.call_at(now, lambda: self._attempt(delivery), f"webhook {delivery.id}")
        return delivery

    async def _session_for_attempts(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True),
                auto_decompress=True,
            )
        return self._session

    async def _attempt(self, delivery: Delivery) -> None:
        if delivery.done:
            return
        now = self.clock.now()
        attempt = Attempt(number=len(delivery.attempts) + 1, at=now, url=delivery.url)
        delivery.attempts.append(attempt)
        headers = delivery.headers_fn(delivery.body, now) if delivery.headers_fn else {}
        delivery.last_headers = headers
        timeout = self._timeout()
        session = await self._session_for_attempts()
        started = time.perf_counter()
        body_bytes = b""
        try:
            async with session.post(delivery.url, data=delivery.body, headers=headers,
                                    timeout=aiohttp.ClientTimeout(total=timeout),
                                    allow_redirects=False) as response:
                attempt.status = response.status
                body_bytes = await response.content.read(MAX_RESPONSE_BYTES)
        except Exception as exc:  # every failure is recorded with its cause, never raised
            attempt.error = describe_error(exc, timeout)
        attempt.latency_ms = round((time.perf_counter() - started) * 1000, 3)
        attempt.response_body = body_bytes.decode("utf-8", "replace")

        ok = attempt.status is not None and delivery.policy.success(attempt.status)
        if ok:
            delivery.state = "delivered"
            delivery.next_attempt_at = None
        elif attempt.number < delivery.policy.max_attempts:
            delay = delivery.policy.delays[attempt.number - 1]
            attempt.next_retry_at = now + delay
            delivery.state = "retrying"
            delivery.next_attempt_at = attempt.next_retry_at
            self.scheduler.call_at(attempt.next_retry_at, lambda: self._attempt(delivery),
                                   f"webhook {delivery.id} retry")
        else:
            delivery.state = "exhausted"
            delivery.next_attempt_at = None
            last = f"HTTP {attempt.status}" if attempt.status is not None else attempt.error
            delivery.reason = f"{attempt.number} attempts failed; last: {last}"
        self.journal.record("webhook_attempt", delivery.provider, delivery=delivery.id,
                            webhook=delivery.kind, attempt=attempt.to_json(),
                            max_attempts=delivery.policy.max_attempts, state=delivery.state,
                            message_id=delivery.message_id)
        if delivery.state == "exhausted":
            self.journal.record("webhook_exhausted", delivery.provider, delivery=delivery.id,
                                webhook=delivery.kind, url=delivery.url, reason=delivery.reason)
        if ok and delivery.on_response is not None:
            await delivery.on_response(delivery, attempt.status or 0, body_bytes)

    def get(self, delivery_id: str) -> Delivery | None:
        return self._deliveries.get(delivery_id)

    def list(self, provider: str | None = None, state: str | None = None,
             url: str | None = None, message_id: str | None = None,
             since: int = 0) -> list[Delivery]:
        """Deliveries matching every given filter (``since``: queued after that ``seq``),
        newest first."""
        found = [
            d for d in self._deliveries.values()
            if d.seq > since
            and (provider is None or d.provider == provider)
            and (state is None or d.state == state)
            and (url is None or d.url == url)
            and (message_id is None or d.message_id == message_id)
        ]
        found.reverse()
        return found

    @property
    def pending(self) -> int:
        return sum(1 for d in self._deliveries.values() if not d.done)

    def clear(self) -> None:
        self._deliveries.clear()
        self._ids = itertools.count(1)
        self.last_seq = 0

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
