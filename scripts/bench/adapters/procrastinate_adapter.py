"""procrastinate: `App(PsycopgConnector)`, one async task, `run_worker_async(concurrency=...)`.

Producer: `Task.batch_defer_async`. The connector's pool is sized to the concurrency plus
the listener, as procrastinate's concurrency how-to advises. Completion time: the
`succeeded` row in `procrastinate_events` (written by the status-change trigger).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from bench.adapters.base import Adapter, OnJob, Producer, TxProducer

_ON_JOB: list[OnJob] = []


def _make_app(dsn: str, pool_max: int) -> tuple[Any, Any]:
    import procrastinate

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=dsn, min_size=1, max_size=pool_max)
    )

    @app.task(name="bench_noop", pass_context=True)
    async def noop(context: Any, seq: int) -> None:
        _ON_JOB[0](str(context.job.id), int(seq))

    return app, noop


class _ProcProducer(Producer):
    def __init__(self, app: Any, task: Any) -> None:
        self.app = app
        self.task = task

    async def enqueue(self, seqs: Sequence[int]) -> None:
        await self.task.batch_defer_async(*({"seq": s} for s in seqs))

    async def close(self) -> None:
        await self.app.close_async()


class _ProcTx(TxProducer):
    """`Task.configure(connection=conn).batch_defer_async(...)`: the INSERT runs on the
    caller's connection, in the caller's transaction (procrastinate 3.x `configure` docs)."""

    def __init__(self, app: Any, task: Any, conn: psycopg.AsyncConnection) -> None:
        self.app = app
        self.task = task
        self.conn = conn

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def enqueue(self, tx: Any, seqs: Sequence[int]) -> None:
        await self.task.configure(connection=self.conn).batch_defer_async(*({"seq": s} for s in seqs))

    async def close(self) -> None:
        await self.conn.close()
        await self.app.close_async()


class ProcrastinateAdapter(Adapter):
    name = "procrastinate"
    label = "procrastinate"
    dist = "procrastinate"
    hot_tables = ("procrastinate_jobs", "procrastinate_events")
    tx_api = "Task.configure(connection=conn).batch_defer_async(...) inside `conn.transaction()`"

    def available(self) -> str | None:
        try:
            import procrastinate  # noqa: F401
        except ImportError:
            return "procrastinate is not installed (see requirements-bench.txt)"
        return None

    async def setup(self, dsn: str) -> None:
        app, _ = _make_app(dsn, 2)
        async with app.open_async():
            await app.schema_manager.apply_schema_async()

    async def producer(self, dsn: str) -> Producer:
        app, task = _make_app(dsn, 2)
        await app.open_async()
        return _ProcProducer(app, task)

    async def tx_producer(self, dsn: str) -> TxProducer:
        app, task = _make_app(dsn, 1)
        await app.open_async()
        conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
        return _ProcTx(app, task, conn)

    async def work(
        self,
        dsn: str,
        concurrency: int,
        on_job: OnJob,
        stop: asyncio.Event,
        ready: Callable[[], None],
    ) -> dict[str, float]:
        _ON_JOB[:] = [on_job]
        app, _ = _make_app(dsn, concurrency + 2)
        async with app.open_async():
            worker = asyncio.create_task(
                app.run_worker_async(
                    concurrency=concurrency, wait=True, install_signal_handlers=False, name="bench"
                )
            )
            ready()
            await stop.wait()
            worker.cancel()  # procrastinate's documented graceful stop
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        return {}

    def remaining(self, conn: psycopg.Connection) -> int | None:
        row = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
        ).fetchone()
        return int(row[0]) if row else 0

    def completions(self, conn: psycopg.Connection, since: float | None) -> list[tuple[str, float]]:
        rows = conn.execute(
            "SELECT job_id::text, extract(epoch FROM at)::float8 FROM procrastinate_events "
            "WHERE type = 'succeeded' AND at >= to_timestamp(%s)",
            (since or 0.0,),
        ).fetchall()
        return [(r[0], r[1]) for r in rows]
