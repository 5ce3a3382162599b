"""Webhook dispatcher: POSTs payloads to the system under test and retries by policy.

A provider hands over a fully built body, a function that makes the (signed) headers for an
attempt, and a :class:`RetryPolicy`. Each attempt runs as a scheduler job, so retries follow the
emulated clock: on a manual clock a three-day retry schedule runs in milliseconds. Every attempt
is kept on the :class:`Delivery` and written to the journal (time, URL, HTTP status or error,
queue wait, latency, next retry, attempt n of max). A delivery ends ``delivered`` or
``exhausted`` with its reason; nothing is dropped silently. A provider may say what caused a
webhook (``cause``: a status change, an inbound message); it is journaled with
``webhook_queued``.

**One receiver never slows another.** Each destination (scheme, host, port) has at most
``webhooks.max_connections_per_host`` attempts in flight (:mod:`~emulator.core.webhook_post`);
more wait their turn, first come first served, and other destinations are not affected. An
attempt's timeout (``webhooks.timeout_seconds``) starts when its connection starts, after the
wait, so an attempt that never got a connection is never recorded as a timeout. ``at`` is the
emulated time the attempt fell due, ``queued_ms`` the real time it waited for its turn and
``latency_ms`` the real time from its connection's start to the end of the answer.

**A wait is waited out, a full queue is not joined.** An attempt that finds a turn within
``webhooks.max_queued_per_host`` (default 1,000) waits for it however long that takes: it is
never dropped or failed for having waited, since each attempt ahead of it ends within one
timeout and the receiver holding them is the cause (the wait shows in ``queued_ms``, and on
the manual clock in how long ``clock/advance`` takes). One that falls due when that many
already wait is not sent: it fails at once with ``not sent: 1000 attempts already waiting for
host:port`` and is retried by its policy like any failure. Without that bound a receiver that
hangs while webhooks keep coming would hold an ever longer queue, and the memory with it. A failed
attempt's retry is timed from when the attempt ended, by the clock: on the manual clock, which
does not move during an attempt, that is ``at`` plus the policy's delay exactly; on a real
clock a retry never falls due early because its attempt waited.

**What counts.** An attempt succeeds when its status passes the policy and its answer was read
to the end. The answer is read up to 64 KiB (all of it is what the provider's answer hook, a
TSG auto-reply, sees); a longer one is cut there without waiting for the rest. The attempt
keeps the first :data:`KEPT_ANSWER_BYTES` of it (``response_body``; ``response_truncated``
says it was longer), so that a store of 100,000 deliveries of up to 18 attempts stays bounded
in bytes whatever the receivers answer. An answer whose status came but whose
body did not end within the timeout, or whose connection broke, is a failed attempt that keeps
its status, with ``error`` saying what went wrong. Redirects are not followed: the 3xx is the
answer, and ``error`` names where it pointed.

**Order.** On the manual clock the attempts of one scheduler wave overlap: the HTTP exchange is
the work handed to :meth:`~emulator.core.scheduler.Scheduler.overlap`, and recording the
attempt, scheduling its retry and the provider's answer hook (a TSG auto-reply) are its
follow-up, run in due order once every job of the wave has run, so journals and
generated ids repeat from run to run whichever receiver answered first.

**Stopping.** When the scheduler stops (server shutdown), an attempt in flight or waiting for
its turn is cancelled and recorded, on the delivery and in the journal, with error
``cancelled: emulator stopping`` (``latency_ms`` null when it never got a connection), and so is
one that fell due as the scheduler stopped. The delivery keeps its state, ``pending`` or
``retrying``, so it counts as pending; nothing is retried and no answer hook runs.

**Other transports.** A delivery's URL scheme picks how it is sent: ``http``/``https`` by
:mod:`~emulator.core.webhook_post`, any other scheme by a :class:`Transport` registered for it
(:meth:`Dispatcher.register`; the SMPP listener registers ``smpp``, whose attempts are
deliver_sm PDUs and whose status is the deliver_sm_resp's command_status). A transport may not
be ready for a URL (no session bound): an attempt falling due then is not made; the delivery
is **held**, keeping its state, with ``reason`` saying what it waits for (journaled once as
``webhook_held``), until the transport calls :meth:`Dispatcher.release`, which makes the attempt
at once. Holding is not failing: it uses up none of the policy's attempts.

**Redelivery.** :meth:`Dispatcher.redeliver` sends a delivery again now, whatever its state,
unless one of its attempts is in flight (:class:`AttemptInFlight`): it becomes ``pending``
again with a new **attempt sequence** (``sequence`` 2 after the first redelivery, ...) whose
attempts are numbered from 1 and get the policy's attempts and delays afresh; the earlier
attempts stay on the delivery. Each attempt's job carries its sequence and does nothing once
the delivery has moved on to another (the old sequence's queued retry is cancelled as well).
The headers are made again for each attempt (a fresh signature and date), and the answer hook
runs again on the new answer (a TSG auto-reply is sent again), as the provider would on a
real redelivery. Journaled as ``webhook_redelivered``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Protocol

from emulator.core.journal import Journal
from emulator.core.paging import DEFAULT_LIMIT, SCAN_BUDGET, Page, matching, take
from emulator.core.records import Records
from emulator.core.retention import Retention
from emulator.core.scheduler import Job, Scheduler, Stopping
from emulator.core.timefmt import iso_micro_z
from emulator.core.webhook_post import Outcome, Poster

HeaderFn = Callable[[bytes, float], dict[str, str]]
ResponseHook = Callable[["Delivery", int, bytes], Awaitable[None]]

DEFAULT_MAX_DELIVERIES = 100_000
#: attempts in flight to one destination unless ``webhooks.max_connections_per_host`` says
DEFAULT_CONNECTIONS_PER_HOST = 64
#: attempts that may wait for a turn at one destination unless ``webhooks.max_queued_per_host``
DEFAULT_QUEUED_PER_HOST = 1000
#: the error of an attempt cut short by the scheduler stopping
CANCELLED = "cancelled: emulator stopping"
#: bytes of a webhook's answer kept on its attempt (and so in the journal and the control API)
KEPT_ANSWER_BYTES = 4096
#: the states of a delivery: pending -> retrying -> delivered | exhausted
DELIVERY_STATES: tuple[str, ...] = ("pending", "retrying", "delivered", "exhausted")


class Transport(Protocol):
    """How deliveries of one URL scheme are sent (see the module's docstring)."""

    def waiting_for(self, url: str) -> str | None:
        """``None`` when an attempt to ``url`` can be made now, else what it waits for."""

    async def send(self, url: str, body: bytes, headers: dict[str, str], timeout: float,
                   outcome: Outcome) -> None:
        """Make one attempt, filling ``outcome`` in as it goes."""

    def describe(self, status: int) -> str:
        """An answer's status in a few words (``deliver_sm_resp ESME_RMSGQFUL``)."""


class AttemptInFlight(RuntimeError):
    """A delivery cannot be redelivered while one of its attempts is under way."""


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
    #: 1, 2, ... within its sequence
    number: int
    at: float
    url: str
    status: int | None = None
    error: str | None = None
    latency_ms: float | None = None
    next_retry_at: float | None = None
    response_body: str = ""
    queued_ms: float = 0.0
    response_truncated: bool = False
    #: the attempt sequence: 1 for the first, one more for each redelivery
    sequence: int = 1
    #: the status in a few words, from a transport other than HTTP
    status_text: str | None = field(default=None, repr=False)

    @property
    def cause(self) -> str:
        """How it went, in a few words: ``HTTP 500``, ``HTTP 302 (redirect to ... not
        followed)``, ``timeout: no answer within 10 s``."""
        if self.status is None:
            return self.error or "no answer"
        said = self.status_text or f"HTTP {self.status}"
        return said + (f" ({self.error})" if self.error else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "sequence": self.sequence,
            "at": iso_micro_z(self.at),
            "url": self.url,
            "status": self.status,
            "error": self.error,
            "queued_ms": self.queued_ms,
            "latency_ms": self.latency_ms,
            "next_retry_at": (None if self.next_retry_at is None
                              else iso_micro_z(self.next_retry_at)),
            "response_body": self.response_body,
            "response_truncated": self.response_truncated,
            "answer": self.status_text,
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
    #: times :meth:`Dispatcher.redeliver` sent it again
    redeliveries: int = 0
    #: the index in ``attempts`` of the current sequence's first attempt
    sequence_start: int = field(default=0, repr=False)
    #: one of its attempts is under way (from its start to its outcome being recorded)
    in_flight: bool = field(default=False, repr=False)
    #: the job of its next attempt, while one is queued
    job: Job | None = field(default=None, repr=False)
    #: its transport was not ready when an attempt fell due (see ``Dispatcher.release``)
    held: bool = field(default=False, repr=False)

    @property
    def done(self) -> bool:
        return self.state in ("delivered", "exhausted")

    @property
    def sequence(self) -> int:
        """The current attempt sequence: 1, then one more for each redelivery."""
        return self.redeliveries + 1

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
            "redeliveries": self.redeliveries,
            "created_at": iso_micro_z(self.created_at),
            "next_attempt_at": (None if self.next_attempt_at is None
                                else iso_micro_z(self.next_attempt_at)),
            "request": {"headers": self.last_headers, "body": self.body.decode("utf-8", "replace")},
            "attempts": [attempt.to_json() for attempt in self.attempts],
        }


class Dispatcher:
    """Queues webhooks and runs their attempts.

    Retention: beyond ``max_deliveries`` (default 100,000) the oldest finished deliveries
    (``delivered`` or ``exhausted``) are evicted in batches, as :class:`~emulator.core.store.Store`
    evicts messages (:mod:`emulator.core.retention`); pending and retrying ones never are.
    """

    def __init__(self, scheduler: Scheduler, journal: Journal,
                 timeout: Callable[[], float] = lambda: 10.0,
                 connections_per_host: Callable[[], int] = lambda: DEFAULT_CONNECTIONS_PER_HOST,
                 queued_per_host: Callable[[], int] = lambda: DEFAULT_QUEUED_PER_HOST,
                 max_deliveries: int = DEFAULT_MAX_DELIVERIES) -> None:
        self.scheduler = scheduler
        self.clock = scheduler.clock
        self.journal = journal
        self._timeout = timeout
        self._deliveries: Records[str, Delivery] = Records(lambda d: d.id, lambda d: d.seq)
        # message id -> its deliveries, oldest first
        self._by_message: dict[str, list[Delivery]] = {}
        # deliveries that were not done when last looked at (see ``pending``)
        self._open: dict[str, Delivery] = {}
        self._ids = itertools.count(1)
        #: the ``seq`` of the newest delivery (0 before the first)
        self.last_seq = 0
        self.retention = Retention("deliveries", max_deliveries, journal)
        self._poster = Poster(connections_per_host, scheduler.waiting, queued_per_host)
        self._transports: dict[str, Transport] = {}
        # url -> deliveries held for it, oldest first
        self._held: dict[str, list[Delivery]] = {}

    def register(self, scheme: str, transport: Transport) -> None:
        """Send deliveries whose URL has ``scheme`` (``smpp``) through ``transport``."""
        self._transports[scheme] = transport

    def _transport(self, url: str) -> Transport | None:
        scheme, _, rest = url.partition("://")
        return self._transports.get(scheme) if rest else None

    def release(self, url: str) -> int:
        """The transport of ``url`` is ready: held deliveries for it are attempted now, oldest
        first. Returns how many."""
        held = self._held.pop(url, [])
        now = self.clock.now()
        for delivery in held:
            delivery.held = False
            delivery.reason = None
            delivery.next_attempt_at = now
            if delivery.job is not None:  # a redelivery's attempt queued meanwhile: one is
                delivery.job.cancel()     # enough
            sequence = delivery.sequence
            delivery.job = self.scheduler.call_at(
                now, lambda d=delivery, s=sequence: self._attempt(d, s),
                f"webhook {delivery.id} released")
        return len(held)

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
        self._keep(delivery)
        self.journal.record("webhook_queued", provider, delivery=delivery.id, webhook=kind,
                            url=url, message_id=message_id, cause=cause,
                            max_attempts=policy.max_attempts)
        delivery.job = self.scheduler.call_at(now, lambda: self._attempt(delivery, 1),
                                              f"webhook {delivery.id}")
        if self.retention.due(len(self._deliveries)):
            self.retention.sweep(self._deliveries, lambda d: d.done, self._evict)
        return delivery

    def _keep(self, delivery: Delivery) -> None:
        """Index a new delivery (by id, by message, as open). A delivery made pending again
        (a redelivery) must come through here too, so that ``pending`` counts it."""
        if delivery.id not in self._deliveries:
            self._deliveries.add(delivery)
            if delivery.message_id is not None:
                self._by_message.setdefault(delivery.message_id, []).append(delivery)
        self._open[delivery.id] = delivery

    def redeliver(self, delivery_id: str) -> Delivery | None:
        """Send a delivery again now as a new attempt sequence (see the module's docstring);
        ``None`` when no delivery has that id. Raises :class:`AttemptInFlight` while one of
        its attempts is under way."""
        delivery = self._deliveries.get(delivery_id)
        if delivery is None:
            return None
        if delivery.in_flight:
            raise AttemptInFlight(f"an attempt of {delivery.id} is in flight; redeliver when "
                                  "it ends")
        if delivery.job is not None:
            delivery.job.cancel()  # the old sequence's retry (it would do nothing anyway)
        now = self.clock.now()
        delivery.redeliveries += 1
        delivery.sequence_start = len(delivery.attempts)
        delivery.state = "pending"
        delivery.reason = None
        delivery.next_attempt_at = now
        self._keep(delivery)
        sequence = delivery.sequence
        self.journal.record("webhook_redelivered", delivery.provider, delivery=delivery.id,
                            webhook=delivery.kind, url=delivery.url,
                            message_id=delivery.message_id, sequence=sequence,
                            max_attempts=delivery.policy.max_attempts)
        delivery.job = self.scheduler.call_at(now, lambda: self._attempt(delivery, sequence),
                                              f"webhook {delivery.id} redelivery")
        return delivery

    def _evict(self, delivery: Delivery) -> None:
        self._deliveries.remove(delivery.id)
        self._open.pop(delivery.id, None)
        if delivery.message_id is not None:
            siblings = self._by_message.get(delivery.message_id, [])
            if delivery in siblings:
                siblings.remove(delivery)
            if not siblings:
                self._by_message.pop(delivery.message_id, None)

    async def _attempt(self, delivery: Delivery, sequence: int) -> None:
        if delivery.done or delivery.sequence != sequence:  # redelivered meanwhile
            return
        delivery.job = None
        now = self.clock.now()
        transport = self._transport(delivery.url)
        waiting = transport.waiting_for(delivery.url) if transport is not None else None
        if waiting is not None:
            self._hold(delivery, waiting)
            return
        attempt = Attempt(number=len(delivery.attempts) - delivery.sequence_start + 1, at=now,
                          url=delivery.url, sequence=sequence)
        delivery.attempts.append(attempt)
        headers = delivery.headers_fn(delivery.body, now) if delivery.headers_fn else {}
        delivery.last_headers = headers
        outcome = Outcome()
        settled = False

        async def post() -> None:
            send = transport.send if transport is not None else self._poster.post
            await send(delivery.url, delivery.body, headers, self._timeout(), outcome)

        async def answered(_: None) -> None:
            nonlocal settled
            settled = True
            if (self._settle(delivery, attempt, outcome) and delivery.on_response is not None
                    and not self.scheduler.stopping):
                await delivery.on_response(delivery, attempt.status or 0, outcome.body)

        def cut_short() -> None:  # never started, or cancelled before it was recorded
            nonlocal settled
            if not settled:
                settled = True
                self._settle(delivery, attempt, outcome, cancelled=True)

        delivery.in_flight = True  # until _settle
        try:
            await self.scheduler.overlap(post, answered, cut_short)
        except (Stopping, asyncio.CancelledError):
            cut_short()
            raise

    def _hold(self, delivery: Delivery, waiting: str) -> None:
        delivery.reason = waiting
        delivery.next_attempt_at = None
        if delivery.held:  # a redelivery of a held delivery: it is in the list already
            return
        delivery.held = True
        self._held.setdefault(delivery.url, []).append(delivery)
        self.journal.record("webhook_held", delivery.provider, delivery=delivery.id,
                            webhook=delivery.kind, url=delivery.url,
                            message_id=delivery.message_id, reason=waiting)

    def _settle(self, delivery: Delivery, attempt: Attempt, outcome: Outcome,
                cancelled: bool = False) -> bool:
        """Put ``outcome`` on the attempt, move the delivery on and journal it; True when
        delivered."""
        delivery.in_flight = False
        attempt.status = outcome.status
        transport = self._transport(delivery.url)
        if transport is not None and outcome.status is not None:
            attempt.status_text = transport.describe(outcome.status)
        if cancelled:
            attempt.error = CANCELLED if self.scheduler.stopping else "cancelled"
        else:
            attempt.error = outcome.error
        attempt.queued_ms = outcome.queued_ms
        attempt.latency_ms = outcome.latency_ms
        attempt.response_body = outcome.body[:KEPT_ANSWER_BYTES].decode("utf-8", "replace")
        attempt.response_truncated = outcome.truncated or len(outcome.body) > KEPT_ANSWER_BYTES
        status = attempt.status
        ok = (not cancelled and status is not None and attempt.error is None
              and delivery.policy.success(status))
        if (not ok and attempt.error is None and status is not None and 300 <= status < 400
                and outcome.location):
            attempt.error = f"redirect to {outcome.location} not followed"
        if cancelled:
            delivery.next_attempt_at = None  # left as it was: pending or retrying, not done
        elif ok:
            delivery.state = "delivered"
            delivery.next_attempt_at = None
        elif attempt.number < delivery.policy.max_attempts:
            delay = delivery.policy.delays[attempt.number - 1]
            # from when the attempt ended: the manual clock has not moved, so at + delay
            attempt.next_retry_at = self.clock.now() + delay
            delivery.state = "retrying"
            delivery.next_attempt_at = attempt.next_retry_at
            sequence = attempt.sequence
            delivery.job = self.scheduler.call_at(
                attempt.next_retry_at, lambda: self._attempt(delivery, sequence),
                f"webhook {delivery.id} retry")
        else:
            delivery.state = "exhausted"
            delivery.next_attempt_at = None
            which = "" if attempt.sequence == 1 else f" of sequence {attempt.sequence}"
            delivery.reason = f"{attempt.number} attempts{which} failed; last: {attempt.cause}"
        self.journal.record("webhook_attempt", delivery.provider, delivery=delivery.id,
                            webhook=delivery.kind, attempt=attempt.to_json(),
                            max_attempts=delivery.policy.max_attempts, state=delivery.state,
                            message_id=delivery.message_id)
        if delivery.state == "exhausted":
            self.journal.record("webhook_exhausted", delivery.provider, delivery=delivery.id,
                                webhook=delivery.kind, url=delivery.url, reason=delivery.reason)
        return ok

    def get(self, delivery_id: str) -> Delivery | None:
        return self._deliveries.get(delivery_id)

    def for_message(self, message_id: str) -> list[Delivery]:
        """The deliveries of one message, newest first."""
        return self._by_message.get(message_id, [])[::-1]

    def busy_for(self, message_id: str) -> bool:
        """Whether a delivery of the message is still pending or retrying."""
        return any(not d.done for d in self._by_message.get(message_id, ()))

    def page(self, provider: str | None = None, state: str | None = None,
             url: str | None = None, message_id: str | None = None, since: int = 0,
             before: int | None = None, limit: int = DEFAULT_LIMIT,
             budget: int = SCAN_BUDGET) -> Page[Delivery]:
        """Deliveries matching every given filter, newest first, queued after ``since`` and
        before ``before`` (both ``seq``; the page's cursor is the next page's ``before``)."""
        keep = matching(provider=provider, state=state, url=url, message_id=message_id)
        if message_id is not None:  # a message has few deliveries: read them alone
            candidates: Iterable[Delivery] = (
                d for d in reversed(self._by_message.get(message_id, []))
                if since < d.seq and (before is None or d.seq < before))
        else:
            candidates = self._deliveries.newest_first(before, since)
        return take(candidates, attrgetter("seq"), limit, keep, budget)

    @property
    def kept(self) -> int:
        """How many deliveries are kept (finished or not)."""
        return len(self._deliveries)

    @property
    def pending(self) -> int:
        """Deliveries pending or retrying. Only those not done when last counted are looked
        at (a delivery never leaves ``delivered``/``exhausted`` by itself), so the count costs
        what is under way, not every delivery kept."""
        done = [key for key, d in self._open.items() if d.done]
        for key in done:
            del self._open[key]
        return len(self._open)

    def clear(self) -> None:
        self._deliveries.clear()
        self._by_message.clear()
        self._open.clear()
        self._held.clear()
        self._ids = itertools.count(1)
        self.last_seq = 0
        self.retention.reset()

    async def close(self) -> None:
        await self._poster.close()
