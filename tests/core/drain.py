"""Quick drain measurement: enqueue N jobs with enqueue_many, claim batches, complete_many.

    .venv/bin/python -m tests.core.drain [--jobs 20000] [--batch 100]

Uses RINGQ_DATABASE_URL or an embedded PostgreSQL; installs into a throwaway schema.
"""

from __future__ import annotations

import argparse
import time
import uuid

import psycopg
from psycopg import sql

from ringq import Completion, Job, Queue, install
from ringq.embedded import database_url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    url = database_url()
    schema = f"drain_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        install(conn, schema)
    queue = Queue(url, schema=schema, pool_size=1)
    try:
        t0 = time.perf_counter()
        for start in range(0, args.jobs, 5_000):
            queue.enqueue_many([Job("t", {"i": i}) for i in range(start, min(start + 5_000, args.jobs))])
        t1 = time.perf_counter()
        claim_s = complete_s = 0.0
        done = 0
        while True:
            c0 = time.perf_counter()
            batch = queue.claim(worker="drain", limit=args.batch)
            c1 = time.perf_counter()
            claim_s += c1 - c0
            if not batch:
                break
            outcome = queue.complete_many([Completion(j.job_id, j.run_lease) for j in batch])
            complete_s += time.perf_counter() - c1
            assert outcome == [None] * len(batch)
            done += len(batch)
        t2 = time.perf_counter()
        assert done == args.jobs
        print(
            f"enqueue_many: {args.jobs} jobs in {t1 - t0:.2f}s = {args.jobs / (t1 - t0):.0f} jobs/s\n"
            f"drain (claim {args.batch} + complete_many): {done} jobs in {t2 - t1:.2f}s = "
            f"{done / (t2 - t1):.0f} jobs/s (claim {claim_s:.2f}s, complete {complete_s:.2f}s)"
        )
    finally:
        queue.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


if __name__ == "__main__":
    main()
