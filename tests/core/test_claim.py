from __future__ import annotations

from typing import Any

from ringq import Job, ManualClock, Queue


def test_priority_then_lane_seq_order(queue: Queue) -> None:
    jobs = [Job("t", i, priority=p) for i, p in enumerate([5, 0, 9, 0, 5, 1])]
    ids = queue.enqueue_many(jobs)
    got = queue.claim(worker="w", limit=6)
    assert [(c.priority, c.job_id) for c in got] == sorted(
        (j.priority, i) for j, i in zip(jobs, ids, strict=True)
    )
    assert all(c.attempt == 1 and c.max_attempts == 5 for c in got)


def test_claim_follows_lane_seq_across_batches_and_limit(queue: Queue) -> None:
    ids = queue.enqueue_many([Job("t", i) for i in range(25)])
    seen: list[int] = []
    while batch := queue.claim(worker="w", limit=7):
        assert [c.lane_seq for c in batch] == sorted(c.lane_seq for c in batch)
        assert len(batch) <= 7
        seen += [c.job_id for c in batch]
    assert seen == ids  # ClaimOrder: lane_seq order, each once


def test_claim_filters_queues_and_returns_decoded_payload(queue: Queue, clock: ManualClock) -> None:
    a = queue.enqueue("ta", {"x": [1, 2]}, queue="a")
    b = queue.enqueue("tb", "s", queue="b")
    [ca] = queue.claim(worker="w", queues=["a"], lease=12)
    assert (ca.job_id, ca.queue, ca.task, ca.payload) == (a, "a", "ta", {"x": [1, 2]})
    assert (ca.deadline - clock.now()).total_seconds() == 12
    assert queue.claim(worker="w", queues=["a"]) == []
    [cb] = queue.claim(worker="w", queues=["a", "b"])
    assert (cb.job_id, cb.payload) == (b, "s")


def test_claim_writes_append_only_claims_and_fresh_leases(queue: Queue, q_rows: Any) -> None:
    queue.enqueue_many([Job("t")] * 3)
    got = queue.claim(worker="w1", limit=3)
    assert len({c.run_lease for c in got}) == 3
    rows = q_rows("SELECT slot, job_id, run_lease, worker FROM {s}.claims ORDER BY run_lease")
    assert rows == [(0, c.job_id, c.run_lease, "w1") for c in got]
    assert q_rows("SELECT next_seq, claim_seq FROM {s}.lanes") == [(3, 3)]


def test_cancelled_queued_job_is_skipped_without_stranding_others(queue: Queue, q_rows: Any) -> None:
    ids = queue.enqueue_many([Job("t", i) for i in range(4)])
    assert queue.cancel(ids[1]) == "cancelled_queued"
    # cancel does not move the cursor
    assert q_rows("SELECT claim_seq FROM {s}.lanes") == [(0,)]
    got = queue.claim(worker="w", limit=10)
    assert [c.job_id for c in got] == [ids[0], ids[2], ids[3]]
    assert queue.job(ids[1]).state == "cancelled"  # type: ignore[union-attr]


def test_cancelled_rows_do_not_count_against_the_claim_limit(queue: Queue, q_rows: Any) -> None:
    # Found by the stateful model-conformance test: a claim range made only of cancelled rows
    # used to return nothing while a live job waited behind them.
    ids = queue.enqueue_many([Job("t", i) for i in range(4)])
    for job_id in ids[:3]:
        assert queue.cancel(job_id) == "cancelled_queued"
    got = queue.claim(worker="w", limit=1)
    assert [c.job_id for c in got] == [ids[3]]
    assert q_rows("SELECT claim_seq FROM {s}.lanes") == [(4,)]


def test_claim_limit_counts_live_rows_and_stops_before_the_next_one(queue: Queue, q_rows: Any) -> None:
    ids = queue.enqueue_many([Job("t", i) for i in range(5)])
    assert queue.cancel(ids[1]) == "cancelled_queued"
    got = queue.claim(worker="w", limit=2)
    assert [c.job_id for c in got] == [ids[0], ids[2]]
    # the cursor stops just past the last claimed row, leaving ids[3] and ids[4] queued
    assert q_rows("SELECT claim_seq FROM {s}.lanes") == [(3,)]
    assert [c.job_id for c in queue.claim(worker="w", limit=10)] == [ids[3], ids[4]]


def test_claim_skips_a_locked_lane(queue: Queue, db_url: str) -> None:
    """A lane another transaction holds (a claimer, or an enqueue in its commit) is skipped."""
    import psycopg
    from psycopg import sql

    queue.enqueue("urgent-old", priority=0)
    queue.enqueue("later", priority=3)
    with psycopg.connect(db_url) as c:
        c.execute(
            sql.SQL("SELECT 1 FROM {}.lanes WHERE priority = 0 FOR UPDATE").format(
                sql.Identifier(queue.schema)
            )
        )
        got = queue.claim(worker="w", limit=5)
        assert [j.task for j in got] == ["later"]  # skipped, not waited on (beyond 50 ms)
        c.commit()
    assert [j.task for j in queue.claim(worker="w", limit=5)] == ["urgent-old"]


def test_claim_does_not_wait_for_an_open_enqueue_transaction(queue: Queue, db_url: str) -> None:
    """An enqueue in a still-open caller transaction holds no lane (ADR 0011)."""
    import psycopg

    queue.enqueue("urgent-old", priority=0)
    with psycopg.connect(db_url) as c:
        queue.enqueue("urgent-new", priority=0, conn=c)  # staged: invisible, holds nothing
        assert [j.task for j in queue.claim(worker="w", limit=5)] == ["urgent-old"]
        c.commit()
    assert [j.task for j in queue.claim(worker="w", limit=5)] == ["urgent-new"]
