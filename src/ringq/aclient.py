"""`AsyncQueue`: the asyncio twin of `Queue`, running the very same `Call`s on an async pool."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import AsyncConnectionPool

from ringq import admin, maintenance
from ringq.backoff import Backoff
from ringq.client import (
    VERSION,
    check_options,
    check_version,
    claim_call,
    complete_call,
    enqueue_call,
    fail_call,
    heartbeat_call,
    translate,
)
from ringq.clock import Clock
from ringq.errors import InvalidInput, RingqError
from ringq.sqlfiles import Call, render
from ringq.types import (
    CancelOutcome,
    ClaimedJob,
    Completion,
    DlqEntry,
    Failure,
    Job,
    JobInfo,
    QueueStats,
)
from ringq.validation import check_limit, check_schema, check_seconds

T = TypeVar("T")


class AsyncQueue:
    """A ringq queue in one schema over an `AsyncConnectionPool` (created from a DSN or yours)."""

    def __init__(
        self,
        dsn_or_pool: str | AsyncConnectionPool,
        *,
        schema: str = "ringq",
        clock: Clock | None = None,
        max_payload_bytes: int = 1_000_000,
        backoff: Backoff | None = None,
        maintenance_lock_timeout: float = 0.5,
        rescue_margin: float = 5.0,
        pool_size: int = 4,
    ) -> None:
        self.schema = check_schema(schema)
        self.clock: Clock
        self.clock, self.backoff, self._lock_timeout_ms, pool_size = check_options(
            clock, backoff, maintenance_lock_timeout, pool_size
        )
        self.max_payload_bytes = check_limit("max_payload_bytes", max_payload_bytes, 256 * 1024 * 1024)
        self.rescue_margin = check_seconds("rescue_margin", rescue_margin)
        self._checked = False
        self._opened = False
        self._open_lock = asyncio.Lock()
        if isinstance(dsn_or_pool, str):
            # Opened on first use: the constructor cannot await.
            self._pool = AsyncConnectionPool(
                dsn_or_pool,
                min_size=1,
                max_size=pool_size,
                open=False,
                kwargs={"autocommit": True},
                name=f"ringq-async-{schema}",
            )
            self._owns_pool = True
        elif isinstance(dsn_or_pool, AsyncConnectionPool):
            self._pool = dsn_or_pool
            self._owns_pool = False
            self._opened = True
        else:
            raise InvalidInput("dsn_or_pool: expected a DSN string or a psycopg_pool.AsyncConnectionPool")

    @property
    def conninfo(self) -> str:
        """The connection string of the pool, for tools that need a connection of their own
        (the maintenance leader holds its advisory lock on a dedicated session)."""
        return str(self._pool.conninfo)

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
        async with self._pool.connection() as own:
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
        return (await self.enqueue_many([job], conn=conn))[0]

    async def enqueue_many(
        self, jobs: Sequence[Job], *, conn: psycopg.AsyncConnection | None = None
    ) -> list[int]:
        call = enqueue_call(
            self.schema, self.clock.now(), jobs, self.max_payload_bytes, staged=conn is not None
        )
        if not jobs:
            return []
        return await self._run(call, conn)

    async def claim(
        self, *, worker: str, queues: Sequence[str] | None = None, limit: int = 10, lease: float = 30.0
    ) -> list[ClaimedJob]:
        return await self._run(claim_call(self.schema, self.clock.now(), worker, queues, limit, lease))

    async def complete(self, job_id: int, run_lease: int, result: Any = None) -> None:
        [outcome] = await self.complete_many([Completion(job_id, run_lease, result)])
        if outcome is not None:
            raise outcome

    async def complete_many(self, items: Sequence[Completion]) -> list[RingqError | None]:
        call = complete_call(self.schema, self.clock.now(), items, self.max_payload_bytes)
        return await self._run(call) if items else []

    async def fail(self, failure: Failure) -> str:
        [outcome] = await self.fail_many([failure])
        if isinstance(outcome, RingqError):
            raise outcome
        return outcome

    async def fail_many(self, items: Sequence[Failure]) -> list[str | RingqError]:
        call = fail_call(self.schema, self.clock.now(), items, self.backoff)
        return await self._run(call) if items else []

    async def heartbeat(
        self,
        attempts: Sequence[tuple[int, int]],
        *,
        lease: float = 30.0,
        progress: Mapping[int, Any] | None = None,
    ) -> list[tuple[int, int]]:
        call = heartbeat_call(
            self.schema, self.clock.now(), attempts, lease, progress, self.max_payload_bytes
        )
        return await self._run(call) if attempts else []

    async def cancel(self, job_id: int) -> CancelOutcome:
        return await self._run(admin.cancel_call(self.schema, self.clock.now(), job_id))

    async def job(self, job_id: int) -> JobInfo | None:
        return await self._run(admin.job_call(self.schema, job_id))

    async def stats(self) -> list[QueueStats]:
        return await self._run(admin.stats_call(self.schema))

    # -- maintenance ------------------------------------------------------------------------

    async def promote(self, limit: int = 10_000) -> int:
        return await self._run(maintenance.promote_call(self.schema, self.clock.now(), limit))

    async def rescue(self, limit: int = 10_000) -> int:
        return await self._run(
            maintenance.rescue_call(self.schema, self.clock.now(), self.backoff, limit, self.rescue_margin)
        )

    async def rotate(self, ring: Literal["queue", "claim"]) -> int:
        return await self._run(maintenance.rotate_call(self.schema, ring, self._lock_timeout_ms))

    async def prune(self, ring: Literal["queue", "claim"]) -> int | None:
        return await self._run(maintenance.prune_call(self.schema, ring, self._lock_timeout_ms))

    # -- dead-letter queue ------------------------------------------------------------------

    async def dlq_list(self, queue: str | None = None, limit: int = 100) -> list[DlqEntry]:
        return await self._run(admin.dlq_list_call(self.schema, queue, limit))

    async def dlq_retry(self, job_ids: Sequence[int] | None = None, *, queue: str | None = None) -> int:
        return await self._run(admin.dlq_retry_call(self.schema, self.clock.now(), job_ids, queue))

    async def dlq_purge(self, job_ids: Sequence[int] | None = None, *, queue: str | None = None) -> int:
        return await self._run(admin.dlq_purge_call(self.schema, job_ids, queue))

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
