"""complete / fail / retry / backoff / DLQ / heartbeat / rescue / cancel, one behaviour each."""

from __future__ import annotations

from typing import Any

import pytest

from ringq import (
    AttemptClosed,
    Backoff,
    ClaimedJob,
    Completion,
    Failure,
    JobAlreadyTerminal,
    JobNotFound,
    LeaseLost,
    ManualClock,
    Queue,
)


def _one(queue: Queue, **kwargs: Any) -> ClaimedJob:
    [job] = queue.claim(worker="w", limit=1, **kwargs)
    return job


def test_complete_writes_closure_and_terminal_row_with_result(queue: Queue, q_rows: Any) -> None:
    job_id = queue.enqueue("t", {"n": 1})
    job = _one(queue)
    queue.complete(job.job_id, job.run_lease, {"answer": 42})
    assert q_rows("SELECT slot, job_id, run_lease, outcome FROM {s}.closures") == [
        (job.claim_slot, job_id, job.run_lease, "completed")
    ]
    assert q_rows("SELECT slot, job_id, outcome, result FROM {s}.done") == [
        (job.ready_slot, job_id, "completed", {"answer": 42})
    ]
    info = queue.job(job_id)
    assert info is not None and (info.state, info.result, info.attempt) == ("completed", {"answer": 42}, 1)
    with pytest.raises(AttemptClosed, match="completed") as exc:
        queue.complete(job.job_id, job.run_lease)
    assert not isinstance(exc.value, LeaseLost)
    assert q_rows("SELECT count(*) FROM {s}.done") == [(1,)]


def test_complete_many_reports_per_item(queue: Queue) -> None:
    queue.enqueue_many([])
    for i in range(3):
        queue.enqueue("t", i)
    a, b, c = queue.claim(worker="w", limit=3)
    queue.complete(b.job_id, b.run_lease)
    out = queue.complete_many(
        [
            Completion(a.job_id, a.run_lease, 1),
            Completion(b.job_id, b.run_lease),
            Completion(c.job_id, 999999),
        ]
    )
    assert out[0] is None
    assert isinstance(out[1], AttemptClosed) and out[1].closure == "completed"
    assert isinstance(out[2], LeaseLost) and out[2].closure is None


def test_retry_counts_attempts_in_the_database_then_dead_letters(
    queue: Queue, clock: ManualClock, q_rows: Any
) -> None:
    job_id = queue.enqueue("t", {"p": 1}, max_attempts=3)
    for attempt in (1, 2):
        job = _one(queue)
        assert job.attempt == attempt
        assert queue.fail(Failure(job.job_id, job.run_lease, f"boom {attempt}", retry_delay=0)) == "retried"
    job = _one(queue)
    assert job.attempt == 3
    assert queue.fail(Failure(job.job_id, job.run_lease, "boom 3", traceback="Traceback...")) == "dlq"
    info = queue.job(job_id)
    assert info is not None and (info.state, info.attempt, info.error) == ("dlq", 3, "boom 3")
    [entry] = queue.dlq_list()
    assert (entry.job_id, entry.attempt, entry.error, entry.traceback, entry.payload) == (
        job_id,
        3,
        "boom 3",
        "Traceback...",
        {"p": 1},
    )
    outcomes = q_rows("SELECT outcome FROM {s}.closures ORDER BY run_lease")
    assert outcomes == [("retried",), ("retried",), ("dlq",)]
    assert q_rows("SELECT outcome FROM {s}.done") == [("dlq",)]
    assert queue.claim(worker="w") == []


def test_default_backoff_defers_retry_within_bounds(db_url: str, installed: str, clock: ManualClock) -> None:
    backoff = Backoff(base=10, factor=3, cap=50, jitter=0.5)
    q = Queue(db_url, schema=installed, clock=clock, backoff=backoff)
    try:
        job_id = q.enqueue("t", max_attempts=10)
        for attempt in (1, 2, 3):
            job = _one(q)
            assert job.attempt == attempt
            assert q.fail(Failure(job.job_id, job.run_lease, "e")) == "retried"
            info = q.job(job_id)
            assert info is not None and info.state == "deferred" and info.run_at is not None
            low, high = backoff.bounds(attempt)
            delay = (info.run_at - clock.now()).total_seconds()
            assert low - 1e-6 <= delay <= high + 1e-6
            assert q.promote() == 0
            clock.advance(high)
            assert q.promote() == 1
    finally:
        q.close()


def test_dead_letter_flag_skips_retries(queue: Queue) -> None:
    job_id = queue.enqueue("t", max_attempts=5)
    job = _one(queue)
    assert queue.fail(Failure(job.job_id, job.run_lease, "unknown task", dead_letter=True)) == "dlq"
    assert queue.job(job_id).state == "dlq"  # type: ignore[union-attr]


def test_dlq_retry_and_purge(queue: Queue) -> None:
    ids = [queue.enqueue("t", i, max_attempts=1, queue=q) for i, q in enumerate(["a", "a", "b"])]
    for _ in ids:
        job = _one(queue)
        queue.fail(Failure(job.job_id, job.run_lease, "x"))
    assert {e.job_id for e in queue.dlq_list()} == set(ids)
    assert queue.dlq_retry([ids[0]]) == 1
    job = _one(queue)
    assert (job.job_id, job.attempt) == (ids[0], 1)  # a fresh budget
    queue.complete(job.job_id, job.run_lease, "second life")
    info = queue.job(ids[0])
    assert info is not None and (info.state, info.result) == ("completed", "second life")
    assert queue.dlq_purge(queue="b") == 1
    assert [e.job_id for e in queue.dlq_list()] == [ids[1]]
    assert queue.dlq_retry(queue="a") == 1
    assert queue.dlq_list() == []


def test_heartbeat_extends_deadline_and_reports_closed_attempts(
    queue: Queue, clock: ManualClock, q_rows: Any
) -> None:
    queue.enqueue_many([])
    a_id, b_id = queue.enqueue("a"), queue.enqueue("b")
    a, b = queue.claim(worker="w", limit=2, lease=10)
    queue.complete(b.job_id, b.run_lease)
    clock.advance(8)
    gone = queue.heartbeat(
        [(a.job_id, a.run_lease), (b.job_id, b.run_lease)], lease=10, progress={a_id: {"pct": 50}}
    )
    assert gone == [(b_id, b.run_lease)]
    assert q_rows("SELECT job_id, progress FROM {s}.heartbeats") == [(a_id, {"pct": 50})]
    clock.advance(8)  # past the claim deadline, inside the heartbeat's
    assert queue.rescue() == 0
    clock.advance(3)
    assert queue.rescue() == 1
    assert queue.heartbeat([(a.job_id, a.run_lease)]) == [(a.job_id, a.run_lease)]


def test_rescue_requeues_and_stale_worker_gets_lease_lost(
    queue: Queue, clock: ManualClock, q_rows: Any
) -> None:
    job_id = queue.enqueue("t", max_attempts=2)
    stale = _one(queue, lease=5)
    clock.advance(6)
    assert queue.rescue() == 1
    assert queue.job(job_id).state == "deferred"  # type: ignore[union-attr]  # default backoff
    clock.advance(10)
    assert queue.promote() == 1
    fresh = _one(queue)
    assert (fresh.job_id, fresh.attempt) == (job_id, 2)
    before = q_rows("SELECT count(*) FROM {s}.closures"), q_rows("SELECT count(*) FROM {s}.done")
    with pytest.raises(LeaseLost, match="rescued") as exc:
        queue.complete(stale.job_id, stale.run_lease, "late")
    assert exc.value.closure == "rescued"
    with pytest.raises(LeaseLost):
        queue.fail(Failure(stale.job_id, stale.run_lease, "late"))
    assert (q_rows("SELECT count(*) FROM {s}.closures"), q_rows("SELECT count(*) FROM {s}.done")) == before
    # the rescued last attempt is dead-lettered
    clock.advance(100)
    assert queue.rescue() == 1
    assert queue.job(job_id).state == "dlq"  # type: ignore[union-attr]


def test_cancel_each_state(queue: Queue, q_rows: Any) -> None:
    queued = queue.enqueue("q")
    deferred = queue.enqueue("d", delay=60)
    running = queue.enqueue("r", priority=1)
    [first] = queue.claim(worker="w", limit=1)  # priority 0: `queued` is now running
    assert first.job_id == queued
    queued2 = queue.enqueue("q2", priority=2)
    [run] = queue.claim(worker="w", limit=1)
    assert run.job_id == running
    assert queue.cancel(deferred) == "cancelled_deferred"
    assert queue.cancel(running) == "cancelled_running"
    assert queue.cancel(queued2) == "cancelled_queued"
    with pytest.raises(LeaseLost, match="cancelled"):
        queue.complete(run.job_id, run.run_lease)
    for job_id in (deferred, running, queued2):
        assert queue.job(job_id).state == "cancelled"  # type: ignore[union-attr]
        with pytest.raises(JobAlreadyTerminal, match="cancelled"):
            queue.cancel(job_id)
    with pytest.raises(JobNotFound):
        queue.cancel(10**12)
    assert queue.job(10**12) is None
    assert queue.job(queued).state == "running"  # type: ignore[union-attr]
    assert q_rows("SELECT count(*) FROM {s}.deferred") == [(0,)]


def test_stats_count_rows(queue: Queue) -> None:
    queue.enqueue_many([])
    for i in range(5):
        queue.enqueue("t", i, queue="a")
    queue.enqueue("t", queue="b", delay=10)
    x, _running = queue.claim(worker="w", queues=["a"], limit=2)
    queue.complete(x.job_id, x.run_lease)
    queue.cancel(queue.enqueue("t", queue="a"))
    stats = {s.queue: s for s in queue.stats()}
    a, b = stats["a"], stats["b"]
    assert (a.queued, a.running, a.completed, a.cancelled, a.deferred, a.dlq) == (3, 1, 1, 1, 0, 0)
    assert (b.queued, b.deferred, b.pending) == (0, 1, 1)


def test_rescue_horizon_still_finds_attempts_kept_alive_by_heartbeats(
    db_url: str, installed: str, clock: ManualClock
) -> None:
    q = Queue(db_url, schema=installed, clock=clock, rescue_margin=1)
    try:
        early = q.enqueue("early")
        [a] = q.claim(worker="w", lease=5)  # deadline t+5
        assert q.rescue() == 0  # horizon := t
        clock.advance(4)
        assert q.heartbeat([(a.job_id, a.run_lease)], lease=10) == []  # deadline t+14
        clock.advance(6)  # t+10: the claim row expired, the heartbeat has not
        assert q.rescue() == 0  # horizon := t+10
        clock.advance(5)  # t+15: the claim row's deadline (t+5) is now behind horizon - margin
        assert q.rescue() == 1  # found through the heartbeat's deadline
        assert q.job(early).state == "deferred"  # type: ignore[union-attr]
        clock.advance(1000)  # long after: anything claimed and expired is still found
        q.promote()
        [b] = q.claim(worker="w", lease=1)
        clock.advance(500)
        assert (b.job_id, q.rescue()) == (early, 1)
    finally:
        q.close()
