"""The leader-elected maintenance loop: one leader at a time, failover, and what a tick does."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg_pool import AsyncConnectionPool
from worker_helpers import FAST_LEADER

from ringq.aclient import AsyncQueue
from ringq.clock import ManualClock, SystemClock
from ringq.leader import LeaderSettings, MaintenanceLeader
from ringq.metrics import WorkerMetrics
from support import eventually, runtime_role_without_truncate


def test_exactly_one_leader_at_a_time_and_another_takes_over_when_it_stops(
    db_url: str, installed: str
) -> None:
    async def main() -> None:
        async with AsyncQueue(db_url, schema=installed) as queue:
            leaders = [
                MaintenanceLeader(queue, db_url, schema=installed, settings=FAST_LEADER, name=f"w{i}")
                for i in range(3)
            ]
            tasks = [asyncio.create_task(leader.run()) for leader in leaders]

            async def one_leader() -> bool:
                return sum(leader.is_leader for leader in leaders) == 1

            await eventually(one_leader, 5, "one leader elected")
            for _ in range(10):  # and it stays exactly one
                await asyncio.sleep(0.05)
                assert await one_leader()
            [first] = [leader for leader in leaders if leader.is_leader]
            first.stop()
            await tasks[leaders.index(first)]
            assert not first.is_leader
            rest = [leader for leader in leaders if leader is not first]

            async def failed_over() -> bool:
                return sum(leader.is_leader for leader in rest) == 1

            await eventually(failed_over, 5, "another worker took over")
            for leader in rest:
                leader.stop()
            await asyncio.gather(*tasks)

    asyncio.run(main())


def test_a_tick_rescues_expired_attempts_and_counts_them(db_url: str, installed: str) -> None:
    async def main() -> None:
        clock = ManualClock(SystemClock().now())
        async with AsyncQueue(db_url, schema=installed, clock=clock) as queue:
            ids = [await queue.enqueue("t", None) for _ in range(3)]
            claimed = await queue.claim(worker="gone", limit=3, lease=5)
            assert sorted(c.job_id for c in claimed) == ids
            metrics = WorkerMetrics()
            leader = MaintenanceLeader(queue, db_url, schema=installed, metrics=metrics)
            assert (await leader.tick(force=True)).rescued == 0  # leases still valid
            clock.advance(6)
            report = await leader.tick(force=True)
            assert report.rescued == 3
            assert metrics.value("attempts_rescued_total") == 3
            assert metrics.value("queue_depth", queue="default") == 3  # back to waiting (deferred)

    asyncio.run(main())


def test_ticks_rotate_and_prune_both_rings(db_url: str, installed: str) -> None:
    async def main() -> None:
        async with AsyncQueue(db_url, schema=installed) as queue:
            leader = MaintenanceLeader(queue, db_url, schema=installed)
            first = await leader.tick(force=True)
            assert first.rotated == ["queue", "claim"] and first.pruned == []
            second = await leader.tick(force=True)
            # The slots sealed by the first tick held nothing live: pruned, then rotated past.
            assert second.pruned == [("queue", 0), ("claim", 0)]
            assert second.rotated == ["queue", "claim"]

    asyncio.run(main())


def test_a_busy_rotation_is_deferred_not_raised(db_url: str, installed: str) -> None:
    async def main() -> None:
        async with AsyncQueue(db_url, schema=installed, maintenance_lock_timeout=0.05) as queue:
            leader = MaintenanceLeader(queue, db_url, schema=installed)
            # Hold the queue ring's writer lock (what an in-flight enqueue holds), as rotate.sql
            # documents it: advisory (hashtext(schema), 1), shared.
            with psycopg.connect(db_url, autocommit=True) as blocker:
                blocker.execute(
                    sql.SQL("SELECT pg_advisory_lock_shared(hashtext({}), 1)").format(sql.Literal(installed))
                )
                report = await leader.tick(force=True)
            assert "rotate.queue" in report.busy and report.rotated == ["claim"]
            assert "queue" in (await leader.tick(force=True)).rotated  # retried later, it goes through

    asyncio.run(main())


@pytest.fixture
def no_truncate_role(db_url: str, installed: str) -> Iterator[str]:
    """A role with the runtime grants but not TRUNCATE, so every prune fails (PermissionDenied)."""
    with runtime_role_without_truncate(db_url, installed) as role:
        yield role


def _pool_as(db_url: str, role: str) -> AsyncConnectionPool:
    async def as_role(conn: psycopg.AsyncConnection) -> None:
        await conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))

    return AsyncConnectionPool(
        db_url, min_size=1, max_size=2, kwargs={"autocommit": True}, configure=as_role, open=False
    )


def test_a_failing_step_does_not_stall_the_others(db_url: str, installed: str, no_truncate_role: str) -> None:
    """Request maintenance-privileges-and-leader §2: prune raising PermissionDenied every tick used to
    abort the tick and back the whole loop off to 30 s, delaying promote and rescue with it."""

    async def main() -> None:
        async with _pool_as(db_url, no_truncate_role) as pool:
            clock = ManualClock(SystemClock().now())
            queue = AsyncQueue(pool, schema=installed, clock=clock)
            leader = MaintenanceLeader(queue, db_url, schema=installed)
            await leader.tick(force=True)  # rotates both rings: slot 0 sealed, prunable
            await queue.enqueue("t", None, delay=10)
            clock.advance(11)
            report = await leader.tick(force=True)
            assert {"prune.queue", "prune.claim"} <= set(report.failed)
            assert report.promoted == 1  # promote ran, and rotate still ran after the failed prunes
            assert report.rotated == ["queue", "claim"]

            # The loop: prune keeps failing, yet promote stays on its 50 ms schedule.
            settings = LeaderSettings(
                interval=0.05, prune_interval=0.05, rotate_interval=3600, acquire_interval=0.1
            )
            real = AsyncQueue(pool, schema=installed)
            looping = MaintenanceLeader(real, db_url, schema=installed, settings=settings)
            task = asyncio.create_task(looping.run())
            try:
                await asyncio.sleep(1.5)  # many failing prunes (the old backoff would be >= 1.6 s now)
                job_id = await real.enqueue("t", None, delay=0.05)

                async def promoted() -> bool:
                    info = await real.job(job_id)
                    return info is not None and info.state == "queued"

                await eventually(promoted, 0.6, "promoted on schedule despite failing prunes")
            finally:
                looping.stop()
                await task

    asyncio.run(main())
