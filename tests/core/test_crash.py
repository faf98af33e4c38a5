"""A connection killed (pg_terminate_backend) inside a transaction leaves no half-done state.

Each transaction is one function call, so the test freezes it at its crash point
(`<txn>.before_commit`) with a statement trigger that waits on an advisory lock the test holds:
the victim has done all its writes but not committed. We terminate it there, then check
that nothing it wrote survived and that the system carries on.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from ringq import Completion, Failure, Job, ManualClock, Queue

from .helpers import wait_until

HOOK_KEY = 424242


@contextmanager
def frozen_at(conn: psycopg.Connection, q_rows: Any, table: str, event: str) -> Iterator[None]:
    """Freeze any transaction that fires `event` on `{s}.table` until the context exits."""
    q_rows(
        """CREATE FUNCTION {s}.crash_point() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN PERFORM pg_advisory_xact_lock_shared(%s); RETURN NULL; END $$""".replace("%s", str(HOOK_KEY))
    )
    q_rows(
        f"CREATE TRIGGER crash_point AFTER {event} ON {{s}}.{table} FOR EACH STATEMENT EXECUTE FUNCTION {{s}}.crash_point()"
    )
    conn.execute("SELECT pg_advisory_lock(%s)", (HOOK_KEY,))
    try:
        yield
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (HOOK_KEY,))
        q_rows(f"DROP TRIGGER crash_point ON {{s}}.{table}")
        q_rows("DROP FUNCTION {s}.crash_point()")


def kill_inside(
    conn: psycopg.Connection, db_url: str, installed: str, clock: ManualClock, op: Callable[[Queue], Any]
) -> BaseException:
    """Run `op` on a fresh connection, wait until it is frozen, terminate its backend."""
    name = f"victim-{uuid.uuid4().hex[:8]}"
    pool = ConnectionPool(
        db_url, min_size=1, max_size=1, kwargs={"autocommit": True, "application_name": name}, open=True
    )
    victim = Queue(pool, schema=installed, clock=clock)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            op(victim)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()

    def frozen() -> bool:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND wait_event = 'advisory'",
            (name,),
        ).fetchall()
        return bool(rows)

    wait_until(frozen, what="the victim to reach its crash point")
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (name,)
    )
    thread.join(10)
    pool.close(timeout=1)
    assert not thread.is_alive() and len(outcome) == 1
    assert isinstance(outcome[0], psycopg.OperationalError), outcome[0]
    return outcome[0]


SNAPSHOT = {
    "lanes": "SELECT lane_id, next_seq, claim_seq FROM {s}.lanes ORDER BY 1",
    "ready": "SELECT slot, job_id, lane_seq, attempt FROM {s}.ready ORDER BY 2, 3",
    "claims": "SELECT slot, job_id, run_lease FROM {s}.claims ORDER BY 3",
    "closures": "SELECT job_id, run_lease, outcome FROM {s}.closures ORDER BY 2",
    "done": "SELECT slot, job_id, outcome FROM {s}.done ORDER BY 2",
    "deferred": "SELECT job_id, attempt FROM {s}.deferred ORDER BY 1",
    "rings": "SELECT ring, current_slot, generation FROM {s}.ring_state ORDER BY 1",
    "slots": "SELECT ring, slot, state, generation FROM {s}.slots ORDER BY 1, 2",
}


def snapshot(q_rows: Any) -> dict[str, list[tuple[Any, ...]]]:
    return {name: q_rows(query) for name, query in SNAPSHOT.items()}


@pytest.fixture
def hook_conn(db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(db_url, autocommit=True) as c:
        yield c


def test_kill_inside_claim(
    queue: Queue, q_rows: Any, hook_conn: psycopg.Connection, db_url: str, clock: ManualClock
) -> None:
    queue.enqueue_many([Job("t", i) for i in range(5)])
    before = snapshot(q_rows)
    with frozen_at(hook_conn, q_rows, "lanes", "UPDATE"):  # claim.before_commit: cursor moved, claims written
        kill_inside(hook_conn, db_url, queue.schema, clock, lambda v: v.claim(worker="victim", limit=3))
    assert snapshot(q_rows) == before
    assert [j.payload for j in queue.claim(worker="w", limit=10)] == [0, 1, 2, 3, 4]


def test_kill_inside_complete(
    queue: Queue, q_rows: Any, hook_conn: psycopg.Connection, db_url: str, clock: ManualClock
) -> None:
    queue.enqueue_many([Job("t", i) for i in range(3)])
    jobs = queue.claim(worker="w", limit=3)
    items = [Completion(j.job_id, j.run_lease, "r") for j in jobs]
    before = snapshot(q_rows)
    with frozen_at(hook_conn, q_rows, "done", "INSERT"):  # complete.before_commit
        kill_inside(hook_conn, db_url, queue.schema, clock, lambda v: v.complete_many(items))
    assert snapshot(q_rows) == before
    assert queue.complete_many(items) == [None, None, None]
    assert q_rows("SELECT count(*) FROM {s}.done") == [(3,)]


def test_kill_inside_fail_retry(
    queue: Queue, q_rows: Any, hook_conn: psycopg.Connection, db_url: str, clock: ManualClock
) -> None:
    queue.enqueue("t")
    [job] = queue.claim(worker="w")
    before = snapshot(q_rows)
    with frozen_at(hook_conn, q_rows, "ready", "INSERT"):  # fail.before_commit (retry written)
        kill_inside(
            hook_conn,
            db_url,
            queue.schema,
            clock,
            lambda v: v.fail(Failure(job.job_id, job.run_lease, "e", retry_delay=0)),
        )
    assert snapshot(q_rows) == before
    assert queue.fail(Failure(job.job_id, job.run_lease, "e", retry_delay=0)) == "retried"
    assert [j.attempt for j in queue.claim(worker="w")] == [2]


def test_kill_inside_rotate(
    queue: Queue, q_rows: Any, hook_conn: psycopg.Connection, db_url: str, clock: ManualClock
) -> None:
    queue.enqueue("t")
    before = snapshot(q_rows)
    with frozen_at(hook_conn, q_rows, "ring_state", "UPDATE"):  # rotate.before_commit
        kill_inside(hook_conn, db_url, queue.schema, clock, lambda v: v.rotate("queue"))
    assert snapshot(q_rows) == before
    assert queue.rotate("queue") == 1  # the killed rotate's advisory lock died with it
    queue.enqueue("u")
    assert q_rows("SELECT task, slot FROM {s}.ready ORDER BY job_id") == [("t", 0), ("u", 1)]


def test_kill_inside_prune(
    queue: Queue, q_rows: Any, hook_conn: psycopg.Connection, db_url: str, clock: ManualClock
) -> None:
    queue.enqueue_many([Job("t", i) for i in range(3)])
    for j in queue.claim(worker="w", limit=3):
        queue.complete(j.job_id, j.run_lease)
    queue.rotate("queue")
    before = snapshot(q_rows)
    with frozen_at(hook_conn, q_rows, "slots", "UPDATE"):  # prune.before_commit: slot truncated
        kill_inside(hook_conn, db_url, queue.schema, clock, lambda v: v.prune("queue"))
    assert snapshot(q_rows) == before  # the TRUNCATE rolled back with the rest
    assert queue.prune("queue") == 0
    assert q_rows("SELECT count(*) FROM {s}.ready_0") == [(0,)]
