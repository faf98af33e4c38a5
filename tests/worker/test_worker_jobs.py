"""The worker against real PostgreSQL: results, retries, dead letters, timeouts, leases, progress."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from typing import Any

from worker_helpers import FAST_LEADER, rows, run_until

from ringq.aclient import AsyncQueue
from ringq.backoff import Backoff
from ringq.clock import ManualClock, SystemClock
from ringq.registry import JobContext, Registry
from ringq.worker import Worker
from support import eventually

NO_WAIT = Backoff(base=0.01, factor=1.0, cap=0.01, jitter=0.0)


def make_worker(queue: AsyncQueue, registry: Registry, **kw: Any) -> Worker:
    kw.setdefault("poll_interval", 0.05)
    kw.setdefault("leader_settings", FAST_LEADER)
    return Worker(queue, registry, **kw)


async def states(queue: AsyncQueue, ids: list[int]) -> list[str]:
    return [info.state if (info := await queue.job(i)) else "missing" for i in ids]


def test_async_and_sync_handlers_run_and_their_results_are_stored(db_url: str, installed: str) -> None:
    registry = Registry()
    threads: set[str] = set()

    @registry.task("add")
    async def add(ctx: JobContext) -> int:
        return int(ctx.payload["a"]) + int(ctx.payload["b"])

    @registry.task("upper")
    def upper(ctx: JobContext) -> str:
        threads.add(threading.current_thread().name)
        return str(ctx.payload).upper()

    async def main() -> None:
        async with AsyncQueue(db_url, schema=installed) as queue:
            adds = [await queue.enqueue("add", {"a": i, "b": 10}) for i in range(20)]
            uppers = [await queue.enqueue("upper", f"job{i}") for i in range(5)]
            worker = make_worker(queue, registry, concurrency=8)

            async def all_done() -> bool:
                return set(await states(queue, adds + uppers)) == {"completed"}

            await run_until(worker, all_done, 15, "every job completed")
            for i, job_id in enumerate(adds):
                info = await queue.job(job_id)
                assert info is not None and info.result == i + 10 and info.attempt == 1
            assert [(await queue.job(j)).result for j in uppers] == [f"JOB{i}" for i in range(5)]  # type: ignore[union-attr]
            assert worker.metrics.value("jobs_claimed_total", task="add") == 20
            assert worker.metrics.value("jobs_completed_total", task="add") == 20
            assert worker.metrics.value("jobs_completed_total", task="upper") == 5
            assert worker.metrics.value("handler_duration_seconds_count", task="add") == 20
            assert worker.metrics.value("jobs_failed_total", task="add") == 0

    asyncio.run(main())
    assert threads and all(name.startswith("ringq-task") for name in threads)


def test_a_failing_handler_is_retried_with_backoff_then_dead_lettered_with_its_traceback(
    db_url: str, installed: str
) -> None:
    registry = Registry()
    attempts: list[int] = []

    @registry.task("flaky", backoff=NO_WAIT)
    async def flaky(ctx: JobContext) -> None:
        attempts.append(ctx.attempt)
        raise RuntimeError(f"boom on attempt {ctx.attempt}")

    async def main() -> None:
        async with AsyncQueue(db_url, schema=installed) as queue:
            job_id = await queue.enqueue("flaky", {}, max_attempts=3)
            worker = make_worker(queue, registry)

            async def dead() -> bool:
                return (await states(queue, [job_id])) == ["dlq"]

            await run_until(worker, dead, 15, "job dead-lettered")
            [entry] = await queue.dlq_list()
            assert entry.job_id == job_id and entry.attempt == 3
            assert entry.error == "RuntimeError: boom on attempt 3"
            assert entry.traceback is not None
            assert "Traceback (most recent call last)" in entry.traceback and "in flaky" in entry.traceback
            m = worker.metrics
            assert m.value("jobs_failed_total", task="flaky") == 3
            assert m.value("jobs_retried_total", task="flaky") == 2
            assert m.value("jobs_dead_lettered_total", task="flaky") == 1

    asyncio.run(main())
    assert attempts == [1, 2, 3]


def test_a_task_level_max_attempts_caps_the_jobs_own(db_url: str, installed: str) -> None:
    registry = Registry()

    @registry.task("capped", max_attempts=2, backoff=NO_WAIT)
    async def capped(ctx: JobContext) -> None:
        raise ValueError("nope")

    async def main() -> None:
        async with AsyncQueue(db_url, schema=installed) as queue:
            job_id = await queue.enqueue("capped", None, max_attempts=10)
            worker = make_worker(queue, registry)

            async def dead() -> bool:
                return (await states(queue, [job_id])) == ["dlq"]

            await run_until(worker, dead, 15, "job dead-lettered after 2 attempts")
            [entry] = await queue.dlq_list()
            assert entry.attempt == 2 and entry.error == "ValueError: nope"

    asyncio.run(main())


def test_a_handler_over_its_timeout_is_a_failed_attempt(db_url: str, installed: str) -> None:
    registry = Registry()

    @registry.task("slow", timeout=0.2)
    async def slow(ctx: JobContext) -> None:
        await asyncio.sleep(30)

    @registry.task("upstream", timeout=5)
    async def upstream(ctx: JobContext) -> None:
        raise TimeoutError("upstream too slow")  # the handler's own timeout, not the task's

    async def main() -> None:
        async with AsyncQueue(db_url, schema=installed) as queue:
            job_id = await queue.enqueue("slow", None, max_attempts=1)
            other = await queue.enqueue("upstream", None, max_attempts=1)
            worker = make_worker(queue, registry)
            started = time.monotonic()

            async def dead() -> bool:
                return (await states(queue, [job_id, other])) == ["dlq", "dlq"]

            await run_until(worker, dead, 10, "timed-out jobs dead-lettered")
            assert time.monotonic() - started < 5
            dlq = {e.job_id: e for e in await queue.dlq_list()}
            assert dlq[job_id].error == "TimeoutError: task 'slow' exceeded its timeout of 0.2s"
            assert dlq[other].error == "TimeoutError: upstream too slow"
            assert worker.metrics.value("jobs_failed_total", task="slow") == 1

    asyncio.run(main())


@dataclasses.dataclass
class Email:
    to: str
    subject: str


def test_unknown_tasks_and_undecodable_payloads_go_to_the_dlq_without_wedging_the_queue(
    db_url: str, installed: str
) -> None:
    registry = Registry()

    @registry.task("email", decode=lambda p: Email(**p))
    async def email(ctx: JobContext) -> str:
        return f"sent to {ctx.payload.to}"

    async def main() -> None:
        async with AsyncQueue(db_url, schema=installed) as queue:
            unknown = await queue.enqueue("no.such.task", {"x": 1})
            bad = await queue.enqueue("email", {"to": "a@example.com"})  # no subject
            good = await queue.enqueue("email", {"to": "b@example.com", "subject": "hi"})
            worker = make_worker(queue, registry)

            async def settled() -> bool:
                return await states(queue, [unknown, bad, good]) == ["dlq", "dlq", "completed"]

            await run_until(worker, settled, 15, "bad jobs dead-lettered, good job completed")
            dlq = {e.job_id: e for e in await queue.dlq_list()}
            assert dlq[unknown].attempt == 1 and "unknown task 'no.such.task'" in (dlq[unknown].error or "")
            assert dlq[bad].attempt == 1
            assert "payload could not be decoded" in (dlq[bad].error or "")
            assert "subject" in (dlq[bad].error or "")
            assert (await queue.job(good)).result == "sent to b@example.com"  # type: ignore[union-attr]

    asyncio.run(main())


def test_heartbeats_keep_a_long_job_alive_past_its_lease_and_carry_progress(
    db_url: str, installed: str
) -> None:
    registry = Registry()

    @registry.task("long")
    async def long(ctx: JobContext) -> str:
        for step in range(4):
            await ctx.progress({"step": step})
            await asyncio.sleep(0.6)
        return "done"

    async def main() -> None:
        async with AsyncQueue(db_url, schema=installed) as queue:
            job_id = await queue.enqueue("long", None)
            # A 1 s lease for a 2.4 s job: only heartbeats (every 0.33 s) keep it; the leader
            # runs rescue every 50 ms, so a missed beat would show up as a rescue.
            worker = make_worker(queue, registry, lease=1.0)

            async def done() -> bool:
                return (await states(queue, [job_id])) == ["completed"]

            await run_until(worker, done, 15, "long job completed")
            info = await queue.job(job_id)
            assert info is not None and info.attempt == 1 and info.result == "done"
            assert worker.metrics.value("attempts_rescued_total") == 0
            assert worker.metrics.value("attempts_lease_lost_total") == 0

    asyncio.run(main())
    beats = rows(db_url, installed, "SELECT progress FROM {s}.heartbeats ORDER BY at")
    assert len(beats) >= 4  # 2.4 s at one beat per 0.33 s, plus beats carrying progress
    reported = [b[0]["step"] for b in beats if b[0] is not None]  # type: ignore[index]
    assert reported and reported == sorted(reported) and reported[-1] >= 2


def test_an_attempt_rescued_behind_the_workers_back_is_cancelled_and_its_result_discarded(
    db_url: str, installed: str
) -> None:
    registry = Registry()
    finished: list[int] = []

    @registry.task("stuck")
    async def stuck(ctx: JobContext) -> int:
        if ctx.attempt == 1:
            await asyncio.sleep(30)  # cancelled when the heartbeat finds the attempt rescued
        finished.append(ctx.attempt)
        return ctx.attempt

    async def main() -> None:
        async with (
            AsyncQueue(db_url, schema=installed) as queue,
            AsyncQueue(
                db_url, schema=installed, clock=ManualClock(SystemClock().now()), backoff=NO_WAIT
            ) as rescuer,
        ):
            job_id = await queue.enqueue("stuck", None)
            worker = make_worker(queue, registry, lease=0.9, maintenance=False)
            task = asyncio.create_task(worker.run())
            try:
                await eventually(lambda: _running(queue, job_id), 10, "job claimed")
                assert isinstance(rescuer.clock, ManualClock)
                rescuer.clock.advance(3600)  # the attempt's deadline is long past for the rescuer
                assert await rescuer.rescue() == 1
                await eventually(
                    lambda: _value(worker.metrics.value("attempts_lease_lost_total") >= 1),
                    5,
                    "lease loss seen",
                )
                rescuer.clock.advance(1)  # past the retry's 10 ms backoff, on the rescuer's clock
                assert await rescuer.promote() == 1
                await eventually(lambda: _state(queue, job_id, "completed"), 10, "retry completed")
            finally:
                await worker.stop(2)
                await task
            info = await queue.job(job_id)
            assert info is not None and info.result == 2 and info.attempt == 2

    asyncio.run(main())
    assert finished == [2]  # attempt 1 never returned a result


async def _value(v: bool) -> bool:
    return v


async def _running(queue: AsyncQueue, job_id: int) -> bool:
    return await _state(queue, job_id, "running")


async def _state(queue: AsyncQueue, job_id: int, state: str) -> bool:
    info = await queue.job(job_id)
    return info is not None and info.state == state


def test_progress_the_database_rejects_does_not_cost_the_lease(db_url: str, installed: str) -> None:
    registry = Registry()

    @registry.task("odd_progress")
    async def odd_progress(ctx: JobContext) -> str:
        for _ in range(3):
            await ctx.progress({"not json": {1, 2}})  # a set: rejected by the storage layer
            await asyncio.sleep(0.6)
        return "ok"

    async def main() -> None:
        async with AsyncQueue(db_url, schema=installed) as queue:
            job_id = await queue.enqueue("odd_progress", None)
            worker = make_worker(queue, registry, lease=1.0)

            async def done() -> bool:
                return (await states(queue, [job_id])) == ["completed"]

            await run_until(worker, done, 15, "job completed despite bad progress")
            info = await queue.job(job_id)
            assert info is not None and info.attempt == 1 and info.result == "ok"
            assert worker.metrics.value("attempts_rescued_total") == 0

    asyncio.run(main())


def test_idle_wait_starts_at_two_ms_and_doubles_up_to_the_poll() -> None:
    from ringq.worker.runtime import idle_wait

    assert [idle_wait(n, 0.5) for n in range(4)] == [0.002, 0.004, 0.008, 0.016]
    assert idle_wait(8, 0.5) == 0.5  # 0.512 capped
    assert idle_wait(10_000, 0.5) == 0.5  # no overflow however long the queue stays idle


def test_a_job_enqueued_soon_after_a_short_claim_is_not_left_for_a_whole_poll(
    db_url: str, installed: str
) -> None:
    # A short claim used to mean a full `poll_interval` of sleep, so a claim that came back empty
    # because an enqueue held its lane locked starved the worker (seen in scripts/bench.py).
    registry = Registry()

    @registry.task("t")
    async def t(ctx: JobContext) -> None:
        return None

    async def main() -> None:
        async with AsyncQueue(db_url, schema=installed) as queue:
            worker = make_worker(queue, registry, poll_interval=5.0, maintenance=False)
            task = asyncio.create_task(worker.run())
            try:
                await asyncio.sleep(0.2)  # the worker's first claims come back empty
                started = time.monotonic()
                job_id = await queue.enqueue("t")

                async def done() -> bool:
                    return await states(queue, [job_id]) == ["completed"]

                await eventually(done, 4.5, "job completed before one poll_interval passed")
                assert time.monotonic() - started < 4.5
            finally:
                await worker.stop(5.0)
                await task

    asyncio.run(main())
