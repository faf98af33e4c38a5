"""`Queue`: the synchronous client. Every operation is one statement in one round trip.

The statements call plpgsql functions installed in the schema (`ringq/sql/*.sql`), so claim,
complete_many, fail_many, rescue, ... are each one transaction and one round trip. Connections
from a pool the queue creates are autocommit: the single statement IS the transaction (no
BEGIN/COMMIT round trips). `AsyncQueue` (aclient.py) runs the very same `Call`s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool

from ringq import admin, maintenance
from ringq.admin import JobAlreadyTerminal
from ringq.backoff import Backoff
from ringq.clock import Clock, SystemClock
from ringq.errors import (
    AttemptClosed,
    InvalidInput,
    JobNotFound,
    LeaseLost,
    MaintenanceBusy,
    NotInstalled,
    PermissionDenied,
    PruneBlocked,
    RingqError,
)
from ringq.install import SCHEMA_VERSION, version_mismatch
from ringq.maintenance import RotateBlocked
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
from ringq.validation import (
    MAX_WORKER_LEN,
    check_dedup_key,
    check_delay,
    check_id,
    check_lease,
    check_limit,
    check_max_attempts,
    check_name,
    check_priority,
    check_schedule,
    check_schema,
    check_seconds,
    check_text,
    check_utf8,
    encode_json,
)

T = TypeVar("T")

ENQUEUE = (
    "SELECT {schema}.enqueue(%s, %s::text[], %s::text[], %s::int[], %s::text[], %s::int[], "
    "%s::timestamptz[], %s::text[], %s)"
)
CLAIM = "SELECT * FROM {schema}.claim(%s, %s, %s::text[], %s, %s)"
COMPLETE = "SELECT * FROM {schema}.complete(%s, %s::bigint[], %s::bigint[], %s::text[])"
FAIL = (
    "SELECT * FROM {schema}.fail(%s, %s::bigint[], %s::bigint[], %s::text[], %s::text[], "
    "%s::float8[], %s::boolean[], %s::float8[])"
)
HEARTBEAT = "SELECT * FROM {schema}.heartbeat(%s, %s::bigint[], %s::bigint[], %s, %s::text[])"
VERSION = "SELECT version FROM {schema}.meta"

# Closures written by the attempt's own holder: a second finalise is a caller bug, not a lost lease.
_SELF_CLOSURES = frozenset({"completed", "failed", "retried", "dlq"})
MAX_TRACEBACK_CHARS = 8_000


# -- building calls (shared with aclient.py) ------------------------------------------------


def enqueue_call(
    schema: str, now: datetime, jobs: Sequence[Job], max_payload_bytes: int, *, staged: bool = False
) -> Call[list[int]]:
    """Validate every job (InvalidInput before anything is written) and build the one statement.

    `staged`: the statement runs in the caller's transaction, which may stay open: its jobs are
    sequenced into the ready ring at that transaction's commit (enqueue.sql, ADR 0011)."""
    if isinstance(jobs, Job) or not isinstance(jobs, Sequence):
        raise InvalidInput("jobs: expected a sequence of Job")
    cols: tuple[list[Any], ...] = ([], [], [], [], [], [], [])
    tasks, queues, priorities, payloads, attempts, run_ats, keys = cols
    for i, job in enumerate(jobs):
        if not isinstance(job, Job):
            raise InvalidInput(f"jobs[{i}]: expected a Job, got {type(job).__name__}")
        tasks.append(check_name("task", job.task))
        queues.append(check_name("queue", job.queue))
        priorities.append(check_priority(job.priority))
        payloads.append(
            None if job.payload is None else encode_json("payload", job.payload, max_payload_bytes)
        )
        attempts.append(check_max_attempts(job.max_attempts))
        check_schedule(job.run_at, job.delay)
        run_at = job.run_at if job.delay is None else now + timedelta(seconds=float(job.delay))
        run_ats.append(run_at)
        keys.append(check_dedup_key(job.dedup_key))
    return Call(
        render(ENQUEUE, schema),
        (now, tasks, queues, priorities, payloads, attempts, run_ats, keys, staged),
        lambda rows: list(rows[0][0]),
    )


def claim_call(
    schema: str, now: datetime, worker: str, queues: Sequence[str] | None, limit: int, lease: float
) -> Call[list[ClaimedJob]]:
    if not isinstance(worker, str) or not worker or len(worker) > MAX_WORKER_LEN or "\x00" in worker:
        raise InvalidInput(f"worker: expected a non-empty str of at most {MAX_WORKER_LEN} characters")
    check_utf8("worker", worker)
    if queues is not None:
        if isinstance(queues, str) or not isinstance(queues, Sequence):
            raise InvalidInput("queues: expected a sequence of queue names or None")
        queues = [check_name("queues", q) for q in queues]
    params = (now, worker, queues, check_limit("limit", limit), check_lease(lease))
    return Call(render(CLAIM, schema), params, lambda rows: [ClaimedJob(*row) for row in rows])


def _check_sequence(arg: str, value: object, what: str) -> None:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise InvalidInput(f"{arg}: expected a sequence {what}, got {type(value).__name__}")


def _closed_error(job_id: int, run_lease: int, closed_by: str) -> AttemptClosed:
    if closed_by in _SELF_CLOSURES:
        return AttemptClosed(job_id, run_lease, closed_by)
    closure = None if closed_by in ("missing", "open") else closed_by
    reason = {
        "rescued": "its lease expired and it was rescued",
        "cancelled": "the job was cancelled",
        None: "no such claim (unknown attempt, or its claim slot was pruned)",
    }.get(closure, f"it was closed ({closure})")
    return LeaseLost(
        job_id,
        run_lease,
        closure,
        f"attempt (job_id={job_id}, run_lease={run_lease}) is no longer held: {reason}; nothing was changed",
    )


def complete_call(
    schema: str, now: datetime, items: Sequence[Completion], max_bytes: int
) -> Call[list[RingqError | None]]:
    _check_sequence("items", items, "of Completion")
    job_ids, leases, results = [], [], []
    for item in items:
        if not isinstance(item, Completion):
            raise InvalidInput(f"items: expected Completion, got {type(item).__name__}")
        job_ids.append(check_id("job_id", item.job_id))
        leases.append(check_id("run_lease", item.run_lease))
        results.append(None if item.result is None else encode_json("result", item.result, max_bytes))

    def parse(rows: list[tuple[Any, ...]]) -> list[RingqError | None]:
        return [None if closed is None else _closed_error(j, r, closed) for j, r, closed in rows]

    return Call(render(COMPLETE, schema), (now, job_ids, leases, results), parse)


def fail_call(
    schema: str, now: datetime, items: Sequence[Failure], backoff: Backoff
) -> Call[list[str | RingqError]]:
    cols: tuple[list[Any], ...] = ([], [], [], [], [], [])
    job_ids, leases, errors, tracebacks, delays, dead = cols
    _check_sequence("items", items, "of Failure")
    for item in items:
        if not isinstance(item, Failure):
            raise InvalidInput(f"items: expected Failure, got {type(item).__name__}")
        job_ids.append(check_id("job_id", item.job_id))
        leases.append(check_id("run_lease", item.run_lease))
        errors.append(check_text("error", item.error))
        tb = check_text("traceback", item.traceback, optional=True)
        tracebacks.append(None if tb is None else tb[-MAX_TRACEBACK_CHARS:])
        delays.append(None if item.retry_delay is None else check_delay("retry_delay", item.retry_delay))
        if not isinstance(item.dead_letter, bool):
            raise InvalidInput("dead_letter: expected a bool")
        dead.append(item.dead_letter)

    def parse(rows: list[tuple[Any, ...]]) -> list[str | RingqError]:
        out: list[str | RingqError] = []
        for j, r, outcome in rows:
            if outcome.startswith("lost:"):
                out.append(_closed_error(j, r, outcome.removeprefix("lost:")))
            else:
                out.append(outcome)
        return out

    params = (now, job_ids, leases, errors, tracebacks, delays, dead, backoff.as_sql())
    return Call(render(FAIL, schema), params, parse)


def heartbeat_call(
    schema: str,
    now: datetime,
    attempts: Sequence[tuple[int, int]],
    lease: float,
    progress: Mapping[int, Any] | None,
    max_bytes: int,
) -> Call[list[tuple[int, int]]]:
    _check_sequence("attempts", attempts, "of (job_id, run_lease)")
    if progress is not None and not isinstance(progress, Mapping):
        raise InvalidInput("progress: expected a mapping job_id -> JSON or None")
    job_ids, leases, prog = [], [], []
    for i, attempt in enumerate(attempts):
        if isinstance(attempt, str) or not isinstance(attempt, Sequence) or len(attempt) != 2:
            raise InvalidInput(f"attempts[{i}]: expected a (job_id, run_lease) pair")
        job_id, run_lease = attempt
        job_ids.append(check_id("job_id", job_id))
        leases.append(check_id("run_lease", run_lease))
        value = None if progress is None else progress.get(job_id)
        prog.append(None if value is None else encode_json("progress", value, max_bytes))
    params = (now, job_ids, leases, check_lease(lease), prog)
    return Call(render(HEARTBEAT, schema), params, lambda rows: [(j, r) for j, r in rows])


def translate(exc: psycopg.Error) -> RingqError | None:
    """The typed error a database error stands for (None: not one of ours)."""
    state = exc.sqlstate
    message = exc.diag.message_primary or str(exc)
    if state == "RQ001":
        return PruneBlocked(message)
    if state == "RQ002":
        return RotateBlocked(message)
    if state == "RQ003":
        return JobAlreadyTerminal(message, exc.diag.message_hint)
    if state == "RQ004":
        return JobNotFound(message)
    if state == "RQ005":  # enqueue in a caller transaction that is not READ COMMITTED
        return InvalidInput(f"conn: {message}")
    if isinstance(exc, pg_errors.LockNotAvailable):
        return MaintenanceBusy(f"could not take a lock without waiting: {message}")
    if isinstance(exc, pg_errors.UndefinedFunction | pg_errors.InvalidSchemaName | pg_errors.UndefinedTable):
        return NotInstalled(f"ringq is not installed here ({message}); run ringq.install() first")
    if isinstance(exc, pg_errors.InsufficientPrivilege):
        return PermissionDenied(
            f"{message}; the ringq runtime role needs the grants in docs/failure-behaviour.md "
            "(prune needs TRUNCATE)"
        )
    return None


MAX_LOCK_TIMEOUT_S = 60.0
MAX_POOL_SIZE = 1000


def check_options(
    clock: object, backoff: object, maintenance_lock_timeout: object, pool_size: object
) -> tuple[Clock, Backoff, int, int]:
    """The Queue/AsyncQueue constructor options, checked before any pool exists:
    (clock, backoff, maintenance lock timeout in ms, pool size), or InvalidInput."""
    if clock is None:
        clock = SystemClock()
    elif not callable(getattr(clock, "now", None)):
        raise InvalidInput(f"clock: expected a Clock (an object with now()), got {type(clock).__name__}")
    if backoff is None:
        backoff = Backoff()
    elif not isinstance(backoff, Backoff):
        raise InvalidInput(f"backoff: expected a ringq.Backoff, got {type(backoff).__name__}")
    timeout = check_seconds("maintenance_lock_timeout", maintenance_lock_timeout, allow_zero=False)
    if timeout > MAX_LOCK_TIMEOUT_S:
        raise InvalidInput(
            f"maintenance_lock_timeout: {timeout!r} seconds is more than {MAX_LOCK_TIMEOUT_S:g}"
        )
    size = check_limit("pool_size", pool_size, MAX_POOL_SIZE)
    return clock, backoff, max(1, int(timeout * 1000)), size  # type: ignore[return-value]


def check_version(schema: str, version: int | None) -> None:
    if version is None:
        raise NotInstalled(f"schema {schema!r} has no ringq installation; run ringq.install() first")
    if version != SCHEMA_VERSION:
        raise version_mismatch(schema, version)


class Queue:
    """A ringq queue in one schema, over a connection pool (created from a DSN or yours)."""

    def __init__(
        self,
        dsn_or_pool: str | ConnectionPool,
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
        if isinstance(dsn_or_pool, str):
            self._pool = ConnectionPool(
                dsn_or_pool,
                min_size=1,
                max_size=pool_size,
                open=True,
                kwargs={"autocommit": True},
                name=f"ringq-{schema}",
            )
            self._owns_pool = True
        elif isinstance(dsn_or_pool, ConnectionPool):
            self._pool = dsn_or_pool
            self._owns_pool = False
        else:
            raise InvalidInput("dsn_or_pool: expected a DSN string or a psycopg_pool.ConnectionPool")

    @property
    def conninfo(self) -> str:
        """The connection string of the pool, for tools that need a connection of their own
        (the maintenance leader holds its advisory lock on a dedicated session)."""
        return str(self._pool.conninfo)

    # -- plumbing ---------------------------------------------------------------------------

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
        with self._pool.connection() as own:
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
        return self.enqueue_many([job], conn=conn)[0]

    def enqueue_many(self, jobs: Sequence[Job], *, conn: psycopg.Connection | None = None) -> list[int]:
        """Enqueue a batch atomically in one statement; ids in input order."""
        call = enqueue_call(
            self.schema, self.clock.now(), jobs, self.max_payload_bytes, staged=conn is not None
        )
        if not jobs:
            return []
        return self._run(call, conn)

    def claim(
        self, *, worker: str, queues: Sequence[str] | None = None, limit: int = 10, lease: float = 30.0
    ) -> list[ClaimedJob]:
        return self._run(claim_call(self.schema, self.clock.now(), worker, queues, limit, lease))

    def complete(self, job_id: int, run_lease: int, result: Any = None) -> None:
        """Finish the attempt; raises LeaseLost when it is no longer held (nothing changes)."""
        [outcome] = self.complete_many([Completion(job_id, run_lease, result)])
        if outcome is not None:
            raise outcome

    def complete_many(self, items: Sequence[Completion]) -> list[RingqError | None]:
        """Finish many attempts in one transaction; per item None (done) or the typed error."""
        call = complete_call(self.schema, self.clock.now(), items, self.max_payload_bytes)
        return self._run(call) if items else []

    def fail(self, failure: Failure) -> str:
        """Record a failed attempt: 'retried' or 'dlq'; raises LeaseLost when no longer held."""
        [outcome] = self.fail_many([failure])
        if isinstance(outcome, RingqError):
            raise outcome
        return outcome

    def fail_many(self, items: Sequence[Failure]) -> list[str | RingqError]:
        call = fail_call(self.schema, self.clock.now(), items, self.backoff)
        return self._run(call) if items else []

    def heartbeat(
        self,
        attempts: Sequence[tuple[int, int]],
        *,
        lease: float = 30.0,
        progress: Mapping[int, Any] | None = None,
    ) -> list[tuple[int, int]]:
        """Extend the deadline of open attempts; returns the attempts that are no longer open."""
        call = heartbeat_call(
            self.schema, self.clock.now(), attempts, lease, progress, self.max_payload_bytes
        )
        return self._run(call) if attempts else []

    def cancel(self, job_id: int) -> CancelOutcome:
        return self._run(admin.cancel_call(self.schema, self.clock.now(), job_id))

    def job(self, job_id: int) -> JobInfo | None:
        return self._run(admin.job_call(self.schema, job_id))

    def stats(self) -> list[QueueStats]:
        return self._run(admin.stats_call(self.schema))

    # -- maintenance ------------------------------------------------------------------------

    def promote(self, limit: int = 10_000) -> int:
        return self._run(maintenance.promote_call(self.schema, self.clock.now(), limit))

    def rescue(self, limit: int = 10_000) -> int:
        return self._run(
            maintenance.rescue_call(self.schema, self.clock.now(), self.backoff, limit, self.rescue_margin)
        )

    def rotate(self, ring: Literal["queue", "claim"]) -> int:
        return self._run(maintenance.rotate_call(self.schema, ring, self._lock_timeout_ms))

    def prune(self, ring: Literal["queue", "claim"]) -> int | None:
        return self._run(maintenance.prune_call(self.schema, ring, self._lock_timeout_ms))

    # -- dead-letter queue ------------------------------------------------------------------

    def dlq_list(self, queue: str | None = None, limit: int = 100) -> list[DlqEntry]:
        return self._run(admin.dlq_list_call(self.schema, queue, limit))

    def dlq_retry(self, job_ids: Sequence[int] | None = None, *, queue: str | None = None) -> int:
        return self._run(admin.dlq_retry_call(self.schema, self.clock.now(), job_ids, queue))

    def dlq_purge(self, job_ids: Sequence[int] | None = None, *, queue: str | None = None) -> int:
        return self._run(admin.dlq_purge_call(self.schema, job_ids, queue))

    def close(self) -> None:
        if self._owns_pool:
            self._pool.close()

    def __enter__(self) -> Queue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
