from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from ringq import AsyncQueue, InvalidInput, Job, ManualClock, Queue

from .helpers import count_all_rows


def test_enqueue_in_callers_transaction_commits_with_it(queue: Queue, db_url: str, q_rows: Any) -> None:
    q_rows("CREATE TABLE {s}.orders (id int)")
    orders = sql.SQL("INSERT INTO {}.orders VALUES (42)").format(sql.Identifier(queue.schema))
    with psycopg.connect(db_url) as c, c.transaction():
        c.execute(orders)
        job_id = queue.enqueue("ship", {"order": 42}, conn=c)
        # not visible outside the caller's transaction yet
        assert q_rows("SELECT count(*) FROM {s}.ready") == [(0,)]
    assert q_rows("SELECT job_id, payload FROM {s}.ready") == [(job_id, {"order": 42})]
    assert q_rows("SELECT id FROM {s}.orders") == [(42,)]


def test_enqueue_in_callers_transaction_rolls_back_with_it(queue: Queue, db_url: str, q_rows: Any) -> None:
    with psycopg.connect(db_url) as c:
        with pytest.raises(RuntimeError), c.transaction():
            queue.enqueue_many([Job("a"), Job("b", delay=5), Job("c", dedup_key="k")], conn=c)
            raise RuntimeError("caller gives up")
    assert count_all_rows(q_rows) == 0
    # The lane's sequence allocation rolled back too: no gap for the claim cursor.
    assert q_rows("SELECT next_seq, claim_seq FROM {s}.lanes") in ([], [(0, 0)])
    queue.enqueue("d")
    assert [j.task for j in queue.claim(worker="w")] == ["d"]


def test_enqueue_many_is_one_atomic_statement(queue: Queue, q_rows: Any) -> None:
    ids = queue.enqueue_many([Job("t", i, priority=i % 3, queue=f"q{i % 2}") for i in range(500)])
    assert ids == sorted(ids) and len(set(ids)) == 500
    assert q_rows("SELECT count(*) FROM {s}.ready") == [(500,)]
    # lane_seq is dense per lane, in input order
    rows = q_rows("SELECT lane_id, array_agg(lane_seq ORDER BY job_id) FROM {s}.ready GROUP BY lane_id")
    for _, seqs in rows:
        assert seqs == list(range(len(seqs)))
    assert queue.enqueue_many([]) == []


def test_delay_and_run_at_go_to_deferred_until_promoted(
    queue: Queue, clock: ManualClock, q_rows: Any
) -> None:
    later = queue.enqueue("later", delay=10)
    at = queue.enqueue("at", run_at=clock.now() + timedelta(seconds=20))
    past = queue.enqueue("past", run_at=clock.now() - timedelta(seconds=1))
    assert {queue.job(j).state for j in (later, at)} == {"deferred"}  # type: ignore[union-attr]
    assert [j.job_id for j in queue.claim(worker="w")] == [past]
    assert queue.promote() == 0
    clock.advance(10)
    assert queue.promote() == 1
    assert [j.job_id for j in queue.claim(worker="w")] == [later]
    clock.advance(10)
    assert queue.promote() == 1
    [job] = queue.claim(worker="w")
    assert (job.job_id, job.attempt) == (at, 1)
    assert q_rows("SELECT count(*) FROM {s}.deferred") == [(0,)]


def test_dedup_key_returns_live_job_until_it_is_terminal(queue: Queue) -> None:
    first = queue.enqueue("t", 1, dedup_key="k")
    assert queue.enqueue("t", 2, dedup_key="k") == first
    assert queue.enqueue("t", 2, dedup_key="k", queue="other") != first  # per queue
    [job] = queue.claim(worker="w", queues=["default"])
    assert queue.enqueue("t", 3, dedup_key="k") == first  # running is live
    queue.complete(job.job_id, job.run_lease)
    second = queue.enqueue("t", 4, dedup_key="k")  # terminal: a new job
    assert second != first
    # duplicates inside one batch share the first row's id; deferred jobs are live too
    ids = queue.enqueue_many([Job("t", dedup_key="b", delay=30), Job("t", dedup_key="b"), Job("t")])
    assert ids[0] == ids[1] != ids[2]
    assert queue.job(ids[0]).state == "deferred"  # type: ignore[union-attr]
    assert queue.enqueue("t", dedup_key="b") == ids[0]


def test_async_cancel_mid_transaction_leaves_no_partial_write(
    installed: str, db_url: str, q_rows: Any
) -> None:
    async def scenario() -> None:
        q = AsyncQueue(db_url, schema=installed, clock=ManualClock())
        started = asyncio.Event()

        async def caller() -> None:
            async with await psycopg.AsyncConnection.connect(db_url) as c, c.transaction():
                await q.enqueue_many([Job("t", i) for i in range(100)], conn=c)
                started.set()
                await c.execute("SELECT pg_sleep(30)")  # cancelled while waiting here

        task = asyncio.create_task(caller())
        await started.wait()
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # the async client still works afterwards
        assert len(await q.enqueue_many([Job("after")])) == 1
        await q.close()

    asyncio.run(scenario())
    assert q_rows("SELECT task FROM {s}.ready") == [("after",)]
    assert q_rows("SELECT next_seq FROM {s}.lanes") == [(1,)]


def test_queue_over_callers_pool_commits_each_call(db_url: str, installed: str, q_rows: Any) -> None:
    from psycopg_pool import ConnectionPool

    with ConnectionPool(db_url, min_size=1, max_size=2, open=True) as pool:  # not autocommit
        q = Queue(pool, schema=installed)
        job_id = q.enqueue("t", {"x": 1})
        [job] = q.claim(worker="w")
        q.complete(job.job_id, job.run_lease, "r")
        q.close()  # the caller's pool stays open
        assert not pool.closed
    assert q_rows("SELECT job_id, outcome, result FROM {s}.done") == [(job_id, "completed", "r")]


def test_payload_size_limit_is_exact(db_url: str, installed: str, q_rows: Any) -> None:
    q = Queue(db_url, schema=installed, max_payload_bytes=10)
    try:
        q.enqueue("t", "é" * 4)  # '"éééé"' is 10 bytes of UTF-8
        with pytest.raises(InvalidInput, match="11 bytes"):
            q.enqueue("t", "abcdefghi")
    finally:
        q.close()
    assert q_rows("SELECT payload FROM {s}.ready") == [("éééé",)]


def test_dedup_within_and_across_batches(queue: Queue, q_rows: Any) -> None:
    live = queue.enqueue("t", dedup_key="k0")
    ids = queue.enqueue_many(
        [
            Job("t", dedup_key="k0"),
            Job("t", dedup_key="k1"),
            Job("t"),
            Job("t", dedup_key="k1"),
            Job("t", dedup_key="k0"),
        ]
    )
    assert ids[0] == ids[4] == live
    assert ids[1] == ids[3] and len({live, ids[1], ids[2]}) == 3
    assert q_rows("SELECT count(*) FROM {s}.ready") == [(3,)]
    assert q_rows("SELECT dedup_key, job_id FROM {s}.dedup ORDER BY 1") == [("k0", live), ("k1", ids[1])]


def test_conninfo_names_the_pool_database(queue: Queue, db_url: str) -> None:
    with psycopg.connect(queue.conninfo) as c:
        assert c.execute("SELECT current_database()").fetchone() == (
            psycopg.conninfo.conninfo_to_dict(db_url)["dbname"],
        )
