"""End-to-end demo and smoke benchmark: N no-op jobs through real worker processes.

The parent installs a throw-away schema, starts `workers` worker processes, and only then
enqueues (so process start-up is not counted as queueing latency). Each job's payload carries
its enqueue wall time; a worker reports `(job_id, now - t)` right after the transaction that
completed it commits, so latency is enqueue → durable completion. The parent counts every
report: a job reported twice would be a duplicate completion, a job never reported is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import queue as queue_mod
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from multiprocessing.synchronize import Event as MpEvent
from typing import Any

import psycopg
from psycopg import sql

from ringq.errors import RingqError

DEMO_TASK = "ringq_proof.demo.noop"
ENQUEUE_BATCH = 500
# Message kinds workers send to the parent.
READY, DONE = "ready", "done"


class DemoError(RingqError):
    """The demo could not run (worker processes died or never started)."""


@dataclass(frozen=True)
class DemoResult:
    jobs: int
    workers: int
    completed: int
    duplicates: int
    missing: int
    seconds: float
    jobs_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return (
            not self.timed_out and self.completed == self.jobs and self.duplicates == 0 and self.missing == 0
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


# -- worker process ---------------------------------------------------------------------------
def _worker_main(url: str, schema: str, concurrency: int, reports: Any, stop: MpEvent) -> None:
    asyncio.run(_serve(url, schema, concurrency, reports, stop))


async def _serve(url: str, schema: str, concurrency: int, reports: Any, stop: MpEvent) -> None:
    from ringq.aclient import AsyncQueue
    from ringq.leader import LeaderSettings
    from ringq.registry import JobContext, Registry
    from ringq.types import ClaimedJob
    from ringq.worker import Worker

    registry = Registry()

    @registry.task(DEMO_TASK)
    async def noop(ctx: JobContext) -> None:
        return None

    def on_completed(jobs: list[ClaimedJob]) -> None:
        now = time.time()
        reports.put((DONE, [(j.job_id, now - float(j.payload["t"])) for j in jobs]))

    queue = AsyncQueue(url, schema=schema)
    worker = Worker(
        queue,
        registry,
        concurrency=concurrency,
        claim_batch=concurrency,
        poll_interval=0.02,
        flush_interval=0.005,
        flush_batch=concurrency,
        leader_settings=LeaderSettings(interval=0.5, rotate_interval=3600.0),
        conninfo=url,
        on_completed=on_completed,
    )
    running = asyncio.create_task(worker.run())
    reports.put((READY, None))
    try:
        while not stop.is_set() and not running.done():
            await asyncio.sleep(0.05)
        await worker.stop(10.0)
        await running
    finally:
        await queue.close()


# -- parent -----------------------------------------------------------------------------------
def _enqueue_all(
    url: str, schema: str, jobs: int, rate: float | None, ids: list[int], failed: list[BaseException]
) -> None:
    from ringq.client import Queue
    from ringq.types import Job

    queue = Queue(url, schema=schema)
    try:
        started = time.monotonic()
        sent = 0
        # Paced: a batch every ~20 ms, so jobs arrive as a stream rather than in bursts.
        batch = ENQUEUE_BATCH if not rate else max(1, min(ENQUEUE_BATCH, int(rate * 0.02)))
        while sent < jobs:
            n = min(batch, jobs - sent)
            if rate:
                # Pace to `rate` jobs/s so latency is measured below saturation.
                ahead = started + sent / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
            t = time.time()
            ids.extend(queue.enqueue_many([Job(task=DEMO_TASK, payload={"t": t}) for _ in range(n)]))
            sent += n
    except BaseException as exc:
        failed.append(exc)
    finally:
        queue.close()


def _install(url: str, schema: str, slots: int) -> None:
    from ringq.install import install

    with psycopg.connect(url, autocommit=True) as conn:
        install(conn, schema=schema, queue_slots=slots, claim_slots=slots)


def _drop(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def run_demo(
    url: str,
    *,
    jobs: int = 1000,
    workers: int = 2,
    concurrency: int = 256,
    rate: float | None = None,
    timeout: float = 600.0,
    keep_schema: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> DemoResult:
    schema = f"ringq_demo_{uuid.uuid4().hex[:8]}"
    _install(url, schema, slots=4)
    ctx = mp.get_context("spawn")
    reports: Any = ctx.Queue()
    stop = ctx.Event()
    procs = [
        ctx.Process(target=_worker_main, args=(url, schema, concurrency, reports, stop), daemon=True)
        for _ in range(workers)
    ]
    latencies: list[float] = []
    seen: set[int] = set()
    duplicates = 0
    try:
        for p in procs:
            p.start()
        deadline = time.monotonic() + timeout
        ready = 0
        while ready < workers:
            if not all(p.is_alive() for p in procs):
                raise DemoError("a demo worker process exited during start-up")
            try:
                kind, _ = reports.get(timeout=0.5)
            except queue_mod.Empty:
                if time.monotonic() > deadline:
                    raise DemoError("demo worker processes did not start in time") from None
                continue
            ready += kind == READY
        ids: list[int] = []
        failed: list[BaseException] = []
        started = time.monotonic()
        producer = threading.Thread(
            target=_enqueue_all, args=(url, schema, jobs, rate, ids, failed), daemon=True
        )
        producer.start()
        finished = started
        while len(seen) < jobs and time.monotonic() < deadline:
            if failed:
                raise failed[0]
            if not any(p.is_alive() for p in procs):
                raise DemoError("every demo worker process exited early")
            try:
                kind, batch = reports.get(timeout=0.2)
            except queue_mod.Empty:
                continue
            if kind != DONE:
                continue
            for job_id, latency in batch:
                if job_id in seen:
                    duplicates += 1
                    continue
                seen.add(job_id)
                latencies.append(latency)
            finished = time.monotonic()
            if on_progress is not None:
                on_progress(len(seen))
        timed_out = len(seen) < jobs
        producer.join(timeout=5)
        seconds = max(1e-9, finished - started)
        # Drain late reports briefly: a duplicate completion would show up here.
        stop.set()
        with contextlib.suppress(queue_mod.Empty):
            end = time.monotonic() + 0.5
            while time.monotonic() < end:
                kind, batch = reports.get(timeout=0.1)
                if kind == DONE:
                    duplicates += sum(1 for job_id, _ in batch if job_id in seen)
        missing = len(set(ids) - seen)
    finally:
        stop.set()
        for p in procs:
            p.join(timeout=15)
            if p.is_alive():
                p.kill()
        if not keep_schema:
            with contextlib.suppress(psycopg.Error):
                _drop(url, schema)
    ordered = sorted(latencies)
    return DemoResult(
        jobs=jobs,
        workers=workers,
        completed=len(seen),
        duplicates=duplicates,
        missing=missing,
        seconds=seconds,
        jobs_per_second=len(seen) / seconds,
        p50_ms=percentile(ordered, 0.50) * 1000,
        p95_ms=percentile(ordered, 0.95) * 1000,
        p99_ms=percentile(ordered, 0.99) * 1000,
        max_ms=(ordered[-1] * 1000) if ordered else 0.0,
        timed_out=timed_out,
    )
