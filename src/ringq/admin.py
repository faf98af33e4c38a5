"""Operator calls: job lookup, per-queue stats, cancel, and the dead-letter queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ringq.errors import InvalidInput
from ringq.errors import JobAlreadyTerminal as JobAlreadyTerminal  # cancel raises it (RQ003)
from ringq.sqlfiles import Call, render
from ringq.types import CancelOutcome, DlqEntry, JobInfo, QueueStats
from ringq.validation import check_id, check_limit, check_name

JOB = "SELECT * FROM {schema}.job_info(%s)"
CANCEL = "SELECT {schema}.cancel(%s, %s)"
DLQ_RETRY = "SELECT {schema}.dlq_retry(%s, %s::bigint[], %s)"
DLQ_PURGE = """
    WITH gone AS (
        DELETE FROM {schema}.dlq
        WHERE (%(ids)s::bigint[] IS NULL OR job_id = ANY (%(ids)s::bigint[]))
          AND (%(queue)s::text IS NULL OR queue = %(queue)s::text)
        RETURNING 1)
    SELECT count(*) FROM gone"""
DLQ_LIST = """
    SELECT job_id, queue, task, payload, priority, attempt, max_attempts, error, traceback, failed_at
    FROM {schema}.dlq WHERE (%(queue)s::text IS NULL OR queue = %(queue)s::text)
    ORDER BY failed_at, job_id LIMIT %(limit)s"""
# Counts from counters where the design makes them exact (CountersMatch), so stats stays cheap:
#   queued  = next_seq - claim_seq per lane (gap-free, ADR 0001) minus cancels above the cursor;
#   running = claims - closures per lane (exactly one closure per closed attempt, same slot).
STATS = """
    WITH queued AS (
        SELECT l.queue, sum(l.next_seq - l.claim_seq
                            - (SELECT count(*) FROM {schema}.cancels k
                               WHERE k.lane_id = l.lane_id AND k.lane_seq >= l.claim_seq)) AS n
        FROM {schema}.lanes l GROUP BY l.queue
    ), claimed AS (
        SELECT lane_id, count(*) AS n FROM {schema}.claims GROUP BY lane_id
    ), closed AS (
        SELECT lane_id, count(*) AS n FROM {schema}.closures GROUP BY lane_id
    ), running AS (
        SELECT l.queue, sum(coalesce(c.n, 0) - coalesce(x.n, 0)) AS n FROM {schema}.lanes l
        LEFT JOIN claimed c ON c.lane_id = l.lane_id LEFT JOIN closed x ON x.lane_id = l.lane_id
        GROUP BY l.queue
    ), deferred AS (
        SELECT queue, count(*) AS n FROM {schema}.deferred GROUP BY queue
    ), dead AS (
        SELECT queue, count(*) AS n FROM {schema}.dlq GROUP BY queue
    ), finished AS (
        SELECT queue, count(*) FILTER (WHERE outcome = 'completed') AS completed,
               count(*) FILTER (WHERE outcome = 'cancelled') AS cancelled
        FROM {schema}.done GROUP BY queue
    ), names AS (
        SELECT queue FROM {schema}.lanes UNION SELECT queue FROM deferred
        UNION SELECT queue FROM dead UNION SELECT queue FROM finished
    )
    SELECT n.queue, coalesce(q.n, 0)::bigint, coalesce(d.n, 0), coalesce(r.n, 0)::bigint,
           coalesce(f.completed, 0), coalesce(f.cancelled, 0), coalesce(x.n, 0)
    FROM names n
    LEFT JOIN queued q ON q.queue = n.queue LEFT JOIN running r ON r.queue = n.queue
    LEFT JOIN deferred d ON d.queue = n.queue LEFT JOIN dead x ON x.queue = n.queue
    LEFT JOIN finished f ON f.queue = n.queue
    ORDER BY n.queue"""


def _ids(job_ids: Sequence[int] | None) -> list[int] | None:
    if job_ids is None:
        return None
    if isinstance(job_ids, str | bytes) or not isinstance(job_ids, Sequence):
        raise InvalidInput(f"job_ids: expected a sequence of ints or None, got {type(job_ids).__name__}")
    return [check_id("job_ids", j) for j in job_ids]


def _queue(queue: str | None) -> str | None:
    return None if queue is None else check_name("queue", queue)


def job_call(schema: str, job_id: int) -> Call[JobInfo | None]:
    check_id("job_id", job_id)

    def parse(rows: list[tuple[Any, ...]]) -> JobInfo | None:
        if not rows:
            return None
        state, queue, task, priority, attempt, max_attempts, payload, result, error, lease, run_at = rows[0]
        return JobInfo(
            job_id, state, queue, task, priority, attempt, max_attempts, payload, result, error, lease, run_at
        )

    return Call(render(JOB, schema), (job_id,), parse)


def cancel_call(schema: str, now: datetime, job_id: int) -> Call[CancelOutcome]:
    check_id("job_id", job_id)
    return Call(render(CANCEL, schema), (now, job_id), lambda rows: rows[0][0])


def stats_call(schema: str) -> Call[list[QueueStats]]:
    return Call(render(STATS, schema), (), lambda rows: [QueueStats(*row) for row in rows])


def dlq_list_call(schema: str, queue: str | None, limit: int) -> Call[list[DlqEntry]]:
    params = {"queue": _queue(queue), "limit": check_limit("limit", limit, 100_000)}
    return Call(render(DLQ_LIST, schema), params, lambda rows: [DlqEntry(*row) for row in rows])


def dlq_retry_call(schema: str, now: datetime, job_ids: Sequence[int] | None, queue: str | None) -> Call[int]:
    return Call(render(DLQ_RETRY, schema), (now, _ids(job_ids), _queue(queue)), lambda rows: rows[0][0])


def dlq_purge_call(schema: str, job_ids: Sequence[int] | None, queue: str | None) -> Call[int]:
    params = {"ids": _ids(job_ids), "queue": _queue(queue)}
    return Call(render(DLQ_PURGE, schema), params, lambda rows: rows[0][0])
