"""AsyncQueue runs the same calls as Queue: one pass over the whole API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from ringq import AsyncQueue, Failure, Job, JobAlreadyTerminal, LeaseLost, ManualClock, NotInstalled


def test_async_queue_end_to_end(db_url: str, installed: str, clock: ManualClock, q_rows: Any) -> None:
    async def scenario() -> None:
        async with AsyncQueue(db_url, schema=installed, clock=clock) as q:
            ids = await q.enqueue_many([Job("t", i, priority=2 - i) for i in range(3)])
            deferred = await q.enqueue("later", delay=5)
            jobs = await q.claim(worker="aw", limit=3, lease=10)
            assert [j.job_id for j in jobs] == ids[::-1]
            a, b, c = jobs
            assert await q.complete_many([]) == []
            await q.complete(a.job_id, a.run_lease, {"ok": True})
            assert await q.fail(Failure(b.job_id, b.run_lease, "e", retry_delay=0)) == "retried"
            assert await q.heartbeat([(c.job_id, c.run_lease)], lease=10) == []
            assert await q.cancel(c.job_id) == "cancelled_running"
            with pytest.raises(LeaseLost):
                await q.complete(c.job_id, c.run_lease)
            with pytest.raises(JobAlreadyTerminal):
                await q.cancel(a.job_id)
            info = await q.job(a.job_id)
            assert info is not None and info.result == {"ok": True}
            clock.advance(5)
            assert await q.promote() == 1
            assert await q.rescue() == 0
            again = await q.claim(worker="aw", limit=5)
            assert sorted(j.job_id for j in again) == sorted([b.job_id, deferred])
            for j in again:
                await q.fail(Failure(j.job_id, j.run_lease, "x", dead_letter=True))
            assert len(await q.dlq_list()) == 2
            assert await q.dlq_retry(queue="default") == 2
            assert await q.dlq_purge() == 0
            [stats] = await q.stats()
            assert (stats.queued, stats.completed, stats.cancelled) == (2, 1, 1)
            assert await q.rotate("claim") == 1
            assert await q.prune("claim") == 0  # every attempt in claim slot 0 is closed

    asyncio.run(scenario())
    assert q_rows("SELECT count(*) FROM {s}.done WHERE outcome = 'completed'") == [(1,)]


def test_async_queue_over_callers_pool_and_not_installed(db_url: str, schema: str) -> None:
    async def scenario() -> None:
        async with AsyncConnectionPool(db_url, min_size=1, max_size=2, open=False) as pool:
            q = AsyncQueue(pool, schema=schema)
            with pytest.raises(NotInstalled):
                await q.enqueue("t")
            await q.close()  # the caller's pool stays open
            assert not pool.closed

    asyncio.run(scenario())
