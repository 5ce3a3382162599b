"""The scheduler's queue of jobs, by due time.

Jobs due at the same instant are common: on a manual clock every message sent before an
advance has its steps due at the same few instants (a test sends 50,000, then advances). A heap
of every job would pay a push and a pop of ``log n`` tuple comparisons each (about 2 µs with
100,000 queued). Here the heap holds the distinct due times only, and each time the list of its
jobs in queue order, so that queueing a job at an instant already known is a dictionary look-up
and an append, and a whole instant is taken at once. On a real clock nearly every job has a time
of its own, and it costs what the heap did.

The queue only orders; cancelled jobs are skipped by :meth:`JobQueue.take_earliest` and left to
their caller otherwise (:class:`emulator.core.scheduler.Scheduler` checks again before running
one, as an earlier job of the same instant may cancel it).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar


class QueuedJob(Protocol):
    due: float
    cancelled: bool


J = TypeVar("J", bound=QueuedJob)


class JobQueue(Generic[J]):
    def __init__(self) -> None:
        #: the distinct due times, a heap
        self._times: list[float] = []
        #: each due time's jobs, in the order they were queued
        self._jobs: dict[float, list[J]] = {}

    def push(self, job: J) -> None:
        bucket = self._jobs.get(job.due)
        if bucket is None:
            self._jobs[job.due] = [job]
            heapq.heappush(self._times, job.due)
        else:
            bucket.append(job)

    def push_front(self, jobs: list[J]) -> None:
        """Put back ``jobs``, all due at one instant and queued before any job queued at it
        now (the rest of an instant taken by :meth:`take_earliest`), ahead of those."""
        if not jobs:
            return
        due = jobs[0].due
        bucket = self._jobs.get(due)
        if bucket is None:
            self._jobs[due] = list(jobs)
            heapq.heappush(self._times, due)
        else:
            bucket[:0] = jobs

    def take_earliest(self, until: float) -> list[J]:
        """Remove and return the jobs of the earliest instant with one that is not cancelled,
        if that instant is no later than ``until``; those not cancelled, in queue order."""
        times = self._times
        while times and times[0] <= until:
            bucket = self._jobs.pop(heapq.heappop(times))
            live = [job for job in bucket if not job.cancelled]
            if live:
                return live
        return []

    def next_due(self) -> float | None:
        """The earliest instant with a job that is not cancelled; ``None`` when none."""
        times = self._times
        while times:
            bucket = self._jobs[times[0]]
            for n, job in enumerate(bucket):
                if not job.cancelled:
                    del bucket[:n]  # a cancelled prefix is not looked at again
                    return times[0]
            del self._jobs[heapq.heappop(times)]
        return None

    def __iter__(self) -> Iterator[J]:
        """Every queued job, cancelled ones included, in no particular order."""
        for bucket in self._jobs.values():
            yield from bucket

    def clear(self) -> None:
        self._times.clear()
        self._jobs.clear()
