"""`AsyncQueue`: the asyncio twin of `Queue`, running the very same `Call`s on an async pool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Literal, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from ringq.calls import QueueBase
from ringq.client import VERSION, check_version, located, unavailable
from ringq.errors import RingqError, translate
from ringq.sqlfiles import Call, render
from ringq.types import CancelOutcome, ClaimedJob, Completion, DlqEntry, Failure, Job, JobInfo, QueueStats

T = TypeVar("T")


class AsyncQueue(QueueBase[AsyncConnectionPool]):
    """A ringq queue in one schema over an `AsyncConnectionPool` (created from a DSN or yours).

    The options are `Queue`'s (`ringq.calls.QueueBase`). A pool made from a DSN is opened on
    first use: the constructor cannot await.
    """

    _pool_type = AsyncConnectionPool
    _pool_name = "ringq-async"
    _open_at_once = False  # opened on first use: the constructor cannot await
    _opened = True  # a caller's pool is theirs to open

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        timeout = None if self._connected else self.connect_timeout
        try:
            cm = self._pool.connection(timeout=timeout)
            conn = await cm.__aenter__()
        except PoolTimeout as exc:
            wait = timeout or self._pool.timeout
            raise await asyncio.to_thread(unavailable, self.conninfo, wait, exc) from exc
        self._connected = True
        try:
            yield conn
        except BaseException as exc:
            if not await cm.__aexit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            await cm.__aexit__(None, None, None)

    def _make_pool(self, dsn: str, size: int) -> AsyncConnectionPool:
        self._opened = False
        self._open_lock = asyncio.Lock()
        return super()._make_pool(dsn, size)

    # -- plumbing ---------------------------------------------------------------------------

    async def _execute(self, conn: psycopg.AsyncConnection, call: Call[T]) -> T:
        try:
            cur = await conn.execute(call.query, call.params)
            rows = await cur.fetchall()
        except psycopg.Error as exc:
            typed = translate(exc)
            if typed is None:
                raise
            raise typed from exc
        return call.parse(rows)

    async def _check(self, conn: psycopg.AsyncConnection) -> None:
        if self._checked:
            return
        try:
            cur = await conn.execute(render(VERSION, self.schema))
            row = await cur.fetchone()
        except (pg_errors.UndefinedTable, pg_errors.InvalidSchemaName):
            if not conn.autocommit:
                await conn.rollback()
            row = None
        check_version(self.schema, None if row is None else int(row[0]))
        self._checked = True

    async def _run(self, call: Call[T], conn: psycopg.AsyncConnection | None = None) -> T:
        if conn is not None:  # the caller's transaction: no commit here
            return await self._execute(conn, call)
        if not self._opened:
            async with self._open_lock:
                if not self._opened:
                    await self._pool.open()
                    self._opened = True
        async with self._connection() as own:
            await self._check(own)
            return await self._execute(own, call)

    # -- jobs -------------------------------------------------------------------------------

    async def enqueue(
        self,
        task: str,
        payload: Any = None,
        *,
        queue: str = "default",
        priority: int = 0,
        run_at: datetime | None = None,
        delay: float | None = None,
        max_attempts: int = 5,
        dedup_key: str | None = None,
        conn: psycopg.AsyncConnection | None = None,
    ) -> int:
        job = Job(task, payload, queue, priority, run_at, delay, max_attempts, dedup_key)
        return (await self._enqueue_jobs([job], conn, items=False))[0]

    async def enqueue_many(
        self, jobs: Sequence[Job], *, conn: psycopg.AsyncConnection | None = None
    ) -> list[int]:
        return await self._enqueue_jobs(jobs, conn, items=True)

    async def _enqueue_jobs(
        self, jobs: Sequence[Job], conn: psycopg.AsyncConnection | None, *, items: bool
    ) -> list[int]:
        call = located(lambda js: self._enqueue(js, staged=conn is not None), jobs, items)
        return await self._run(call, conn) if jobs else []

    async def claim(
        self, *, worker: str, queues: Sequence[str] | None = None, limit: int = 10, lease: float = 30.0
    ) -> list[ClaimedJob]:
        return await self._run(self._claim(worker, queues, limit, lease))

    async def complete(self, job_id: int, run_lease: int, result: Any = None) -> None:
        self._completed(await self.complete_many([Completion(job_id, run_lease, result)]))

    async def complete_many(self, items: Sequence[Completion]) -> list[RingqError | None]:
        call = self._complete(items)
        return await self._run(call) if items else []

    async def fail(self, failure: Failure) -> str:
        return self._failed(await self.fail_many([failure]))

    async def fail_many(self, items: Sequence[Failure]) -> list[str | RingqError]:
        call = self._fail(items)
        return await self._run(call) if items else []

    async def heartbeat(
        self,
        attempts: Sequence[tuple[int, int]],
        *,
        lease: float = 30.0,
        progress: Mapping[int, Any] | None = None,
    ) -> list[tuple[int, int]]:
        call = self._heartbeat(attempts, lease, progress)
        return await self._run(call) if attempts else []

    async def cancel(self, job_id: int) -> CancelOutcome:
        return await self._run(self._cancel(job_id))

    async def job(self, job_id: int) -> JobInfo | None:
        return await self._run(self._job(job_id))

    async def stats(self) -> list[QueueStats]:
        return await self._run(self._stats())

    # -- maintenance ------------------------------------------------------------------------

    async def promote(self, limit: int = 10_000) -> int:
        return await self._run(self._promote(limit))

    async def rescue(self, limit: int = 10_000) -> int:
        return await self._run(self._rescue(limit))

    async def rotate(self, ring: Literal["queue", "claim"]) -> int:
        return await self._run(self._rotate(ring))

    async def prune(self, ring: Literal["queue", "claim"]) -> int | None:
        return await self._run(self._prune(ring))

    # -- dead-letter queue ------------------------------------------------------------------

    async def dlq_list(self, queue: str | None = None, limit: int = 100) -> list[DlqEntry]:
        return await self._run(self._dlq_list(queue, limit))

    async def dlq_retry(self, job_ids: Sequence[int] | None = None, *, queue: str | None = None) -> int:
        return await self._run(self._dlq_retry(job_ids, queue))

    async def dlq_purge(self, job_ids: Sequence[int] | None = None, *, queue: str | None = None) -> int:
        return await self._run(self._dlq_purge(job_ids, queue))

    async def check(self) -> None:
        """Drop pooled connections that no longer work (e.g. after a server restart), so the next
        caller gets a live one; callers use it after a connection-level failure."""
        if self._opened:
            await self._pool.check()

    async def close(self) -> None:
        if self._owns_pool and self._opened:
            await self._pool.close()

    async def __aenter__(self) -> AsyncQueue:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
