"""The attempts a worker holds between claim and finish: ready (claimed, not yet started) and
running, at most `concurrency` of them running at once.

Ready attempts are heartbeated like running ones and start the moment a slot frees. At shutdown
ready attempts still start (they are claimed) and finish within the deadline like running ones;
once `close()` is called nothing starts any more.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Coroutine
from typing import Any

from ringq.types import ClaimedJob
from ringq.worker.heartbeat import Attempt


def attempt_of(job: ClaimedJob) -> Attempt:
    return (job.job_id, job.run_lease)


class Slots:
    def __init__(
        self,
        concurrency: int,
        execute: Callable[[ClaimedJob], Coroutine[Any, Any, None]],
        on_change: Callable[[int], None],
    ) -> None:
        self.concurrency = concurrency
        self._execute = execute
        self._on_change = on_change  # called with the number running after each start and finish
        self.running: dict[Attempt, asyncio.Task[None]] = {}
        self.ready: collections.deque[ClaimedJob] = collections.deque()
        self.lost: set[Attempt] = set()  # running attempts cancelled because the database closed them
        self.closed = False  # set at the end of shutdown: ready attempts stay unstarted

    def __len__(self) -> int:
        """Attempts held: running plus ready."""
        return len(self.running) + len(self.ready)

    def add(self, jobs: list[ClaimedJob]) -> None:
        self.ready.extend(jobs)
        self.fill()

    def fill(self) -> None:
        """Start ready attempts while slots are free."""
        while self.ready and len(self.running) < self.concurrency and not self.closed:
            job = self.ready.popleft()
            task = asyncio.create_task(self._execute(job), name=f"ringq-job-{job.job_id}")
            self.running[attempt_of(job)] = task
            self._on_change(len(self.running))

    def finished(self, attempt: Attempt) -> None:
        """A running attempt's task is done: free its slot and start the next ready one."""
        self.running.pop(attempt, None)
        self.fill()
        self._on_change(len(self.running))

    def attempts(self) -> list[Attempt]:
        """Every attempt held here, ready ones first."""
        return [attempt_of(j) for j in self.ready] + list(self.running)

    def drop_ready(self, gone: set[Attempt]) -> int:
        """Forget ready attempts in `gone` (closed in the database); returns how many."""
        if not any(attempt_of(j) in gone for j in self.ready):
            return 0
        kept = [j for j in self.ready if attempt_of(j) not in gone]
        dropped = len(self.ready) - len(kept)
        self.ready = collections.deque(kept)
        return dropped

    def cancel_lost(self, gone: list[Attempt]) -> int:
        """Cancel running attempts the database says are closed; returns how many were newly lost."""
        newly = 0
        for attempt in gone:
            task = self.running.get(attempt)
            if task is not None and attempt not in self.lost:
                self.lost.add(attempt)
                task.cancel()
                newly += 1
        return newly

    def was_lost(self, attempt: Attempt) -> bool:
        """True (once) when the attempt was cancelled because its lease was lost."""
        if attempt in self.lost:
            self.lost.discard(attempt)
            return True
        return False

    def close(self) -> tuple[list[asyncio.Task[None]], int]:
        """Start nothing more: returns the tasks still running and how many ready attempts were
        left unstarted (left open in the database, rescued after their lease)."""
        self.closed = True
        unstarted = len(self.ready)
        self.ready.clear()
        return list(self.running.values()), unstarted
