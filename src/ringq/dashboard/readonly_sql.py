"""The dashboard's only direct reads of ringq's tables: numbers the public API (`Queue`) lacks.

`Queue.stats()` gives counts; it has no timestamps, so pickup latency, the age of the oldest
queued job and recent rates are read here, as are a job's attempt history (worker, claim time,
closure) and its latest progress, which `Queue.job()` does not return. Every statement is a
SELECT, run in a READ ONLY transaction with a statement timeout, and reads only rows the ring
still retains (pruned slots are gone, so windows longer than the retention undercount).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

STATEMENT_TIMEOUT_MS = 5_000

# Per queue, over rows the ring retains: when the oldest unclaimed, uncancelled ready row became
# ready; pickup latency (claimed_at - the ready row's enqueued_at) of claims in the window; rows
# made ready, claims and attempt closures in the window.
TIMINGS = """
    WITH oldest AS (
        SELECT l.queue, min(r.enqueued_at) AS at
        FROM {s}.lanes l
        JOIN {s}.ready r ON r.lane_id = l.lane_id AND r.lane_seq >= l.claim_seq AND r.lane_seq < l.next_seq
        WHERE NOT EXISTS (SELECT 1 FROM {s}.cancels k WHERE k.job_id = r.job_id)
        GROUP BY l.queue
    ), pickup AS (
        SELECT l.queue, count(*) AS claimed,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM c.claimed_at - r.enqueued_at)) AS p50,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM c.claimed_at - r.enqueued_at)) AS p95,
               max(extract(epoch FROM c.claimed_at - r.enqueued_at)) AS worst
        FROM {s}.claims c
        JOIN {s}.lanes l ON l.lane_id = c.lane_id
        JOIN {s}.ready r ON r.lane_id = c.lane_id AND r.lane_seq = c.lane_seq AND r.slot = c.ready_slot
        WHERE c.claimed_at >= %(since)s
        GROUP BY l.queue
    ), made_ready AS (
        SELECT queue, count(*) AS n FROM {s}.ready WHERE enqueued_at >= %(since)s GROUP BY queue
    ), closed AS (
        SELECT l.queue,
               count(*) FILTER (WHERE x.outcome = 'completed') AS completed,
               count(*) FILTER (WHERE x.outcome IN ('failed', 'retried', 'dlq', 'rescued')) AS failed
        FROM {s}.closures x JOIN {s}.lanes l ON l.lane_id = x.lane_id
        WHERE x.closed_at >= %(since)s
        GROUP BY l.queue
    ), next_due AS (
        SELECT queue, min(run_at) AS at FROM {s}.deferred GROUP BY queue
    ), names AS (
        SELECT queue FROM oldest UNION SELECT queue FROM pickup UNION SELECT queue FROM made_ready
        UNION SELECT queue FROM closed UNION SELECT queue FROM next_due
    )
    SELECT n.queue, o.at, coalesce(p.claimed, 0), p.p50, p.p95, p.worst, coalesce(m.n, 0),
           coalesce(x.completed, 0), coalesce(x.failed, 0), d.at
    FROM names n
    LEFT JOIN oldest o ON o.queue = n.queue LEFT JOIN pickup p ON p.queue = n.queue
    LEFT JOIN made_ready m ON m.queue = n.queue LEFT JOIN closed x ON x.queue = n.queue
    LEFT JOIN next_due d ON d.queue = n.queue
    ORDER BY n.queue"""

ATTEMPTS = """
    SELECT c.run_lease, c.attempt, c.worker, c.claimed_at,
           greatest(c.deadline, (SELECT max(h.deadline) FROM {s}.heartbeats h
                                 WHERE h.job_id = c.job_id AND h.run_lease = c.run_lease)) AS deadline,
           x.outcome, x.error, x.closed_at,
           (SELECT h.progress FROM {s}.heartbeats h
            WHERE h.job_id = c.job_id AND h.run_lease = c.run_lease AND h.progress IS NOT NULL
            ORDER BY h.at DESC LIMIT 1) AS progress
    FROM {s}.claims c
    LEFT JOIN {s}.closures x ON x.job_id = c.job_id AND x.run_lease = c.run_lease
    WHERE c.job_id = %(job_id)s
    ORDER BY c.run_lease"""

FIRST_READY = "SELECT min(enqueued_at) FROM {s}.ready WHERE job_id = %(job_id)s"
DLQ_TRACEBACK = "SELECT traceback, failed_at FROM {s}.dlq WHERE job_id = %(job_id)s"


@dataclass(frozen=True)
class QueueTimings:
    queue: str
    oldest_queued_at: datetime | None
    claimed: int  # claims in the window
    pickup_p50: float | None  # seconds
    pickup_p95: float | None
    pickup_max: float | None
    made_ready: int  # enqueues, retries and promotions in the window
    completed: int  # attempts closed as completed in the window
    failed: int  # attempts closed as failed, retried, dead-lettered or rescued in the window
    next_due: datetime | None  # earliest run_at of a deferred job


@dataclass(frozen=True)
class Attempt:
    run_lease: int
    attempt: int
    worker: str
    claimed_at: datetime
    deadline: datetime  # the latest: heartbeats extend the claim's
    outcome: str | None  # None: still open
    error: str | None
    closed_at: datetime | None
    progress: Any  # the latest progress reported by a heartbeat of this attempt


@dataclass(frozen=True)
class JobHistory:
    first_ready_at: datetime | None
    attempts: list[Attempt]
    traceback: str | None  # from the DLQ, while the job is there


def _read(conn: psycopg.Connection, schema: str, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    composed = sql.SQL(query).format(s=sql.Identifier(schema))
    with conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(STATEMENT_TIMEOUT_MS)))
        return conn.execute(composed, params).fetchall()


def queue_timings(
    conn: psycopg.Connection, schema: str, now: datetime, window: float
) -> dict[str, QueueTimings]:
    since = now - timedelta(seconds=window)
    rows = _read(conn, schema, TIMINGS, {"since": since})
    return {
        row[0]: QueueTimings(
            queue=row[0],
            oldest_queued_at=row[1],
            claimed=int(row[2]),
            pickup_p50=None if row[3] is None else float(row[3]),
            pickup_p95=None if row[4] is None else float(row[4]),
            pickup_max=None if row[5] is None else float(row[5]),
            made_ready=int(row[6]),
            completed=int(row[7]),
            failed=int(row[8]),
            next_due=row[9],
        )
        for row in rows
    }


def job_history(conn: psycopg.Connection, schema: str, job_id: int) -> JobHistory:
    params = {"job_id": job_id}
    attempts = [Attempt(*row) for row in _read(conn, schema, ATTEMPTS, params)]
    first = _read(conn, schema, FIRST_READY, params)
    dlq = _read(conn, schema, DLQ_TRACEBACK, params)
    return JobHistory(
        first_ready_at=first[0][0] if first else None,
        attempts=attempts,
        traceback=dlq[0][0] if dlq else None,
    )
