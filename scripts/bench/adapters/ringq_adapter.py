"""ringq: `AsyncQueue` + `Worker(queue, registry, concurrency=...)` with its defaults
(claim batch = concurrency, outbox flushes closures in batches, leader-elected maintenance
on). Producer: `AsyncQueue.enqueue_many`. Completion time: `done.finished_at` (the
complete transaction's `now`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import psycopg

from bench.adapters.base import Adapter, OnJob, Producer, TxProducer

SCHEMA = "ringq"
TASK = "bench_noop"
QUEUE = "bench"


def lane_of(seq: int, lanes: int) -> tuple[str, int]:
    """(queue, priority) of a job when the work is spread over `lanes` lanes: queues of three
    priorities each (lanes=300: 100 queues x 3 priorities); lanes=1 is the one bench lane."""
    if lanes <= 1:
        return QUEUE, 0
    i = seq % lanes
    return f"{QUEUE}{i // 3}", i % 3


class _RingqProducer(Producer):
    def __init__(self, queue: Any, lanes: int = 1) -> None:
        self.queue = queue
        self.lanes = lanes

    async def enqueue(self, seqs: Sequence[int]) -> None:
        from ringq.types import Job

        jobs = []
        for s in seqs:
            q, prio = lane_of(s, self.lanes)
            jobs.append(Job(TASK, {"seq": s}, queue=q, priority=prio))
        await self.queue.enqueue_many(jobs)

    async def close(self) -> None:
        await self.queue.close()


class _RingqTx(TxProducer):
    def __init__(self, queue: Any, conn: psycopg.AsyncConnection) -> None:
        self.queue = queue
        self.conn = conn

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def enqueue(self, tx: Any, seqs: Sequence[int]) -> None:
        from ringq.types import Job

        await self.queue.enqueue_many([Job(TASK, {"seq": s}, queue=QUEUE) for s in seqs], conn=self.conn)

    async def close(self) -> None:
        await self.conn.close()
        await self.queue.close()


class RingqAdapter(Adapter):
    name = "ringq"
    label = "ringq"
    dist = "ringq"
    # append-only tables; `lanes` (one row per queue x priority, updated per enqueue and claim)
    # is reported with "all tables"
    hot_tables = ("ready", "claims", "closures", "done", "heartbeats")
    worker_options: ClassVar[dict[str, Any]] = {}
    tx_api = "AsyncQueue.enqueue_many(jobs, conn=aconn) (ADR 0011: staged, sequenced at commit)"

    def available(self) -> str | None:
        try:
            from ringq.aclient import AsyncQueue  # noqa: F401
            from ringq.install import install  # noqa: F401
            from ringq.worker.runtime import Worker  # noqa: F401
        except ImportError as exc:
            return f"ringq client/worker not importable: {exc}"
        return None

    async def setup(self, dsn: str) -> None:
        from ringq.install import install

        with psycopg.connect(dsn, autocommit=True) as conn:
            install(conn, schema=SCHEMA)

    async def producer(self, dsn: str) -> Producer:
        from ringq.aclient import AsyncQueue

        # lanes=N (spec setting): the work spread over N lanes, the worker claiming from all
        return _RingqProducer(AsyncQueue(dsn, schema=SCHEMA, pool_size=1), int(self.options.get("lanes", 1)))

    async def tx_producer(self, dsn: str) -> TxProducer:
        from ringq.aclient import AsyncQueue

        conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
        return _RingqTx(AsyncQueue(dsn, schema=SCHEMA, pool_size=1), conn)

    async def work(
        self,
        dsn: str,
        concurrency: int,
        on_job: OnJob,
        stop: asyncio.Event,
        ready: Callable[[], None],
    ) -> dict[str, float]:
        from ringq.aclient import AsyncQueue
        from ringq.registry import JobContext, Registry
        from ringq.worker.runtime import Worker

        registry = Registry()

        @registry.task(TASK)
        async def noop(ctx: JobContext) -> None:
            on_job(str(ctx.job_id), int(ctx.payload["seq"]))

        queue = AsyncQueue(dsn, schema=SCHEMA)
        worker = Worker(queue, registry, concurrency=concurrency, conninfo=dsn, **self.worker_options)
        run = asyncio.create_task(worker.run())
        ready()
        await stop.wait()
        await worker.stop(10.0)
        await run
        await queue.close()
        return {}

    def remaining(self, conn: psycopg.Connection) -> int | None:
        row = conn.execute(
            f"SELECT (SELECT count(*) FROM {SCHEMA}.ready) - "
            f"(SELECT count(*) FROM {SCHEMA}.done WHERE outcome = 'completed')"
        ).fetchone()
        return int(row[0]) if row else 0

    def completions(self, conn: psycopg.Connection, since: float | None) -> list[tuple[str, float]]:
        rows = conn.execute(
            f"SELECT job_id::text, extract(epoch FROM finished_at)::float8 FROM {SCHEMA}.done "
            "WHERE outcome = 'completed' AND finished_at >= to_timestamp(%s)",
            (since or 0.0,),
        ).fetchall()
        return [(r[0], r[1]) for r in rows]


class RingqListenAdapter(RingqAdapter):
    """ringq with NOTIFY wake-ups requested explicitly (`Worker(listen=True)`); since the worker
    listens by default whenever it knows a DSN, this now equals `ringq`."""

    name = "ringq-listen"
    label = "ringq listen=True"
    worker_options: ClassVar[dict[str, Any]] = {"listen": True}


class RingqPollAdapter(RingqAdapter):
    """ringq without NOTIFY wake-ups (`Worker(listen=False)`): the bounded poll alone."""

    name = "ringq-poll"
    label = "ringq listen=False"
    worker_options: ClassVar[dict[str, Any]] = {"listen": False}


class RingqOldWorkerAdapter(RingqAdapter):
    """ringq's worker with its defaults before the latency work (no LISTEN, no claim-ahead,
    20 ms flush interval), for before/after comparisons within one run. The storage functions
    are the installed ones (the claim's busy-lane wait included)."""

    name = "ringq-oldworker"
    label = "ringq old worker defaults"
    worker_options: ClassVar[dict[str, Any]] = {"listen": False, "prefetch": 0, "flush_interval": 0.02}
