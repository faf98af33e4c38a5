"""chancy: `Chancy(dsn)` + `Worker`, one queue with the `AsyncExecutor` (chancy's executor
for async jobs) at the given concurrency. Tuned as chancy documents for continuously
available jobs: `eager_polling=True` (fetch again as soon as a job finishes) and the
shortest `polling_interval` (1 s); without them a queue takes `concurrency` jobs per
5 s poll when no push notification arrives. Everything else as shipped (default plugins,
NOTIFY on push). Producer: `Chancy.push_many`. Completion time: `chancy_jobs.completed_at`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from bench.adapters.base import Adapter, OnJob, Producer, TxProducer

QUEUE = "bench"
_ON_JOB: list[OnJob] = []


async def noop(*, seq: int, job: Any = None) -> None:
    """The job function chancy imports by name (`bench.adapters.chancy_adapter.noop`)."""
    _ON_JOB[0](str(job.id), int(seq))


def _annotate() -> None:
    # chancy injects the running job into a keyword-only parameter annotated QueuedJob
    from chancy import QueuedJob

    noop.__annotations__["job"] = QueuedJob


class _ChancyProducer(Producer):
    def __init__(self, chancy: Any) -> None:
        self.chancy = chancy

    async def enqueue(self, seqs: Sequence[int]) -> None:
        from chancy import Job

        jobs = [Job.from_func(noop, kwargs={"seq": s}, queue=QUEUE) for s in seqs]
        async for _ in self.chancy.push_many(jobs, batch_size=max(1, len(jobs))):
            pass

    async def close(self) -> None:
        await self.chancy.__aexit__(None, None, None)


class _ChancyTx(TxProducer):
    """`Chancy.push_many_ex(cursor, jobs)`: chancy's low-level push on a cursor of the caller's
    connection, "to ensure your jobs are only pushed if some other operation is successful"."""

    def __init__(self, chancy: Any, conn: psycopg.AsyncConnection) -> None:
        self.chancy = chancy
        self.conn = conn

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def enqueue(self, tx: Any, seqs: Sequence[int]) -> None:
        from chancy import Job
        from psycopg.rows import dict_row

        jobs = [Job.from_func(noop, kwargs={"seq": s}, queue=QUEUE) for s in seqs]
        async with self.conn.cursor(row_factory=dict_row) as cur:
            await self.chancy.push_many_ex(cur, jobs)

    async def close(self) -> None:
        await self.conn.close()
        await self.chancy.__aexit__(None, None, None)


class ChancyAdapter(Adapter):
    name = "chancy"
    label = "chancy"
    dist = "chancy"
    hot_tables = ("chancy_jobs",)
    tx_api = "Chancy.push_many_ex(cursor, jobs) on the caller's connection inside `conn.transaction()`"

    def available(self) -> str | None:
        try:
            import chancy  # noqa: F401
        except ImportError:
            return "chancy is not installed (see requirements-bench.txt)"
        return None

    async def setup(self, dsn: str) -> None:
        from chancy import Chancy, Queue

        async with Chancy(dsn) as chancy:
            await chancy.migrate()
            await chancy.declare(Queue(QUEUE, executor="chancy.executors.asyncex.AsyncExecutor"))

    async def producer(self, dsn: str) -> Producer:
        from chancy import Chancy

        chancy = Chancy(dsn, max_connection_pool_size=2)
        await chancy.__aenter__()
        return _ChancyProducer(chancy)

    async def tx_producer(self, dsn: str) -> TxProducer:
        from chancy import Chancy

        chancy = Chancy(dsn, max_connection_pool_size=1)
        await chancy.__aenter__()
        conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
        return _ChancyTx(chancy, conn)

    async def work(
        self,
        dsn: str,
        concurrency: int,
        on_job: OnJob,
        stop: asyncio.Event,
        ready: Callable[[], None],
    ) -> dict[str, float]:
        import logging

        from chancy import Chancy, Queue, Worker

        _annotate()
        _ON_JOB[:] = [on_job]
        log = logging.getLogger("chancy.bench")
        log.setLevel(logging.WARNING)
        async with Chancy(dsn, log=log) as chancy:
            await chancy.declare(
                Queue(
                    QUEUE,
                    concurrency=concurrency,
                    executor="chancy.executors.asyncex.AsyncExecutor",
                    polling_interval=1,
                    eager_polling=True,
                ),
                upsert=True,
            )
            async with Worker(chancy, register_signal_handlers=False, shutdown_timeout=10):
                ready()
                await stop.wait()
        return {}

    def remaining(self, conn: psycopg.Connection) -> int | None:
        row = conn.execute(
            "SELECT count(*) FROM chancy_jobs WHERE state NOT IN ('succeeded', 'failed')"
        ).fetchone()
        return int(row[0]) if row else 0

    def completions(self, conn: psycopg.Connection, since: float | None) -> list[tuple[str, float]]:
        rows = conn.execute(
            "SELECT id::text, extract(epoch FROM completed_at)::float8 FROM chancy_jobs "
            "WHERE state = 'succeeded' AND completed_at >= to_timestamp(%s)",
            (since or 0.0,),
        ).fetchall()
        return [(r[0], r[1]) for r in rows]
