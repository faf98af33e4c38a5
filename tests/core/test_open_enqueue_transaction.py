"""An enqueue inside a caller's transaction that stays open stalls nobody (issue 12, ADR 0011).

Its jobs are staged, invisible and lock-free until the transaction commits; the commit sequences
them into the ready ring. Measured with real time on real connections: the other enqueue commits
and the older job is claimed while the open transaction sleeps.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest

from ringq import InvalidInput, Job, ManualClock, Queue

HOLD_S = 3.0


def _open_and_hold(db_url: str, queue: Queue, job: Job, release: threading.Event, commit: bool) -> None:
    with psycopg.connect(db_url) as conn:
        with conn.transaction(force_rollback=not commit):
            queue.enqueue_many([job], conn=conn)
            release.wait(timeout=HOLD_S + 10)
        # the transaction ends here: committed, or rolled back


def test_an_open_enqueue_transaction_stalls_no_enqueue_and_no_claim(
    db_url: str, installed: str, clock: ManualClock
) -> None:
    q = Queue(db_url, schema=installed, clock=clock, pool_size=4)
    try:
        before = q.enqueue("t", {"n": "before"}, queue="q")  # committed before the open transaction
        release = threading.Event()
        holder = threading.Thread(
            target=_open_and_hold, args=(db_url, q, Job("t", {"n": "open"}, queue="q"), release, True)
        )
        holder.start()
        time.sleep(0.3)  # the holder's enqueue has run; its transaction is open

        t0 = time.monotonic()
        other = q.enqueue("t", {"n": "other"}, queue="q")  # same queue, same priority
        enqueue_ms = (time.monotonic() - t0) * 1000

        t0 = time.monotonic()
        claimed = q.claim(worker="w", queues=["q"], limit=10)
        claim_ms = (time.monotonic() - t0) * 1000
        assert enqueue_ms < 200, f"the other enqueue waited {enqueue_ms:.0f} ms"
        assert claim_ms < 500, f"claiming the committed jobs took {claim_ms:.0f} ms"
        assert [c.job_id for c in claimed] == [before, other]  # the open job is invisible

        release.set()  # the holder commits
        holder.join()
        after = q.claim(worker="w", queues=["q"], limit=10)
        assert [c.payload for c in after] == [{"n": "open"}]  # claimed once it committed
    finally:
        q.close()


def test_a_rolled_back_enqueue_never_appears(db_url: str, installed: str, clock: ManualClock) -> None:
    q = Queue(db_url, schema=installed, clock=clock)
    try:
        release = threading.Event()
        release.set()
        _open_and_hold(db_url, q, Job("t", {"n": "gone"}, queue="q"), release, commit=False)
        kept = q.enqueue("t", {"n": "kept"}, queue="q")
        claimed = q.claim(worker="w", queues=["q"], limit=10)
        assert [c.job_id for c in claimed] == [kept]
        assert q.stats()[0].queued == 0
    finally:
        q.close()


def test_a_killed_backend_discards_its_staged_jobs(
    db_url: str, installed: str, clock: ManualClock, q_rows: Any
) -> None:
    q = Queue(db_url, schema=installed, clock=clock)
    try:
        conn = psycopg.connect(db_url)
        conn.execute("BEGIN")
        q.enqueue("t", {"n": "doomed"}, queue="q", conn=conn)
        pid = conn.info.backend_pid
        with psycopg.connect(db_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        conn.close()
        assert q.claim(worker="w", queues=["q"], limit=10) == []
        assert q_rows("SELECT count(*) FROM {s}.staged") == [(0,)]
    finally:
        q.close()


def test_rotation_and_prune_run_while_an_enqueue_transaction_is_open(
    db_url: str, installed: str, clock: ManualClock
) -> None:
    q = Queue(db_url, schema=installed, clock=clock)
    try:
        with psycopg.connect(db_url) as conn, conn.transaction():
            q.enqueue("t", {"n": "open"}, queue="q", conn=conn)
            # A full turn of the queue ring: the open transaction holds no slot and no lock.
            for _ in range(6):
                done = q.enqueue("t", None, queue="q")
                (c,) = q.claim(worker="w", queues=["q"], limit=1)
                assert c.job_id == done
                q.complete(c.job_id, c.run_lease)
                q.rotate("queue")
                q.prune("queue")
        (c,) = q.claim(worker="w", queues=["q"], limit=10)  # committed into the current slot
        assert c.payload == {"n": "open"}
    finally:
        q.close()


def test_one_transaction_enqueues_into_several_queues_in_any_order(
    db_url: str, installed: str, clock: ManualClock
) -> None:
    """Two transactions enqueue into q1, q2 and q2, q1 across separate statements: no deadlock,
    since neither takes a lane lock before its commit (which locks lanes in lane_id order)."""
    q = Queue(db_url, schema=installed, clock=clock, pool_size=4)
    try:
        q.enqueue_many([Job("t", None, queue="q1"), Job("t", None, queue="q2")])  # lanes exist
        first = threading.Barrier(2)
        errors: list[BaseException] = []

        def run(order: tuple[str, str]) -> None:
            try:
                with psycopg.connect(db_url) as conn, conn.transaction():
                    q.enqueue("t", None, queue=order[0], conn=conn)
                    first.wait(timeout=10)
                    q.enqueue("t", None, queue=order[1], conn=conn)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(o,)) for o in (("q1", "q2"), ("q2", "q1"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert errors == []
        assert sum(s.queued for s in q.stats()) == 6
    finally:
        q.close()


def test_set_constraints_immediate_then_more_enqueues_loses_nothing(
    db_url: str, installed: str, clock: ManualClock
) -> None:
    q = Queue(db_url, schema=installed, clock=clock)
    try:
        with psycopg.connect(db_url) as conn, conn.transaction():
            a = q.enqueue("t", None, queue="q", conn=conn)
            conn.execute("SET CONSTRAINTS ALL IMMEDIATE")  # sequences `a` now
            conn.execute("SET CONSTRAINTS ALL DEFERRED")
            b = q.enqueue("t", None, queue="q", conn=conn)
        claimed = q.claim(worker="w", queues=["q"], limit=10)
        assert [c.job_id for c in claimed] == [a, b]
    finally:
        q.close()


@pytest.mark.parametrize("level", ["REPEATABLE READ", "SERIALIZABLE"])
def test_enqueue_refuses_other_isolation_levels(
    db_url: str, installed: str, clock: ManualClock, level: str
) -> None:
    q = Queue(db_url, schema=installed, clock=clock)
    try:
        with psycopg.connect(db_url) as conn:
            conn.execute(f"BEGIN ISOLATION LEVEL {level}")
            with pytest.raises(InvalidInput, match="READ COMMITTED"):
                q.enqueue("t", None, queue="q", conn=conn)
            conn.rollback()
        assert q.stats() == [] or all(s.queued == 0 for s in q.stats())
    finally:
        q.close()
