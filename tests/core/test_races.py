"""Real races on one attempt, from threads on separate connections: exactly one closer wins."""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from ringq import Failure, Job, JobAlreadyTerminal, LeaseLost, ManualClock, Queue


def _race(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions at the same instant; each slot holds a return value or the exception."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(i: int, action: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = action()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_complete_rescue_cancel_on_one_attempt(
    db_url: str, installed: str, clock: ManualClock, q_rows: Any
) -> None:
    q = Queue(db_url, schema=installed, clock=clock, pool_size=4)
    winners: Counter[str] = Counter()
    try:
        for _ in range(25):
            job_id = q.enqueue("t")
            [job] = q.claim(worker="w", lease=5)
            clock.advance(10)  # expired: rescue is eligible
            done, rescued, cancelled = _race(
                functools.partial(q.complete, job.job_id, job.run_lease, "r"),
                q.rescue,
                functools.partial(q.cancel, job_id),
            )
            [(closure,)] = q_rows("SELECT outcome FROM {s}.closures WHERE run_lease = %s", job.run_lease)
            winners[closure] += 1
            if closure == "completed":
                assert done is None and rescued == 0
                assert isinstance(cancelled, JobAlreadyTerminal)
            elif closure == "rescued":
                assert isinstance(done, LeaseLost) and done.closure == "rescued" and rescued == 1
                assert cancelled == "cancelled_deferred"  # the rescued job waited out its backoff
            else:
                assert closure == "cancelled" and cancelled == "cancelled_running"
                assert isinstance(done, LeaseLost) and done.closure == "cancelled" and rescued == 0
            # the job ends with exactly one terminal row and nothing live
            assert q_rows("SELECT count(*) FROM {s}.done WHERE job_id = %s", job_id) == [(1,)]
            assert q.job(job_id).state in ("completed", "cancelled")  # type: ignore[union-attr]
    finally:
        q.close()
    assert sum(winners.values()) == 25
    print("winners:", dict(winners))


def test_two_workers_completing_and_failing_one_attempt(
    db_url: str, installed: str, clock: ManualClock, q_rows: Any
) -> None:

    q = Queue(db_url, schema=installed, clock=clock, pool_size=4)
    try:
        for _ in range(20):
            q.enqueue("t")
            [job] = q.claim(worker="w")
            done, failed = _race(
                functools.partial(q.complete, job.job_id, job.run_lease),
                functools.partial(q.fail, Failure(job.job_id, job.run_lease, "e", retry_delay=0)),
            )
            assert (done is None) != (failed == "retried")
            [(n,)] = q_rows("SELECT count(*) FROM {s}.closures WHERE run_lease = %s", job.run_lease)
            assert n == 1
            if failed == "retried":
                [again] = q.claim(worker="w")
                assert again.attempt == 2
                q.complete(again.job_id, again.run_lease)
    finally:
        q.close()


def test_concurrent_claimers_never_share_a_job(db_url: str, installed: str, q_rows: Any) -> None:
    q = Queue(db_url, schema=installed, pool_size=6)
    try:
        ids = q.enqueue_many([Job("t", i, priority=i % 3) for i in range(600)])
        got: list[int] = []
        lock = threading.Lock()

        def claimer() -> None:
            while True:
                batch = q.claim(worker=threading.current_thread().name, limit=7)
                if not batch and q_rows("SELECT sum(next_seq - claim_seq) FROM {s}.lanes") == [(0,)]:
                    return
                with lock:
                    got.extend(j.job_id for j in batch)

        threads = [threading.Thread(target=claimer) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(got) == sorted(ids)  # each exactly once
        assert q_rows("SELECT count(*), count(DISTINCT job_id) FROM {s}.claims") == [(600, 600)]
    finally:
        q.close()


def test_cancel_racing_claim_never_runs_a_cancelled_job(db_url: str, installed: str, q_rows: Any) -> None:
    q = Queue(db_url, schema=installed, pool_size=4)
    try:
        ids = q.enqueue_many([Job("t", i) for i in range(300)])
        claimed: list[int] = []
        cancels: dict[int, Any] = {}

        def claimer() -> None:
            while batch := q.claim(worker="w", limit=5):
                claimed.extend(j.job_id for j in batch)

        def canceller() -> None:
            for job_id in ids[::3]:
                try:
                    cancels[job_id] = q.cancel(job_id)
                except Exception as exc:
                    cancels[job_id] = exc

        threads = [threading.Thread(target=claimer), threading.Thread(target=canceller)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        while batch := q.claim(worker="w", limit=50):  # whatever the claimer left behind
            claimed.extend(j.job_id for j in batch)
        queued_cancels = {j for j, out in cancels.items() if out == "cancelled_queued"}
        running_cancels = {j for j, out in cancels.items() if out == "cancelled_running"}
        assert set(cancels.values()) <= {"cancelled_queued", "cancelled_running"}, cancels
        assert not queued_cancels & set(claimed)  # a job cancelled while queued never runs
        assert running_cancels <= set(claimed)
        assert sorted(claimed + sorted(queued_cancels)) == sorted(ids)  # nothing stranded
    finally:
        q.close()


def test_concurrent_enqueues_with_one_dedup_key_make_one_job(
    db_url: str, installed: str, q_rows: Any
) -> None:
    q = Queue(db_url, schema=installed, pool_size=6)
    try:
        results = _race(*[functools.partial(q.enqueue, "t", i, dedup_key="same") for i in range(6)])
        assert len(set(results)) == 1 and isinstance(results[0], int)
        assert q_rows("SELECT count(*) FROM {s}.ready") == [(1,)]
    finally:
        q.close()
