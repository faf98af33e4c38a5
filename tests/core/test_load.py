"""Many workers over many jobs: exactly-once completion, and an append-only hot path."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
from psycopg import sql

from ringq import Completion, Job, Queue

from .helpers import wait_until

HOT_TABLES = ("ready", "claims", "closures", "done")


def test_worker_threads_complete_every_job_exactly_once(db_url: str, installed: str, q_rows: Any) -> None:
    q = Queue(db_url, schema=installed, pool_size=6)
    total = 10_000
    for start in range(0, total, 2_000):
        q.enqueue_many([Job("t", i, priority=i % 4) for i in range(start, start + 2_000)])
    claimed: list[tuple[int, int]] = []
    errors: list[Exception] = []
    lock = threading.Lock()

    def worker() -> None:
        while True:
            batch = q.claim(worker=threading.current_thread().name, limit=50)
            if not batch:
                with lock:
                    if len(claimed) >= total:
                        return
                time.sleep(0.005)
                continue
            outcome = q.complete_many([Completion(j.job_id, j.run_lease, j.payload) for j in batch])
            with lock:
                claimed.extend((j.job_id, j.run_lease) for j in batch)
                errors.extend(e for e in outcome if e is not None)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    elapsed = time.perf_counter() - t0
    q.close()
    assert errors == []
    jobs = [job for job, _ in claimed]
    assert len(jobs) == total and len(set(jobs)) == total  # no job claimed twice
    assert len({lease for _, lease in claimed}) == total  # no attempt handed out twice
    assert q_rows("SELECT count(*), count(DISTINCT job_id) FROM {s}.done WHERE outcome = 'completed'") == [
        (total, total)
    ]
    assert q_rows("SELECT count(*) FROM {s}.closures WHERE outcome <> 'completed'") == [(0,)]
    # each result (the job's payload, echoed) landed in the job's own terminal row
    assert q_rows(
        "SELECT count(*) FROM {s}.done d JOIN {s}.ready r ON r.job_id = d.job_id WHERE d.result = r.payload"
    ) == [(total,)]
    print(f"4 worker threads: {total} jobs in {elapsed:.2f}s = {total / elapsed:.0f} jobs/s")


def _dead_and_inserted(conn: psycopg.Connection, schema: str) -> dict[str, tuple[int, int]]:
    conn.execute("SELECT pg_stat_clear_snapshot()")
    rows = conn.execute(
        """SELECT relname, n_dead_tup, n_tup_ins, n_tup_upd + n_tup_del FROM pg_stat_user_tables
           WHERE schemaname = %s""",
        (schema,),
    ).fetchall()
    out: dict[str, tuple[int, int]] = {}
    for name, dead, inserted, changed in rows:
        parent = name.rsplit("_", 1)[0]
        if parent in HOT_TABLES:
            d, i = out.get(parent, (0, 0))
            assert changed == 0, f"{name}: {changed} updates/deletes on an append-only table"
            out[parent] = (d + dead, i + inserted)
    return out


def test_hot_path_leaves_no_dead_tuples(db_url: str, installed: str, conn: psycopg.Connection) -> None:
    q = Queue(db_url, schema=installed, pool_size=2)
    total = 20_000
    q.enqueue_many([Job("t", {"i": i}) for i in range(total)])
    t0 = time.perf_counter()
    done = 0
    while batch := q.claim(worker="w", limit=100):
        assert q.complete_many([Completion(j.job_id, j.run_lease) for j in batch]) == [None] * len(batch)
        done += len(batch)
    elapsed = time.perf_counter() - t0
    q.close()  # backends exit and flush their statistics
    assert done == total

    def flushed() -> bool:
        stats = _dead_and_inserted(conn, installed)
        return all(stats.get(t, (0, 0))[1] >= total for t in HOT_TABLES)

    wait_until(flushed, timeout=30, what="table statistics to be flushed")
    stats = _dead_and_inserted(conn, installed)
    for table in HOT_TABLES:
        dead, inserted = stats[table]
        assert inserted >= total and dead <= 5, f"{table}: {dead} dead tuples after {inserted} inserts"
    ready = sql.SQL("SELECT count(*) FROM {}.ready").format(sql.Identifier(installed))
    assert conn.execute(ready).fetchone() == (total,)
    print(
        f"claim(100)+complete_many drain: {total} jobs in {elapsed:.2f}s = {total / elapsed:.0f} jobs/s; {stats}"
    )
