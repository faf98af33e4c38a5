"""rotate / prune: guards evaluated under the exclusive lock, typed refusals, nothing lost."""

from __future__ import annotations

import random
import threading
from typing import Any

import psycopg
import pytest
from psycopg import sql

from ringq import (
    Completion,
    Job,
    LeaseLost,
    MaintenanceBusy,
    ManualClock,
    PruneBlocked,
    Queue,
    RotateBlocked,
    install,
)

from .helpers import wait_until


@pytest.fixture
def two_slot_queue(db_url: str, schema: str, clock: ManualClock) -> Any:
    with psycopg.connect(db_url, autocommit=True) as c:
        install(c, schema, queue_slots=2, claim_slots=2)
    q = Queue(db_url, schema=schema, clock=clock)
    yield q
    q.close()


def test_rotate_refuses_until_next_slot_is_pruned(two_slot_queue: Queue, q_rows: Any) -> None:
    q = two_slot_queue
    assert q.prune("queue") is None  # nothing sealed yet
    assert q.rotate("queue") == 1
    with pytest.raises(RotateBlocked, match="next slot 0 is sealed"):
        q.rotate("queue")
    assert q.prune("queue") == 0  # empty sealed slot
    assert q.rotate("queue") == 0
    assert q_rows("SELECT slot, state FROM {s}.slots WHERE ring = 'queue' ORDER BY slot") == [
        (0, "open"),
        (1, "sealed"),
    ]


def test_prune_refuses_unclaimed_ready_row(two_slot_queue: Queue, q_rows: Any) -> None:
    q = two_slot_queue
    job_id = q.enqueue("t")
    q.rotate("queue")
    with pytest.raises(PruneBlocked, match=f"job {job_id} is still queued"):
        q.prune("queue")
    assert q_rows("SELECT count(*) FROM {s}.ready_0") == [(1,)]
    assert q_rows("SELECT state FROM {s}.slots WHERE ring = 'queue' AND slot = 0") == [("sealed",)]
    # cancelled rows above the cursor block too, until a claim passes them
    q.cancel(job_id)
    with pytest.raises(PruneBlocked):
        q.prune("queue")
    assert q.claim(worker="w") == []
    assert q.prune("queue") == 0
    assert q_rows("SELECT count(*) FROM {s}.cancels") == [(0,)]


def test_prune_refuses_open_attempt_in_either_ring(two_slot_queue: Queue, q_rows: Any) -> None:
    q = two_slot_queue
    job_id = q.enqueue("t")
    [job] = q.claim(worker="w")
    q.rotate("queue")
    q.rotate("claim")
    for ring in ("queue", "claim"):
        with pytest.raises(PruneBlocked, match=f"job_id={job_id}, run_lease={job.run_lease}"):
            q.prune(ring)
    q.complete(job.job_id, job.run_lease, "ok")
    assert q.prune("claim") == 0
    assert q.prune("queue") == 0
    assert q.job(job_id) is None  # its history went with the slot
    with pytest.raises(LeaseLost, match="pruned"):
        q.complete(job.job_id, job.run_lease)


def test_prune_and_rotate_never_wait_behind_workers(two_slot_queue: Queue, db_url: str, q_rows: Any) -> None:
    q = two_slot_queue
    q.enqueue("t")
    [job] = q.claim(worker="w")
    q.complete(job.job_id, job.run_lease)
    q.rotate("queue")
    with psycopg.connect(db_url) as reader:
        reader.execute(sql.SQL("SELECT count(*) FROM {}.ready_0").format(sql.Identifier(q.schema)))
        with pytest.raises(MaintenanceBusy):  # AccessShare held: NOWAIT fails at once
            q.prune("queue")
    assert q_rows("SELECT count(*) FROM {s}.ready_0") == [(1,)]
    assert q.prune("queue") == 0
    # an enqueue inside an open caller transaction holds no ring lock (ADR 0011): rotate runs
    with psycopg.connect(db_url) as caller:
        q.enqueue("u", conn=caller)
        assert q.rotate("queue") == 0
        caller.commit()
    [job] = q.claim(worker="w")  # sequenced into the current slot at commit
    assert (job.task, job.ready_slot) == ("u", 0)


def test_rotation_and_prune_under_load_keep_every_job(db_url: str, schema: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as c:
        install(c, schema, queue_slots=3, claim_slots=3)
    q = Queue(db_url, schema=schema, pool_size=6, maintenance_lock_timeout=0.2)
    total, producers = 3000, 2
    enqueued: list[int] = []
    completed: list[int] = []
    lost: list[Exception] = []
    lock = threading.Lock()
    stop = threading.Event()
    maintenance: dict[str, int] = {"rotate": 0, "prune": 0, "refused": 0}

    def producer(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(total // producers // 50):
            ids = q.enqueue_many([Job("t", rng.random(), priority=rng.randrange(3)) for _ in range(50)])
            with lock:
                enqueued.extend(ids)

    def worker() -> None:
        while not stop.is_set():
            batch = q.claim(worker=threading.current_thread().name, limit=20)
            outcome = q.complete_many([Completion(j.job_id, j.run_lease) for j in batch])
            with lock:
                completed.extend(j.job_id for j, err in zip(batch, outcome, strict=True) if err is None)
                lost.extend(err for err in outcome if err is not None)

    def maintainer() -> None:
        while not stop.is_set():
            for ring in ("queue", "claim"):
                try:
                    if q.prune(ring) is not None:
                        maintenance["prune"] += 1
                    q.rotate(ring)
                    maintenance["rotate"] += 1
                except (PruneBlocked, MaintenanceBusy):
                    maintenance["refused"] += 1

    threads = [threading.Thread(target=producer, args=(i,)) for i in range(producers)]
    workers = [threading.Thread(target=worker) for _ in range(3)] + [threading.Thread(target=maintainer)]
    for t in threads + workers:
        t.start()
    for t in threads:
        t.join()

    def drained() -> bool:
        with lock:
            return len(completed) >= len(enqueued)

    wait_until(drained, timeout=60, what="all jobs completed")
    stop.set()
    for t in workers:
        t.join()
    q.close()
    assert len(enqueued) == total
    assert lost == []  # no lease was ever lost: nothing live was pruned
    assert sorted(completed) == sorted(enqueued)  # every job, exactly once
    print("maintenance:", maintenance)
    assert maintenance["rotate"] > 0 and maintenance["prune"] > 0, maintenance
