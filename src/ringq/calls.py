"""One builder per transaction, and what `Queue` and `AsyncQueue` share.

A builder validates its arguments (InvalidInput before anything is written) and returns a `Call`:
the statement, its parameters, and how to read its rows. The statements call plpgsql functions
installed in the schema (`ringq/sql/*.sql`), so each is one transaction in one round trip. The
sync `Queue` (client.py) and the asyncio `AsyncQueue` (aclient.py) run the very same calls; only
the I/O differs. `QueueBase` holds the rest they share: the constructor options, checked before
any pool exists, and the builders bound to the queue's schema, clock and options.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, Literal, TypeVar

from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from ringq import admin, maintenance
from ringq.backoff import Backoff
from ringq.clock import Clock, SystemClock
from ringq.errors import AttemptClosed, InvalidInput, LeaseLost, RingqError, register
from ringq.maintenance import RotateBlocked
from ringq.sqlfiles import Call, render
from ringq.types import CancelOutcome, ClaimedJob, Completion, DlqEntry, Failure, Job, JobInfo, QueueStats
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

# rotate.sql raises RQ002; the class lives in maintenance.py with the rotate call.
register(RotateBlocked, "RQ002")

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

# Closures written by the attempt's own holder: a second finalise is a caller bug, not a lost lease.
_SELF_CLOSURES = frozenset({"completed", "failed", "retried", "dlq"})
MAX_TRACEBACK_CHARS = 8_000


# -- builders -----------------------------------------------------------------------------------


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


def _completion_outcome(i: int, job_id: int, run_lease: int, closed_by: str | None) -> RingqError | None:
    if closed_by is None:
        return None
    if closed_by == "duplicate":  # complete.sql: the attempt is listed by an earlier item too
        return InvalidInput(
            f"items[{i}]: duplicate of an earlier item for attempt (job_id={job_id}, "
            f"run_lease={run_lease}); only the first one was applied"
        )
    return _closed_error(job_id, run_lease, closed_by)


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
        return [_completion_outcome(i, j, r, closed) for i, (j, r, closed) in enumerate(rows)]

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


# -- options ------------------------------------------------------------------------------------

DEFAULT_CONNECT_TIMEOUT = 5.0
"""Seconds a call waits for its first connection before raising DatabaseUnavailable."""


def check_connect_timeout(value: object) -> float:
    seconds = check_seconds("connect_timeout", value)
    if seconds <= 0:
        raise InvalidInput(f"connect_timeout: {value!r} must be a positive number of seconds")
    return seconds


MAX_LOCK_TIMEOUT_S = 60.0
MAX_POOL_SIZE = 1000
MAX_PAYLOAD_LIMIT = 256 * 1024 * 1024


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


def read_committed_options(dsn: str) -> str:
    """The DSN's own `options` plus `-c default_transaction_isolation=read committed`: every
    transaction ringq runs on its own connections is READ COMMITTED (ADR 0012)."""
    given = str(conninfo_to_dict(dsn).get("options") or "")
    return f"{given} -c default_transaction_isolation=read\\ committed".strip()


Pool = TypeVar("Pool", ConnectionPool, AsyncConnectionPool)


class QueueBase(Generic[Pool]):
    """What `Queue` and `AsyncQueue` share: the options and the builders bound to them.

    A subclass names its pool type (the one a caller may hand in, and the one made from a DSN)
    and runs the calls.
    """

    _pool_type: type  # the pool class a caller may hand in
    _pool_name: str  # prefix of the name of a pool made from a DSN
    _open_at_once: bool  # open a pool made from a DSN in the constructor

    def __init__(
        self,
        dsn_or_pool: str | Pool,
        *,
        schema: str = "ringq",
        clock: Clock | None = None,
        max_payload_bytes: int = 1_000_000,
        backoff: Backoff | None = None,
        maintenance_lock_timeout: float = 0.5,
        rescue_margin: float = 5.0,
        pool_size: int = 4,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        """`connect_timeout`: seconds a call waits for the first connection before raising
        DatabaseUnavailable (a wrong or unreachable DSN fails fast, in one ringq error)."""
        self.schema = check_schema(schema)
        self.connect_timeout = check_connect_timeout(connect_timeout)
        self._connected = False
        self.clock: Clock
        self.clock, self.backoff, self._lock_timeout_ms, pool_size = check_options(
            clock, backoff, maintenance_lock_timeout, pool_size
        )
        self.max_payload_bytes = check_limit("max_payload_bytes", max_payload_bytes, MAX_PAYLOAD_LIMIT)
        self.rescue_margin = check_seconds("rescue_margin", rescue_margin)
        self._checked = False
        self._pool: Pool
        if isinstance(dsn_or_pool, str):
            self._pool = self._make_pool(dsn_or_pool, pool_size)
            self._owns_pool = True
        elif isinstance(dsn_or_pool, self._pool_type):
            self._pool = dsn_or_pool
            self._owns_pool = False
        else:
            raise InvalidInput(
                f"dsn_or_pool: expected a DSN string or a psycopg_pool.{self._pool_type.__name__}"
            )

    def _make_pool(self, dsn: str, size: int) -> Pool:
        """The queue's own pool: autocommit connections, so each call is its own transaction, at
        READ COMMITTED whatever the role's or database's default_transaction_isolation (ADR 0012)."""
        pool: Pool = self._pool_type(
            dsn,
            min_size=1,
            max_size=size,
            open=self._open_at_once,
            kwargs={"autocommit": True, "options": read_committed_options(dsn)},
            name=f"{self._pool_name}-{self.schema}",
        )
        return pool

    @property
    def conninfo(self) -> str:
        """The connection string of the pool, for tools that need a connection of their own
        (the maintenance leader holds its advisory lock on a dedicated session)."""
        return str(self._pool.conninfo)

    # -- the calls, with this queue's schema, clock and options ----------------------------------

    def _enqueue(self, jobs: Sequence[Job], *, staged: bool) -> Call[list[int]]:
        return enqueue_call(self.schema, self.clock.now(), jobs, self.max_payload_bytes, staged=staged)

    def _claim(
        self, worker: str, queues: Sequence[str] | None, limit: int, lease: float
    ) -> Call[list[ClaimedJob]]:
        return claim_call(self.schema, self.clock.now(), worker, queues, limit, lease)

    def _complete(self, items: Sequence[Completion]) -> Call[list[RingqError | None]]:
        return complete_call(self.schema, self.clock.now(), items, self.max_payload_bytes)

    def _fail(self, items: Sequence[Failure]) -> Call[list[str | RingqError]]:
        return fail_call(self.schema, self.clock.now(), items, self.backoff)

    def _heartbeat(
        self, attempts: Sequence[tuple[int, int]], lease: float, progress: Mapping[int, Any] | None
    ) -> Call[list[tuple[int, int]]]:
        return heartbeat_call(
            self.schema, self.clock.now(), attempts, lease, progress, self.max_payload_bytes
        )

    def _cancel(self, job_id: int) -> Call[CancelOutcome]:
        return admin.cancel_call(self.schema, self.clock.now(), job_id)

    def _job(self, job_id: int) -> Call[JobInfo | None]:
        return admin.job_call(self.schema, job_id)

    def _stats(self) -> Call[list[QueueStats]]:
        return admin.stats_call(self.schema)

    def _promote(self, limit: int) -> Call[int]:
        return maintenance.promote_call(self.schema, self.clock.now(), limit)

    def _rescue(self, limit: int) -> Call[int]:
        return maintenance.rescue_call(self.schema, self.clock.now(), self.backoff, limit, self.rescue_margin)

    def _rotate(self, ring: Literal["queue", "claim"]) -> Call[int]:
        return maintenance.rotate_call(self.schema, ring, self._lock_timeout_ms)

    def _prune(self, ring: Literal["queue", "claim"]) -> Call[int | None]:
        return maintenance.prune_call(self.schema, ring, self._lock_timeout_ms)

    def _dlq_list(self, queue: str | None, limit: int) -> Call[list[DlqEntry]]:
        return admin.dlq_list_call(self.schema, queue, limit)

    def _dlq_retry(self, job_ids: Sequence[int] | None, queue: str | None) -> Call[int]:
        return admin.dlq_retry_call(self.schema, self.clock.now(), job_ids, queue)

    def _dlq_purge(self, job_ids: Sequence[int] | None, queue: str | None) -> Call[int]:
        return admin.dlq_purge_call(self.schema, job_ids, queue)

    # -- single-item forms of the batch calls ----------------------------------------------------

    @staticmethod
    def _completed(outcomes: list[RingqError | None]) -> None:
        [outcome] = outcomes
        if outcome is not None:
            raise outcome

    @staticmethod
    def _failed(outcomes: list[str | RingqError]) -> str:
        [outcome] = outcomes
        if isinstance(outcome, RingqError):
            raise outcome
        return outcome
