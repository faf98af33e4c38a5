"""Missing lanes are created in (queue, priority) order by every transaction that creates them.

LockOrder.tla (cfg LockOrder.cfg) found the deadlock this prevents: two transactions creating the
same two new lanes in opposite orders each wait on the other's uncommitted lane key. Lane ids come
from a serial, so within one statement they record creation order; these tests feed the creators
their rows in reverse order and check the ids come out in (queue, priority) order.
"""

from __future__ import annotations

from datetime import timedelta

from ringq import Failure, Job, ManualClock, Queue

from .conftest import Query


def lane_order(q_rows: Query) -> list[tuple[str, int]]:
    return [(q, p) for q, p in q_rows("SELECT queue, priority FROM {s}.lanes ORDER BY lane_id")]


def test_enqueue_many_creates_lanes_in_queue_priority_order(queue: Queue, q_rows: Query) -> None:
    queue.enqueue_many(
        [Job("t", queue="zq", priority=3), Job("t", queue="aq", priority=5), Job("t", queue="aq", priority=1)]
    )
    assert lane_order(q_rows) == [("aq", 1), ("aq", 5), ("zq", 3)]


def test_promote_creates_lanes_in_queue_priority_order(
    queue: Queue, clock: ManualClock, q_rows: Query
) -> None:
    later = clock.now() + timedelta(seconds=60)
    # Deferred rows are promoted oldest run_at first: zq's row comes first.
    queue.enqueue("t", queue="zq", run_at=later)
    queue.enqueue("t", queue="aq", run_at=later + timedelta(seconds=1))
    assert lane_order(q_rows) == []
    clock.advance(120)
    assert queue.promote() == 2
    assert lane_order(q_rows) == [("aq", 0), ("zq", 0)]


def test_dlq_retry_creates_lanes_in_queue_priority_order(queue: Queue, q_rows: Query) -> None:
    ids = queue.enqueue_many([Job("t", queue="zq", max_attempts=1), Job("t", queue="aq", max_attempts=1)])
    for job in queue.claim(worker="w", limit=10):
        assert queue.fail(Failure(job.job_id, job.run_lease, error="boom")) == "dlq"
    # Drop the lanes so that dlq_retry must create them again (lanes are otherwise never deleted).
    q_rows("DELETE FROM {s}.lanes")
    assert queue.dlq_retry(sorted(ids, reverse=True)) == 2
    assert lane_order(q_rows) == [("aq", 0), ("zq", 0)]
