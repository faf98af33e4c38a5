"""`Queue`: the synchronous client. Every operation is one statement in one round trip.

The statements and their parsing are built in calls.py, once for `Queue` and `AsyncQueue`
(aclient.py), which run the very same `Call`s. Connections from a pool the queue creates are
autocommit: the single statement IS the transaction (no BEGIN/COMMIT round trips).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool, PoolTimeout

from ringq.calls import (
    CLAIM,
    COMPLETE,
    DEFAULT_CONNECT_TIMEOUT,
    ENQUEUE,
    FAIL,
    HEARTBEAT,
    MAX_LOCK_TIMEOUT_S,
    MAX_POOL_SIZE,
    MAX_TRACEBACK_CHARS,
    QueueBase,
    check_options,
    claim_call,
    complete_call,
    enqueue_call,
    fail_call,
    heartbeat_call,
)
from ringq.errors import DatabaseUnavailable, InvalidInput, NotInstalled, RingqError, translate
from ringq.install import SCHEMA_VERSION, version_mismatch
from ringq.sqlfiles import Call, render
from ringq.types import CancelOutcome, ClaimedJob, Completion, DlqEntry, Failure, Job, JobInfo, QueueStats
from ringq.validation import item_error

# The builders, templates and checks keep their old home here too (callers import them from ringq.client).
__all__ = [
    "CLAIM",
    "COMPLETE",
    "DEFAULT_CONNECT_TIMEOUT",
    "ENQUEUE",
    "FAIL",
    "HEARTBEAT",
    "MAX_LOCK_TIMEOUT_S",
    "MAX_POOL_SIZE",
    "MAX_TRACEBACK_CHARS",
    "VERSION",
    "Queue",
    "check_options",
    "check_version",
    "claim_call",
    "complete_call",
    "enqueue_call",
    "fail_call",
    "heartbeat_call",
    "translate",
]

T = TypeVar("T")

VERSION = "SELECT version FROM {schema}.meta"


class _QuietConnectErrors(logging.Filter):
    """psycopg_pool logs a warning for every failed connection attempt of its background workers;
    for a ringq pool the caller gets DatabaseUnavailable with the reason instead (one message,
    not one per retry)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("error connecting in"):
            return True
        pool = record.args[0] if isinstance(record.args, tuple) and record.args else ""
        return not str(pool).startswith("ringq")


logging.getLogger("psycopg.pool").addFilter(_QuietConnectErrors())


def public_location(conninfo: str) -> str:
    """Where `conninfo` points, without its password: `user@host:port/dbname`."""
    import os

    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(conninfo)
    except psycopg.Error:
        return "(an unparsable database URL)"
    user = str(parts.get("user") or os.environ.get("PGUSER") or "(default user)")
    host = str(parts.get("host") or parts.get("hostaddr") or "(local socket)")
    port = str(parts.get("port") or "5432")
    dbname = str(parts.get("dbname") or user)
    return f"{user}@{host}:{port}/{dbname}"


def unavailable(conninfo: str, timeout: float, exc: BaseException) -> DatabaseUnavailable:
    """The DatabaseUnavailable for a pool that gave no connection within `timeout` seconds,
    with libpq's reason from one direct attempt (the pool's own attempts are not reported)."""
    where = public_location(conninfo)
    try:
        psycopg.connect(conninfo, connect_timeout=max(1, round(timeout)), autocommit=True).close()
    except psycopg.Error as probe:
        text = str(probe).strip()
        reason = text.splitlines()[0].removeprefix("connection failed: ") if text else type(probe).__name__
        return DatabaseUnavailable(
            f"database unavailable: cannot connect to the database at {where} within {timeout:g} s: {reason}"
        )
    # The server answers: every pooled connection stayed busy (or the pool is closed).
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DatabaseUnavailable(
        f"database unavailable: no free pooled connection to {where} within {timeout:g} s ({detail})"
    )


def located(build: Callable[[Sequence[Job]], T], jobs: Sequence[Job], items: bool) -> T:
    """`build(jobs)`; with `items`, an InvalidInput about one job names it (`jobs[3].payload: ...`)
    by checking the jobs one at a time (only on the error path)."""
    try:
        return build(jobs)
    except InvalidInput as exc:
        if not items or str(exc).startswith("jobs") or isinstance(jobs, Job | str | bytes):
            raise
        if not isinstance(jobs, Sequence):
            raise
        for i, job in enumerate(jobs):
            try:
                build([job])
            except InvalidInput as one:
                raise item_error("jobs", i, one) from None
        raise


def check_version(schema: str, version: int | None) -> None:
    if version is None:
        raise NotInstalled(f"schema {schema!r} has no ringq installation; run ringq.install() first")
    if version != SCHEMA_VERSION:
        raise version_mismatch(schema, version)


class Queue(QueueBase[ConnectionPool]):
    """A ringq queue in one schema, over a connection pool (created from a DSN or yours).

    Options: `schema`, `clock`, `max_payload_bytes`, `backoff` (the default retry backoff),
    `maintenance_lock_timeout` (seconds), `rescue_margin` (seconds of tolerated clock skew) and
    `pool_size` (of a pool made from a DSN); see `ringq.calls.QueueBase`.
    """

    _pool_type = ConnectionPool
    _pool_name = "ringq"
    _open_at_once = True

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        # Until a first connection succeeded, wait connect_timeout; then the pool's own timeout.
        timeout = None if self._connected else self.connect_timeout
        try:
            cm = self._pool.connection(timeout=timeout)
            conn = cm.__enter__()
        except PoolTimeout as exc:
            raise unavailable(self.conninfo, timeout or self._pool.timeout, exc) from exc
        self._connected = True
        try:
            yield conn
        except BaseException as exc:
            if not cm.__exit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            cm.__exit__(None, None, None)

    def _execute(self, conn: psycopg.Connection, call: Call[T]) -> T:
        try:
            rows = conn.execute(call.query, call.params).fetchall()
        except psycopg.Error as exc:
            typed = translate(exc)
            if typed is None:
                raise
            raise typed from exc
        return call.parse(rows)

    def _check(self, conn: psycopg.Connection) -> None:
        if self._checked:
            return
        try:
            row = conn.execute(render(VERSION, self.schema)).fetchone()
        except (pg_errors.UndefinedTable, pg_errors.InvalidSchemaName):
            if not conn.autocommit:
                conn.rollback()
            row = None
        check_version(self.schema, None if row is None else int(row[0]))
        self._checked = True

    def _run(self, call: Call[T], conn: psycopg.Connection | None = None) -> T:
        if conn is not None:  # the caller's transaction: no commit here
            return self._execute(conn, call)
        with self._connection() as own:
            self._check(own)
            return self._execute(own, call)

    # -- jobs -------------------------------------------------------------------------------

    def enqueue(
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
        conn: psycopg.Connection | None = None,
    ) -> int:
        """Enqueue one job; returns its id.

        `payload`: any JSON value (InvalidInput otherwise). Non-str dict keys become strings by
        JSON's rules (1 -> "1"); two keys of one dict that become the same string are rejected.

        `dedup_key`: while a job enqueued with the same (queue, dedup_key) is live (queued,
        deferred or running), nothing is written and that job's id is returned; once it is
        terminal (completed, cancelled, dead-lettered) the key is free again.
        With `conn`, runs inside the caller's transaction and does not commit.
        """
        job = Job(task, payload, queue, priority, run_at, delay, max_attempts, dedup_key)
        return self._enqueue_jobs([job], conn, items=False)[0]

    def enqueue_many(self, jobs: Sequence[Job], *, conn: psycopg.Connection | None = None) -> list[int]:
        """Enqueue a batch atomically in one statement; ids in input order. A rejected job is
        named by its index (InvalidInput `jobs[3].payload: ...`) and nothing is written."""
        return self._enqueue_jobs(jobs, conn, items=True)

    def _enqueue_jobs(
        self, jobs: Sequence[Job], conn: psycopg.Connection | None, *, items: bool
    ) -> list[int]:
        call = located(lambda js: self._enqueue(js, staged=conn is not None), jobs, items)
        return self._run(call, conn) if jobs else []

    def claim(
        self, *, worker: str, queues: Sequence[str] | None = None, limit: int = 10, lease: float = 30.0
    ) -> list[ClaimedJob]:
        return self._run(self._claim(worker, queues, limit, lease))

    def complete(self, job_id: int, run_lease: int, result: Any = None) -> None:
        """Finish the attempt; raises LeaseLost when it is no longer held (nothing changes)."""
        self._completed(self.complete_many([Completion(job_id, run_lease, result)]))

    def complete_many(self, items: Sequence[Completion]) -> list[RingqError | None]:
        """Finish many attempts in one transaction; per item None (done) or the typed error."""
        call = self._complete(items)
        return self._run(call) if items else []

    def fail(self, failure: Failure) -> str:
        """Record a failed attempt: 'retried' or 'dlq'; raises LeaseLost when no longer held."""
        return self._failed(self.fail_many([failure]))

    def fail_many(self, items: Sequence[Failure]) -> list[str | RingqError]:
        call = self._fail(items)
        return self._run(call) if items else []

    def heartbeat(
        self,
        attempts: Sequence[tuple[int, int]],
        *,
        lease: float = 30.0,
        progress: Mapping[int, Any] | None = None,
    ) -> list[tuple[int, int]]:
        """Extend the deadline of open attempts; returns the attempts that are no longer open."""
        call = self._heartbeat(attempts, lease, progress)
        return self._run(call) if attempts else []

    def cancel(self, job_id: int) -> CancelOutcome:
        return self._run(self._cancel(job_id))

    def job(self, job_id: int) -> JobInfo | None:
        return self._run(self._job(job_id))

    def stats(self) -> list[QueueStats]:
        return self._run(self._stats())

    # -- maintenance ------------------------------------------------------------------------

    def promote(self, limit: int = 10_000) -> int:
        return self._run(self._promote(limit))

    def rescue(self, limit: int = 10_000) -> int:
        return self._run(self._rescue(limit))

    def rotate(self, ring: Literal["queue", "claim"]) -> int:
        return self._run(self._rotate(ring))

    def prune(self, ring: Literal["queue", "claim"]) -> int | None:
        return self._run(self._prune(ring))

    # -- dead-letter queue ------------------------------------------------------------------

    def dlq_list(self, queue: str | None = None, limit: int = 100) -> list[DlqEntry]:
        return self._run(self._dlq_list(queue, limit))

    def dlq_retry(self, job_ids: Sequence[int] | None = None, *, queue: str | None = None) -> int:
        return self._run(self._dlq_retry(job_ids, queue))

    def dlq_purge(self, job_ids: Sequence[int] | None = None, *, queue: str | None = None) -> int:
        return self._run(self._dlq_purge(job_ids, queue))

    def close(self) -> None:
        if self._owns_pool:
            self._pool.close()

    def __enter__(self) -> Queue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
