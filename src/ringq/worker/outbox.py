"""Buffered attempt closures: completions go to the database in one `complete_many` transaction
per flush, failures in one `fail_many`.

Batching is what makes the hot path cheap (one commit for many jobs). A flush that dies with the
connection is ambiguous — it may have committed — so items stay buffered and are sent again; on
the retry an `AttemptClosed` whose closure is the one we asked for means "already done", not an
error. Anything else that is closed was lost to another closer (rescue, cancel): the result is
discarded and logged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg

from ringq.backoff import reconnect_delay
from ringq.errors import AttemptClosed, RingqError
from ringq.logs import get_logger
from ringq.types import ClaimedJob, Completion, Failure

log = get_logger("ringq.worker")

FAIL_CLOSURES = frozenset({"failed", "retried", "dlq"})


class ClosingQueue(Protocol):
    async def complete_many(self, items: Sequence[Completion]) -> list[RingqError | None]: ...
    async def fail_many(self, items: Sequence[Failure]) -> list[str | RingqError]: ...


@dataclass
class Pending:
    job: ClaimedJob
    completion: Completion | None = None
    failure: Failure | None = None
    sends: int = 0  # how many flushes tried it (>0 means a retry may find it already closed)


@dataclass
class FlushReport:
    completed: list[ClaimedJob] = field(default_factory=list)
    failed: list[tuple[ClaimedJob, str]] = field(default_factory=list)  # (job, "retried" | "dlq")
    lost: list[tuple[ClaimedJob, RingqError]] = field(default_factory=list)


# The least a final flush gets, even at deadline 0: finished work is worth one commit.
FINAL_FLUSH_MIN = 0.25


class Outbox:
    def __init__(
        self,
        queue: ClosingQueue,
        *,
        batch_size: int = 200,
        interval: float = 0.02,
        on_report: Callable[[FlushReport], None] | None = None,
    ) -> None:
        self.queue = queue
        self.batch_size = batch_size
        self.interval = interval
        self.on_report = on_report  # told what each flush did (metrics, hooks)
        self._items: dict[tuple[int, int], Pending] = {}
        self._wakeup = asyncio.Event()
        self._flush_lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def attempts(self) -> list[tuple[int, int]]:
        return list(self._items)

    def add(self, job: ClaimedJob, *, result: Any = None, failure: Failure | None = None) -> None:
        key = (job.job_id, job.run_lease)
        if failure is None:
            self._items[key] = Pending(job, completion=Completion(job.job_id, job.run_lease, result))
        else:
            self._items[key] = Pending(job, failure=failure)
        # Wake the flusher on the first item (starts the interval clock) and on a full batch.
        if len(self._items) == 1 or len(self._items) >= self.batch_size:
            self._wakeup.set()

    async def wait_ready(self) -> None:
        """Return when a flush is due: a full batch, or `interval` after the first buffered item."""
        while not self._items:
            self._wakeup.clear()
            await self._wakeup.wait()
        if len(self._items) < self.batch_size:
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=self.interval)
            except TimeoutError:
                pass

    def kick(self) -> None:
        self._wakeup.set()

    async def run(self) -> None:
        """Flush whenever a flush is due, until cancelled; a failed flush keeps its items and is
        retried after `reconnect_delay`."""
        failures = 0
        while True:
            await self.wait_ready()
            try:
                # Shielded: a shutdown cancelling this loop must not cut a commit in half.
                await asyncio.shield(self._deliver())
                failures = 0
            except psycopg.OperationalError as exc:
                failures += 1
                log.warning(
                    "flush failed; closures kept for retry", extra={"error": str(exc), "pending": len(self)}
                )
                await asyncio.sleep(reconnect_delay(failures))
            except Exception:
                failures += 1
                log.exception("flush failed; closures kept for retry", extra={"pending": len(self)})
                await asyncio.sleep(reconnect_delay(failures))

    async def drain(self, limit: float | None) -> None:
        """The final flush: retried until everything is sent or the monotonic time `limit`
        passes (None: no limit); what is left then stays open for rescue."""
        failures = 0
        while len(self):
            try:
                remaining = None if limit is None else limit - time.monotonic()
                timeout = None if remaining is None else max(remaining, FINAL_FLUSH_MIN)
                await asyncio.wait_for(self._deliver(), timeout=timeout)
            except (psycopg.OperationalError, TimeoutError) as exc:
                failures += 1
                if limit is not None and time.monotonic() >= limit:
                    log.error("final flush failed; attempts left for rescue", extra={"error": str(exc)})
                    break
                delay = reconnect_delay(failures)
                if limit is not None:
                    delay = min(delay, max(0.0, limit - time.monotonic()))
                await asyncio.sleep(delay)

    async def _deliver(self) -> None:
        report = await self.flush()
        if self.on_report is not None:
            self.on_report(report)

    async def flush(self) -> FlushReport:
        """Send everything buffered. Raises (keeping the items) when the database is unreachable.

        Any other error rejecting the batch falls back to one item at a time, so one bad item
        (say, a result the database refuses) cannot wedge the buffer: a completion that cannot be
        stored becomes a failed attempt, and an item that cannot be closed at all is dropped and
        left for rescue.
        """
        async with self._flush_lock:
            batch = list(self._items.values())
            if not batch:
                return FlushReport()
            try:
                return await self._send(batch)
            except psycopg.OperationalError:
                raise
            except Exception as exc:
                log.warning("batch flush rejected; retrying item by item", extra={"error": str(exc)})
            report = FlushReport()
        for p in batch:
            try:
                one = await self._send([p])
            except psycopg.OperationalError:
                raise
            except Exception as exc:
                self._salvage(p, exc)
                continue
            report.completed += one.completed
            report.failed += one.failed
            report.lost += one.lost
        return report

    def _salvage(self, p: Pending, exc: Exception) -> None:
        key = (p.job.job_id, p.job.run_lease)
        if p.completion is not None:
            log.warning(
                "result could not be stored; failing the attempt", extra={"job_id": key[0], "error": str(exc)}
            )
            p.completion = None
            p.failure = Failure(key[0], key[1], error=f"result could not be stored: {exc}")
            p.sends = 0
        else:
            log.error(
                "attempt could not be closed; leaving it for rescue",
                extra={"job_id": key[0], "error": str(exc)},
            )
            self._items.pop(key, None)

    async def _send(self, batch: list[Pending]) -> FlushReport:
        report = FlushReport()
        for p in batch:
            p.sends += 1
        done = [p for p in batch if p.completion is not None]
        fails = [p for p in batch if p.failure is not None]
        if done:
            outcomes = await self.queue.complete_many([p.completion for p in done if p.completion])
            for p, err in zip(done, outcomes, strict=True):
                self._items.pop((p.job.job_id, p.job.run_lease), None)
                if err is None or (p.sends > 1 and _closed_as(err, {"completed"})):
                    report.completed.append(p.job)
                else:
                    report.lost.append((p.job, err))
        if fails:
            results = await self.queue.fail_many([p.failure for p in fails if p.failure])
            for p, res in zip(fails, results, strict=True):
                self._items.pop((p.job.job_id, p.job.run_lease), None)
                if isinstance(res, str):
                    report.failed.append((p.job, res))
                elif p.sends > 1 and _closed_as(res, FAIL_CLOSURES):
                    closure = getattr(res, "closure", None) or "retried"
                    report.failed.append((p.job, "dlq" if closure == "dlq" else "retried"))
                else:
                    report.lost.append((p.job, res))
        return report


def _closed_as(err: RingqError, closures: frozenset[str] | set[str]) -> bool:
    return isinstance(err, AttemptClosed) and err.closure in closures
