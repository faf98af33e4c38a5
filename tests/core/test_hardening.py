"""Issue 13: the eight bugs an adversarial review found, one regression test each (each failed on
the code before its fix). Deterministic: transactions are held open on separate connections
instead of racing threads, except where a waiter has to be in a second thread."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from ringq import Backoff, Completion, Failure, JobAlreadyTerminal, ManualClock, Queue
from ringq.errors import InvalidInput, MaintenanceBusy
from ringq.invariants import violations

from .helpers import wait_until


def _fn(schema: str, call: str) -> sql.Composed:
    return sql.SQL(call).format(s=sql.Identifier(schema))


# -- 1: a claim that commits late is still rescued ------------------------------------------------


def test_claim_committing_after_a_rescue_horizon_is_still_rescued(
    db_url: str, installed: str, clock: ManualClock, queue: Queue, q_rows: Any
) -> None:
    """The claim reads its clock (T0, lease 30) and stalls before its transaction runs; a rescue
    at T0+40 moves its horizon; the claim then commits with a deadline before that horizon. A
    later rescue must still find the attempt (it used to stay open for ever)."""
    queue.enqueue("t")
    stale = queue._claim("w", None, 1, 30.0)  # clock read at T0, not sent yet
    clock.advance(40)
    assert queue.rescue() == 0  # horizon -> T0+40
    [job] = queue._run(stale)  # commits now, clock T0
    clock.advance(1)
    assert queue.rescue() == 1
    [(outcome,)] = q_rows("SELECT outcome FROM {s}.closures WHERE run_lease = %s", job.run_lease)
    assert outcome == "rescued"


def test_claim_open_across_a_rescue_is_rescued_once_committed(
    db_url: str, installed: str, clock: ManualClock, queue: Queue, q_rows: Any
) -> None:
    """The claim's transaction is open (clock T0) while rescue runs at T0+40: rescue either waits
    for it or gives up busy, but never moves its horizon past the claim's deadline unseen."""
    queue.enqueue("t")
    with psycopg.connect(db_url) as c:
        c.execute(_fn(installed, "SELECT * FROM {s}.claim(%s, 'w', NULL, 1, 30)"), (clock.now(),)).fetchall()
        clock.advance(40)
        with pytest.raises(MaintenanceBusy):
            queue.rescue()
        c.commit()
    clock.advance(1)
    assert queue.rescue() == 1
    assert q_rows("SELECT outcome FROM {s}.closures") == [("rescued",)]


# -- 2: backoff never overflows --------------------------------------------------------------------


def test_backoff_saturates_at_its_cap_for_any_attempt(
    db_url: str, installed: str, clock: ManualClock, q_rows: Any
) -> None:
    backoff = Backoff(base=1.0, factor=10.0, cap=300.0, jitter=0.0)
    q = Queue(db_url, schema=installed, clock=clock, backoff=backoff)
    try:
        for attempt in (1, 309, 310, 442, 647, 1000, 2**31 - 1):
            [(d,)] = q_rows("SELECT {s}.backoff_delay(%s, %s)", attempt, backoff.as_sql())
            assert d == backoff.delay(attempt) == (1.0 if attempt == 1 else 300.0)
        # fail() and rescue() at a huge attempt number: no 22003, the job is deferred by the cap
        q.enqueue("t", max_attempts=1000)
        q_rows("UPDATE {s}.ready SET attempt = 500")
        [job] = q.claim(worker="w", lease=5)
        assert q.fail(Failure(job.job_id, job.run_lease, "boom")) == "retried"
        [(run_at,)] = q_rows("SELECT run_at FROM {s}.deferred")
        assert run_at == clock.now() + timedelta(seconds=300)
        q_rows("UPDATE {s}.deferred SET run_at = %s", clock.now())
        assert q.promote() == 1
        [job] = q.claim(worker="w", lease=5)
        clock.advance(10)
        assert q.rescue() == 1
    finally:
        q.close()


@pytest.mark.parametrize(
    "kwargs",
    [{"base": float("inf")}, {"cap": float("inf")}, {"factor": float("nan")}, {"factor": float("inf")}],
)
def test_backoff_rejects_non_finite_parameters(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidInput):
        Backoff(**kwargs)


# -- 3: complete_many with one attempt twice --------------------------------------------------------


def test_complete_many_with_a_duplicate_item_completes_once(queue: Queue, q_rows: Any) -> None:
    queue.enqueue("t")
    [job] = queue.claim(worker="w")
    first, second = queue.complete_many(
        [Completion(job.job_id, job.run_lease, "a"), Completion(job.job_id, job.run_lease, "b")]
    )
    assert first is None
    assert isinstance(second, InvalidInput) and "duplicate" in str(second)
    assert q_rows("SELECT outcome, result FROM {s}.done") == [("completed", "a")]
    [stats] = queue.stats()
    assert stats.completed == 1


# -- 4: every ringq transaction runs READ COMMITTED ---------------------------------------------------


def test_queue_transactions_run_read_committed_under_a_repeatable_read_default(
    db_url: str, installed: str, clock: ManualClock, conn: psycopg.Connection
) -> None:
    role = f"rr_{installed}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER").format(sql.Identifier(role)))
    conn.execute(
        sql.SQL("ALTER ROLE {} SET default_transaction_isolation = 'repeatable read'").format(
            sql.Identifier(role)
        )
    )
    try:
        url = psycopg.conninfo.make_conninfo(db_url, user=role)
        with psycopg.connect(url, autocommit=True) as raw:
            [(level,)] = raw.execute("SHOW transaction_isolation").fetchall()
            assert level == "repeatable read"  # the role's default is in force
        q = Queue(url, schema=installed, clock=clock)
        try:
            with q._pool.connection() as own:
                [(level,)] = own.execute("SHOW transaction_isolation").fetchall()
            assert level == "read committed"
            q.enqueue("t")
            [job] = q.claim(worker="w")
            q.complete(job.job_id, job.run_lease)
            q.rotate("queue")
            q.prune("queue")
        finally:
            q.close()
        # a caller's own REPEATABLE READ transaction is refused by every ringq function
        with psycopg.connect(url) as c:
            for call in (
                "SELECT {s}.prune('queue', 100)",
                "SELECT * FROM {s}.claim(now(), 'w', NULL, 1, 30)",
            ):
                with pytest.raises(psycopg.Error) as refused:
                    c.execute(_fn(installed, call))
                c.rollback()
                assert refused.value.sqlstate == "RQ005", call
    finally:
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


# -- 5: concurrent cancels of one queued job -----------------------------------------------------------


def test_two_concurrent_cancels_of_a_queued_job(
    db_url: str, installed: str, clock: ManualClock, queue: Queue, q_rows: Any
) -> None:
    job_id = queue.enqueue("t")
    with psycopg.connect(db_url) as first:
        first.execute(_fn(installed, "SELECT {s}.cancel(%s, %s)"), (clock.now(), job_id))
        result: list[Any] = []
        loser = threading.Thread(target=lambda: result.append(_try(lambda: queue.cancel(job_id))))
        loser.start()
        wait_until(
            lambda: bool(
                q_rows(
                    "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
                    "%cancel(%",
                )
            ),
            what="the second cancel to wait on the first",
        )
        first.commit()
        loser.join(10)
    [err] = result
    assert isinstance(err, JobAlreadyTerminal) and err.outcome == "cancelled"
    assert q_rows("SELECT outcome FROM {s}.done") == [("cancelled",)]


def _try(action: Any) -> Any:
    try:
        return action()
    except Exception as exc:
        return exc


# -- 7: dlq_retry honours dedup keys --------------------------------------------------------------------


def test_dlq_retry_does_not_revive_a_key_held_by_a_live_job(
    db_url: str, installed: str, queue: Queue, q_rows: Any, conn: psycopg.Connection
) -> None:
    j1 = queue.enqueue("t", dedup_key="K", max_attempts=1)
    [job] = queue.claim(worker="w")
    assert queue.fail(Failure(job.job_id, job.run_lease, "boom")) == "dlq"
    j2 = queue.enqueue("t", dedup_key="K")
    assert j2 != j1
    assert queue.dlq_retry([j1]) == 0  # refused: K names the live j2; j1 stays dead-lettered
    assert [e.job_id for e in queue.dlq_list()] == [j1]
    assert q_rows("SELECT count(*) FROM {s}.ready WHERE job_id = %s", j1) == [(1,)]  # not re-queued
    # once j2 is finished, the retry goes through and takes the key: a new K enqueue is absorbed
    [job2] = queue.claim(worker="w")
    queue.complete(job2.job_id, job2.run_lease)
    assert queue.dlq_retry([j1]) == 1
    assert queue.enqueue("t", dedup_key="K") == j1
    assert violations(conn, installed) == []


# -- 8: maintenance never waits unboundedly on a lane ------------------------------------------------


def test_maintenance_gives_up_on_a_held_lane_and_rescues_other_queues(
    db_url: str, installed: str, clock: ManualClock, queue: Queue, q_rows: Any
) -> None:
    queue.enqueue("t", queue="held", delay=1)
    queue.enqueue("t", queue="held")
    queue.enqueue("t", queue="free")
    [held] = queue.claim(worker="w", queues=["held"], lease=5)
    [job] = queue.claim(worker="w", queues=["free"], lease=5)
    clock.advance(10)  # the deferred job in 'held' is due, both attempts expired
    with psycopg.connect(db_url) as holder:
        holder.execute(_fn(installed, "SELECT 1 FROM {s}.lanes WHERE queue = 'held' FOR UPDATE"))
        holder.execute(_fn(installed, "SELECT 1 FROM {s}.lanes WHERE queue = 'held'"))
        done = threading.Event()
        outcome: list[Any] = []

        def maintain() -> None:
            outcome.append(_try(queue.promote))
            outcome.append(_try(queue.rescue))
            done.set()

        threading.Thread(target=maintain, daemon=True).start()
        finished = done.wait(10)
        holder.rollback()
    assert finished, "maintenance waited on the held lane"
    promoted, rescued = outcome
    assert isinstance(promoted, MaintenanceBusy)
    assert rescued == 1
    assert q_rows("SELECT job_id, outcome FROM {s}.closures") == [(job.job_id, "rescued")]
    assert queue.rescue() == 1  # the held lane's attempt, once the lane is free
    assert queue.promote() == 1
    assert len(q_rows("SELECT 1 FROM {s}.closures WHERE outcome = 'rescued'")) == 2
    assert held.queue == "held"


# -- 6: no doctor false alarm once the DLQ evidence is split by prunes ---------------------------------


def test_doctor_after_rescue_to_dlq_queue_prune_and_dlq_retry(
    installed: str, clock: ManualClock, queue: Queue, conn: psycopg.Connection
) -> None:
    """(a) rescued + dead-lettered (its 'dlq' terminal row in the queue slot), that slot pruned,
    then dlq_retry and a claim at attempt 1: legal, not AttemptLimitRespected."""
    job_id = queue.enqueue("t", max_attempts=1)
    queue.claim(worker="w", lease=5)
    clock.advance(10)
    assert queue.rescue() == 1
    queue.rotate("queue")
    assert queue.prune("queue") is not None
    assert queue.dlq_retry([job_id]) == 1
    [job] = queue.claim(worker="w")
    assert job.job_id == job_id and job.attempt == 1
    assert violations(conn, installed) == []


def test_doctor_after_dlq_purge_and_claim_prune(
    installed: str, queue: Queue, conn: psycopg.Connection
) -> None:
    """(b) dead-lettered, purged from the DLQ, its claim slot pruned: the job ended, not NoLostJob."""
    job_id = queue.enqueue("t", max_attempts=1)
    [job] = queue.claim(worker="w")
    assert queue.fail(Failure(job.job_id, job.run_lease, "boom")) == "dlq"
    assert queue.dlq_purge([job_id]) == 1
    queue.rotate("claim")
    assert queue.prune("claim") is not None
    assert violations(conn, installed) == []
