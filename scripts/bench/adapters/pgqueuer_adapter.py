"""pgqueuer: `PgQueuer` over a psycopg async connection (autocommit), one entrypoint.

Worker: `PgQueuer.run(batch_size=..., max_concurrent_tasks=concurrency)`, LISTEN/NOTIFY
wake-ups as shipped. Grid options: `driver=asyncpg` (`PgQueuer.from_asyncpg_connection`),
`batch=N` (`batch_size`, with pgqueuer's default unlimited `max_concurrent_tasks` unless
`c=` is given). Producer: batch `Queries.enqueue(list, list, list)`.
Completion time: `pgqueuer_log.created` of the `successful` row (written when the job is
deleted from the queue table).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from bench.adapters.base import Adapter, OnJob, Producer, TxProducer

ENTRYPOINT = "bench_noop"


class _PgqProducer(Producer):
    def __init__(self, conn: psycopg.AsyncConnection, queries: Any) -> None:
        self.conn = conn
        self.queries = queries

    async def enqueue(self, seqs: Sequence[int]) -> None:
        n = len(seqs)
        await self.queries.enqueue([ENTRYPOINT] * n, [json.dumps({"seq": s}).encode() for s in seqs], [0] * n)

    async def close(self) -> None:
        await self.conn.close()


class _PgqTx(TxProducer):
    """pgqueuer's `Queries` over the caller's connection: its statements run in whatever
    transaction that connection has open (the psycopg driver wants an autocommit connection,
    so the transaction is an explicit `conn.transaction()` block)."""

    def __init__(self, conn: psycopg.AsyncConnection, queries: Any) -> None:
        self.conn = conn
        self.queries = queries

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def enqueue(self, tx: Any, seqs: Sequence[int]) -> None:
        n = len(seqs)
        await self.queries.enqueue([ENTRYPOINT] * n, [json.dumps({"seq": s}).encode() for s in seqs], [0] * n)

    async def close(self) -> None:
        await self.conn.close()


class PgqueuerAdapter(Adapter):
    name = "pgqueuer"
    label = "pgqueuer"
    dist = "pgqueuer"
    hot_tables = ("pgqueuer",)
    tx_api = "Queries(PsycopgDriver(conn)).enqueue(...) inside `async with conn.transaction()`"

    def available(self) -> str | None:
        try:
            import pgqueuer  # noqa: F401
        except ImportError:
            return "pgqueuer is not installed (see requirements-bench.txt)"
        return None

    async def _queries(self, dsn: str) -> tuple[psycopg.AsyncConnection, Any]:
        from pgqueuer.db import PsycopgDriver
        from pgqueuer.queries import Queries

        conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
        return conn, Queries(PsycopgDriver(conn))

    async def setup(self, dsn: str) -> None:
        conn, queries = await self._queries(dsn)
        async with conn:
            await queries.install()

    async def producer(self, dsn: str) -> Producer:
        conn, queries = await self._queries(dsn)
        return _PgqProducer(conn, queries)

    async def tx_producer(self, dsn: str) -> TxProducer:
        conn, queries = await self._queries(dsn)
        return _PgqTx(conn, queries)

    async def work(
        self,
        dsn: str,
        concurrency: int,
        on_job: OnJob,
        stop: asyncio.Event,
        ready: Callable[[], None],
    ) -> dict[str, float]:
        from pgqueuer import PgQueuer
        from pgqueuer.models import Job

        conn: Any
        driver = self.options.get("driver", "psycopg")
        if driver == "asyncpg":  # pgqueuer docs, 'Drivers': asyncpg
            import asyncpg

            conn = await asyncpg.connect(dsn)
            pgq = PgQueuer.from_asyncpg_connection(conn)
        elif driver == "asyncpgpool":  # pgqueuer docs, 'Performance Tuning' > 'Connection Pooling'
            import asyncpg

            conn = await asyncpg.create_pool(dsn, min_size=2, max_size=max(4, 2 * concurrency))
            pgq = PgQueuer.from_asyncpg_pool(conn)
        else:
            conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
            pgq = PgQueuer.from_psycopg_connection(conn)

        @pgq.entrypoint(ENTRYPOINT)
        async def noop(job: Job) -> None:
            on_job(str(job.id), int(json.loads(job.payload or b"{}")["seq"]))

        max_tasks: int | None
        if "batch" in self.options:  # the grid: batch_size as given, max_concurrent_tasks
            batch = int(self.options["batch"])  # pgqueuer's default (unlimited) unless c= is set
            max_tasks = max(int(self.options["c"]), 2 * batch) if "c" in self.options else None
        else:  # the equal-settings view: concurrency C, batch min(10, C/2)
            batch = max(1, min(10, concurrency // 2))  # pgqueuer requires max_concurrent >= 2 x batch
            max_tasks = max(concurrency, 2 * batch)

        async def stopper() -> None:
            await stop.wait()
            pgq.shutdown.set()

        stop_task = asyncio.create_task(stopper())
        ready()
        try:
            await pgq.run(batch_size=batch, max_concurrent_tasks=max_tasks)
        finally:
            stop_task.cancel()
            await conn.close()
        return {}

    def remaining(self, conn: psycopg.Connection) -> int | None:
        row = conn.execute("SELECT count(*) FROM pgqueuer").fetchone()
        return int(row[0]) if row else 0

    def completions(self, conn: psycopg.Connection, since: float | None) -> list[tuple[str, float]]:
        rows = conn.execute(
            "SELECT job_id::text, extract(epoch FROM created)::float8 FROM pgqueuer_log "
            "WHERE status = 'successful' AND created >= to_timestamp(%s)",
            (since or 0.0,),
        ).fetchall()
        return [(r[0], r[1]) for r in rows]
