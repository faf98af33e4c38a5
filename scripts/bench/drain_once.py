"""Drain N pre-enqueued no-op jobs with one `Worker` and print jobs/s: the quick same-server
before/after check for a change of the claim/complete path.

    .venv/bin/python scripts/bench/drain_once.py URL SCHEMA 20000
    PYTHONPATH=<old checkout>/src .venv/bin/python scripts/bench/drain_once.py URL before 20000
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import psycopg
from psycopg import sql

from ringq import AsyncQueue, Job, Queue, install
from ringq.registry import JobContext, Registry
from ringq.worker import Worker


def main() -> None:
    url, schema, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        install(c, schema)
    q = Queue(url, schema=schema)
    for _ in range(0, n, 1000):
        q.enqueue_many([Job("noop", None)] * 1000)
    q.close()
    registry = Registry()

    @registry.task("noop")
    async def noop(ctx: JobContext) -> None:
        return None

    async def drain() -> None:
        aq = AsyncQueue(url, schema=schema)
        worker = Worker(aq, registry, concurrency=64)
        t0 = time.perf_counter()
        task = asyncio.create_task(worker.run())
        while sum(s.completed for s in await aq.stats()) < n:
            await asyncio.sleep(0.05)
        dt = time.perf_counter() - t0
        print(f"{schema}: drained {n} in {dt:.2f}s = {n / dt:.0f} jobs/s", flush=True)
        task.cancel()
        os._exit(0)  # the worker's shutdown path is not what is measured

    asyncio.run(drain())


if __name__ == "__main__":
    main()
