"""Everything at once: workers that complete, fail and stall past their lease, a canceller, and
maintenance (promote, rescue, rotate, prune) on real time. Afterwards every job is accounted for
exactly once — completed, cancelled or dead-lettered — and nothing is left open."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import Any, Literal

import psycopg

from ringq import (
    Backoff,
    ClaimedJob,
    Completion,
    Failure,
    Job,
    JobAlreadyTerminal,
    JobNotFound,
    LeaseLost,
    MaintenanceBusy,
    PruneBlocked,
    Queue,
    install,
)

from .helpers import wait_until

LEASE = 0.4


def test_mixed_workload_accounts_for_every_job(db_url: str, schema: str, q_rows: Any) -> None:
    with psycopg.connect(db_url, autocommit=True) as c:
        install(c, schema, queue_slots=3, claim_slots=3)
    q = Queue(
        db_url, schema=schema, pool_size=8, backoff=Backoff(base=0.02, cap=0.1), maintenance_lock_timeout=0.1
    )
    ids = q.enqueue_many([Job("t", i, priority=i % 3, max_attempts=3) for i in range(800)])
    lock = threading.Lock()
    completed: Counter[int] = Counter()
    failed_to_dlq: set[int] = set()
    cancelled: set[int] = set()
    stop = threading.Event()
    errors: list[BaseException] = []

    def guard(fn: Any) -> Any:
        def run(*args: Any) -> None:
            try:
                fn(*args)
            except BaseException as exc:
                errors.append(exc)

        return run

    @guard
    def worker(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            batch = q.claim(worker=f"w{seed}", limit=8, lease=LEASE)
            if not batch:
                time.sleep(0.01)
                continue
            if rng.random() < 0.05:
                time.sleep(LEASE * 1.5)  # stall: these attempts may be rescued under us
            done: list[ClaimedJob] = []
            fails: list[ClaimedJob] = []
            for job in batch:
                (fails if rng.random() < 0.2 else done).append(job)
            outcomes = q.complete_many([Completion(j.job_id, j.run_lease) for j in done])
            for job, err in zip(done, outcomes, strict=True):
                assert err is None or isinstance(err, LeaseLost), err
                if err is None:
                    with lock:
                        completed[job.job_id] += 1
            results = q.fail_many([Failure(j.job_id, j.run_lease, "boom") for j in fails])
            for job, out in zip(fails, results, strict=True):
                assert out in ("retried", "dlq") or isinstance(out, LeaseLost), out
                if out == "dlq":
                    with lock:
                        failed_to_dlq.add(job.job_id)

    @guard
    def canceller() -> None:
        rng = random.Random(99)
        for job_id in rng.sample(ids, 80):
            try:
                q.cancel(job_id)
                with lock:
                    cancelled.add(job_id)
            except (JobAlreadyTerminal, JobNotFound):  # finished, maybe pruned already
                pass
            time.sleep(0.005)

    @guard
    def maintainer() -> None:
        while not stop.is_set():
            q.promote()
            q.rescue()
            rings: tuple[Literal["queue", "claim"], ...] = ("queue", "claim")
            for ring in rings:
                try:
                    q.prune(ring)
                    q.rotate(ring)
                except (PruneBlocked, MaintenanceBusy):
                    pass
            time.sleep(0.02)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    threads += [threading.Thread(target=canceller), threading.Thread(target=maintainer)]
    for t in threads:
        t.start()

    def settled() -> bool:
        if errors:
            return True
        return all(s.queued == s.deferred == s.running == 0 for s in q.stats())

    try:
        wait_until(settled, timeout=90, what="every job to become terminal")
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert errors == [], errors
    dlq = {row[0] for row in q_rows("SELECT job_id FROM {s}.dlq")}
    q.close()

    assert all(n == 1 for n in completed.values()), "a job completed twice"
    finished = set(completed)
    assert not finished & cancelled, "a cancelled job also completed"
    assert failed_to_dlq <= dlq
    # Every job ends in exactly one place (rescue may dead-letter jobs the workers never saw fail).
    assert finished | cancelled | dlq == set(ids)
    assert not (finished & dlq) and not (cancelled & dlq)
    assert q_rows(
        """SELECT count(*) FROM {s}.claims c WHERE NOT EXISTS (SELECT 1 FROM {s}.closures x
           WHERE x.job_id = c.job_id AND x.run_lease = c.run_lease AND x.slot = c.slot)"""
    ) == [(0,)]
    # CountersMatch: each lane's cursor sits at its enqueue counter once everything is claimed.
    assert q_rows("SELECT count(*) FROM {s}.lanes WHERE next_seq <> claim_seq") == [(0,)]
    print(f"completed={len(finished)} cancelled={len(cancelled)} dlq={len(dlq)}")
