"""What an open enqueue transaction costs everyone else, and what each enqueue path costs.

Measures, on one server and one schema per run (ADR 0011's numbers):
- stall: a caller transaction enqueues one job into queue q and stays open `--hold` s; meanwhile
  another plain enqueue into q (same priority) and a claim of a job committed before it began
  are timed;
- enqueue cost: jobs/s of `Queue.enqueue` in ringq's own transaction (direct path), inside a
  caller's transaction (BEGIN; enqueue; COMMIT: the staged path when the code has it), and of
  `enqueue_many` batches of 100 on both paths.

Run it against the code to measure (the before/after pair: PYTHONPATH=<old checkout>/src):

    .venv/bin/python scripts/bench/enqueue_paths.py --database-url URL --schema after --json out.json
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from ringq import Job, Queue, install


def _rate(n: int, fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - t0)


def measure_stall(url: str, schema: str, hold: float) -> dict[str, float]:
    q = Queue(url, schema=schema, pool_size=4)
    try:
        before = q.enqueue("t", None, queue="stall")
        ready = threading.Event()

        def holder() -> None:
            with psycopg.connect(url) as conn, conn.transaction():
                q.enqueue("t", None, queue="stall", conn=conn)
                ready.set()
                time.sleep(hold)

        th = threading.Thread(target=holder)
        th.start()
        ready.wait()
        t0 = time.perf_counter()
        got: list[int] = []
        while before not in got and time.perf_counter() - t0 < hold + 5:
            got += [c.job_id for c in q.claim(worker="w", queues=["stall"], limit=10)]
        claim_ms = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        q.enqueue("t", None, queue="stall")
        enqueue_ms = (time.perf_counter() - t0) * 1000
        th.join()
        return {"other_enqueue_ms": round(enqueue_ms, 1), "claim_older_job_ms": round(claim_ms, 1)}
    finally:
        q.close()


def measure_cost(url: str, schema: str, n: int) -> dict[str, float]:
    q = Queue(url, schema=schema, pool_size=2)
    out: dict[str, float] = {}
    try:
        with psycopg.connect(url) as conn:

            def in_caller_tx() -> None:
                q.enqueue("t", None, queue="cost", conn=conn)
                conn.commit()

            def batch_in_caller_tx() -> None:
                q.enqueue_many([Job("t", None, queue="cost")] * 100, conn=conn)
                conn.commit()

            for rep in range(2):  # the first round warms caches; report the second
                out["direct_jobs_per_s"] = _rate(n, lambda: q.enqueue("t", None, queue="cost"))
                out["caller_tx_jobs_per_s"] = _rate(n, in_caller_tx)
                out["direct_batch100_jobs_per_s"] = 100 * _rate(
                    n // 100, lambda: q.enqueue_many([Job("t", None, queue="cost")] * 100)
                )
                out["caller_tx_batch100_jobs_per_s"] = 100 * _rate(n // 100, batch_in_caller_tx)
                del rep
    finally:
        q.close()
    return {k: round(v) for k, v in out.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", required=True)
    p.add_argument("--schema", default="enqueue_paths")
    p.add_argument("--hold", type=float, default=3.0)
    p.add_argument("--jobs", type=int, default=2000)
    p.add_argument("--json", default=None)
    a = p.parse_args()
    with psycopg.connect(a.database_url, autocommit=True) as c:
        c.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(a.schema)))
        install(c, a.schema)
    res = {"stall": measure_stall(a.database_url, a.schema, a.hold)}
    res["cost"] = measure_cost(a.database_url, a.schema, a.jobs)
    print(json.dumps(res, indent=2))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
