"""Shutdown and resilience: graceful drain, forced exit, surviving a dropped connection."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections import Counter

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool
from worker_helpers import rows

from ringq.aclient import AsyncQueue
from ringq.backoff import Backoff
from ringq.clock import ManualClock, SystemClock
from ringq.registry import JobContext, Registry
from ringq.types import Job
from ringq.worker import Worker
from support import eventually

NO_WAIT = Backoff(base=0.01, factor=1.0, cap=0.01, jitter=0.0)


def completed_closures(db_url: str, schema: str) -> Counter[int]:
    got = rows(db_url, schema, "SELECT job_id FROM {s}.closures WHERE outcome = 'completed'")
    return Counter(int(r[0]) for r in got)  # type: ignore[call-overload]


async def _states(queue: AsyncQueue, ids: list[int]) -> list[str]:
    return [info.state if (info := await queue.job(i)) else "missing" for i in ids]


def test_graceful_shutdown_drains_within_its_deadline_and_leaves_unfinished_attempts_for_rescue(
    db_url: str, installed: str
) -> None:
    registry = Registry()
    executions: list[tuple[int, int]] = []

    @registry.task("quick")
    async def quick(ctx: JobContext) -> int:
        executions.append((ctx.job_id, ctx.attempt))
        return ctx.job_id

    @registry.task("long")
    async def long(ctx: JobContext) -> str:
        executions.append((ctx.job_id, ctx.attempt))
        if ctx.attempt == 1:
            await asyncio.sleep(30)  # still running when shutdown's deadline passes
        return "second attempt"

    async def main() -> tuple[list[int], list[int]]:
        async with AsyncQueue(db_url, schema=installed) as queue:
            quick_ids = [await queue.enqueue("quick", None) for _ in range(3)]
            long_ids = [await queue.enqueue("long", None) for _ in range(2)]
            worker = Worker(queue, registry, concurrency=8, lease=5.0, poll_interval=0.05, maintenance=False)
            task = asyncio.create_task(worker.run())
            await eventually(
                lambda: _expect(queue, quick_ids + long_ids, ["completed"] * 3 + ["running"] * 2),
                10,
                "quick jobs completed, long ones running",
            )
            started = time.monotonic()
            report = await worker.stop(1.0)
            await task
            took = time.monotonic() - started
            assert took < 1.5, f"stop(1.0) took {took:.2f}s"
            assert (report.abandoned, report.unflushed) == (2, 0)
            # Not completed, not failed: the abandoned attempts stay open for rescue.
            assert await _states(queue, long_ids) == ["running", "running"]

            clock = ManualClock(SystemClock().now())
            async with AsyncQueue(db_url, schema=installed, clock=clock, backoff=NO_WAIT) as rescuer:
                clock.advance(60)  # past the abandoned attempts' 5 s lease
                assert await rescuer.rescue() == 2
                clock.advance(1)
                assert await rescuer.promote() == 2
            second = Worker(queue, registry, concurrency=8, poll_interval=0.05, maintenance=False)
            task = asyncio.create_task(second.run())
            await eventually(
                lambda: _expect(queue, long_ids, ["completed"] * 2), 10, "rescued jobs completed"
            )
            await second.stop(2)
            await task
            for job_id in long_ids:
                info = await queue.job(job_id)
                assert info is not None and info.attempt == 2 and info.result == "second attempt"
            return quick_ids, long_ids

    quick_ids, long_ids = asyncio.run(main())
    runs = Counter(job_id for job_id, _ in executions)
    assert all(runs[j] == 1 for j in quick_ids), "a completed job ran again"
    assert all(runs[j] == 2 for j in long_ids)
    done = completed_closures(db_url, installed)
    assert sorted(done) == sorted(quick_ids + long_ids) and set(done.values()) == {1}


def test_a_forced_stop_abandons_in_flight_work_at_once(db_url: str, installed: str) -> None:
    registry = Registry()

    @registry.task("forever")
    async def forever(ctx: JobContext) -> None:
        await asyncio.sleep(60)

    async def main() -> None:
        async with AsyncQueue(db_url, schema=installed) as queue:
            job_id = await queue.enqueue("forever", None)
            worker = Worker(queue, registry, poll_interval=0.05, maintenance=False)
            task = asyncio.create_task(worker.run())
            await eventually(lambda: _expect(queue, [job_id], ["running"]), 10, "job running")
            started = time.monotonic()
            stopping = asyncio.create_task(worker.stop(30.0))
            await asyncio.sleep(0.2)
            worker.force()  # the second SIGTERM
            report = await stopping
            await task
            assert time.monotonic() - started < 1.5
            assert report.abandoned == 1
            assert await _states(queue, [job_id]) == ["running"]

    asyncio.run(main())


def test_the_worker_survives_its_connections_being_killed(
    db_url: str, installed: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = f"ringq-test-{uuid.uuid4().hex[:8]}"
    registry = Registry()

    @registry.task("tiny")
    async def tiny(ctx: JobContext) -> int:
        await asyncio.sleep(0.005)
        return ctx.job_id

    def kill_backends() -> int:
        with psycopg.connect(db_url, autocommit=True) as conn:
            got = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
                (app,),
            ).fetchone()
        return int(got[0]) if got else 0

    async def main() -> list[int]:
        pool = AsyncConnectionPool(
            db_url, min_size=1, max_size=4, open=False, kwargs={"autocommit": True, "application_name": app}
        )
        await pool.open()
        queue = AsyncQueue(pool, schema=installed)
        try:
            ids = await queue.enqueue_many([Job(task="tiny") for _ in range(400)])
            worker = Worker(
                queue,
                registry,
                concurrency=8,
                poll_interval=0.05,
                conninfo=f"{db_url}?application_name={app}"
                if "?" not in db_url
                else f"{db_url}&application_name={app}",
            )
            task = asyncio.create_task(worker.run())
            killed = 0
            for round_ in range(1, 4):
                # Let the worker make progress, then cut every connection it has.
                await eventually(
                    functools.partial(_completed_at_least, worker, 50 * round_), 10, "progress between kills"
                )
                killed += kill_backends()
            assert killed >= 3
            async with AsyncQueue(db_url, schema=installed) as observer:  # its own, unkilled pool
                await eventually(
                    lambda: _expect(observer, ids, ["completed"] * len(ids)), 30, "all jobs completed"
                )
            await worker.stop(5)
            await task
            assert worker.metrics.value("jobs_completed_total", task="tiny") == len(ids)
            return ids
        finally:
            await queue.close()
            await pool.close()

    with caplog.at_level(logging.WARNING, logger="ringq"):
        ids = asyncio.run(main())
    errors = [r.getMessage() for r in caplog.records if r.name.startswith("ringq")]
    assert errors, "killing the connections should have surfaced (and been survived) somewhere"
    done = completed_closures(db_url, installed)
    assert sorted(done) == sorted(ids) and set(done.values()) == {1}


async def _expect(queue: AsyncQueue, ids: list[int], want: list[str]) -> bool:
    return await _states(queue, ids) == want


async def _completed_at_least(worker: Worker, n: int) -> bool:
    return worker.metrics.value("jobs_completed_total", task="tiny") >= n


async def _all_completed(queue: AsyncQueue, n: int) -> bool:
    return sum(s.completed for s in await queue.stats()) == n
