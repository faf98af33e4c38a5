"""The server goes away under running workers: restarts (fast, immediate), dead LISTEN connections,
killed backends and a starved pool. Workers must reconnect on their own, lose nothing, never run a
completed attempt again, and get back to speed within a bounded time."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time
from typing import Any

import psycopg
import pytest
from chaos_helpers import (
    Record,
    Tally,
    assert_exactly_once,
    first_recovered,
    median,
    ms,
    q,
    rate,
    recording_registry,
)
from psycopg_pool import AsyncConnectionPool

from ringq.aclient import AsyncQueue
from ringq.embedded import EmbeddedPostgres
from ringq.leader import LeaderSettings
from ringq.types import Job
from ringq.worker import Worker
from ringq.worker.wakeup import notify_channel
from support import eventually

pytestmark = pytest.mark.chaos

FAST_LEADER = LeaderSettings(interval=0.1, prune_interval=0.5, rotate_interval=3600.0, acquire_interval=0.2)


def _with_app(url: str, app: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}application_name={app}"


async def _drain(queues: list[AsyncQueue], n: int, timeout: float) -> None:
    async def done() -> bool:
        try:
            return sum(s.completed for s in await queues[0].stats()) >= n
        except psycopg.OperationalError:
            return False

    await eventually(done, timeout, f"all {n} jobs completed")


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_workers_ride_out_a_postgres_restart(
    pg_server: EmbeddedPostgres, pg_schema: str, mode: str, figures: Record, chaos_long: bool
) -> None:
    """Two workers at a steady 2 x 8 x (1 / 0.1 s) ceiling; the server restarts under them."""
    url, tally = pg_server.url, Tally(sleep=0.1)
    registry = recording_registry(tally)
    before_s, after_s = (20.0, 30.0) if chaos_long else (3.0, 6.0)
    n = int((before_s + after_s + 3) * 2 * 8 / 0.1)

    async def main() -> dict[str, Any]:
        queues = [AsyncQueue(url, schema=pg_schema, rescue_margin=0.5) for _ in range(2)]
        ids: list[int] = []
        for i in range(0, n, 1000):
            ids += await queues[0].enqueue_many([Job("work") for _ in range(min(1000, n - i))])
        workers = [
            Worker(
                qu,
                registry,
                concurrency=8,
                lease=5.0,
                poll_interval=0.05,
                conninfo=url,
                leader_settings=FAST_LEADER,
                on_completed=tally.on_completed,
            )
            for qu in queues
        ]
        tasks = [asyncio.create_task(w.run()) for w in workers]
        t0 = time.monotonic()
        await asyncio.sleep(before_s)
        down = time.monotonic()
        await asyncio.to_thread(pg_server.restart, mode)
        up = time.monotonic()
        await asyncio.sleep(after_s)
        tally.sleep = 0.0  # measurement over: drain the rest quickly
        await _drain(queues, n, 120)
        for w in workers:
            await w.stop(10)
        await asyncio.gather(*tasks)
        for qu in queues:
            await qu.close()
        starts = tally.starts()
        baseline = rate(starts, t0 + 1.0, down)  # skip the start-up second
        recovered = first_recovered([t for t in starts if t < up + after_s], up, 0.9 * baseline)
        assert all(w.stop_report and w.stop_report.unflushed == 0 for w in workers)
        return {
            "ids": ids,
            "mode": mode,
            "jobs": n,
            "baseline_starts_per_s": round(baseline, 1),
            "restart_s": round(up - down, 2),
            "recovered_90pct_after_up_s": None if recovered is None else round(recovered - up, 2),
            "recovered_90pct_after_down_s": None if recovered is None else round(recovered - down, 2),
            "after_rate_per_s": round(rate(starts, up + after_s - 3, up + after_s), 1),
        }

    result = asyncio.run(main())
    ids = result.pop("ids")
    figures(**result)
    assert_exactly_once(url, pg_schema, ids, tally)
    assert result["recovered_90pct_after_up_s"] is not None, f"throughput never got back to 90%: {result}"
    assert result["recovered_90pct_after_up_s"] <= 10.0, result


def _backend_of(pid: int) -> None:
    """SIGSTOP a server backend (the test process may signal it: same uid or root)."""
    os.kill(pid, signal.SIGSTOP)


async def _enqueue_probe(queue: AsyncQueue, tally: Tally, manual_notify: bool, url: str, schema: str) -> int:
    """One job, timed from its commit; NOTIFY issued by the test when enqueue does not do it yet."""
    [job_id] = await queue.enqueue_many([Job("work")])
    tally.enqueued_at[job_id] = time.monotonic()
    if manual_notify:
        with contextlib.suppress(psycopg.OperationalError):
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                await conn.execute("SELECT pg_notify(%s, '')", (notify_channel(schema),))
    return job_id


def _enqueue_notifies(url: str, schema: str) -> bool:
    rows = q(
        url,
        schema,
        "SELECT prosrc FROM pg_proc WHERE proname = 'enqueue' AND pronamespace = %s::regnamespace",
        schema,
    )
    return bool(rows) and "pg_notify" in rows[0][0]


def test_dead_wakeups_fall_back_to_the_poll_and_the_listener_comes_back(
    pg_server: EmbeddedPostgres, pg_schema: str, figures: Record
) -> None:
    """Pickup latency with a healthy LISTEN connection, with it killed, silently frozen, and after a
    restart. The poll is 1 s: a dead listener costs at most that, and LISTEN comes back on its own."""
    url, tally = pg_server.url, Tally(sleep=0.0)
    registry = recording_registry(tally)
    manual = not _enqueue_notifies(url, pg_schema)
    poll = 1.0

    async def main() -> dict[str, Any]:
        queue = AsyncQueue(url, schema=pg_schema)
        worker = Worker(
            queue,
            registry,
            concurrency=4,
            poll_interval=poll,
            maintenance=False,
            conninfo=url,
            listen=True,
            listen_health_interval=1.0,
        )
        listener = worker.listener
        assert listener is not None
        task = asyncio.create_task(worker.run())
        phases: dict[str, list[float]] = {}

        async def probes(name: str, count: int, spacing: float = 0.25) -> None:
            ids = []
            for _ in range(count):
                ids.append(await _enqueue_probe(queue, tally, manual, url, pg_schema))
                await asyncio.sleep(spacing)

            async def picked() -> bool:
                return all(i in {e[0] for e in tally.executions} for i in ids)

            await eventually(picked, 15, f"{name} probes picked up")
            phases[name] = tally.pickup_latencies(ids)

        async def relisten(connects: int, what: str) -> float:
            t = time.monotonic()

            async def back() -> bool:
                return listener.healthy and listener.connects > connects

            await eventually(back, 20, what)
            return time.monotonic() - t

        assert await listener.wait_listening(10)
        await probes("healthy", 12)

        # 1. The LISTEN backend is terminated: the socket closes, the loss is seen at once.
        connects = listener.connects
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("SELECT pg_terminate_backend(%s)", (listener.backend_pid,))
        await probes("listener_killed", 3, 0.05)  # enqueued while the listener is down / coming back
        relisten_killed = await relisten(connects, "LISTEN re-established after pg_terminate_backend")
        await probes("after_kill", 8)

        # 2. The LISTEN backend freezes (SIGSTOP): the socket stays open, nothing arrives. Only the
        #    health check can tell; until then pickups ride on the 1 s poll.
        connects, frozen = listener.connects, listener.backend_pid
        assert frozen is not None
        _backend_of(frozen)
        try:
            t_freeze = time.monotonic()
            await probes("listener_frozen", 4, 0.4)
            relisten_frozen = await relisten(connects, "frozen LISTEN connection detected and replaced")
            detect_frozen = time.monotonic() - t_freeze
        finally:
            os.kill(frozen, signal.SIGCONT)
        await probes("after_freeze", 8)

        # 3. The server restarts (fast): every connection dies, the listener must come back.
        connects = listener.connects
        await asyncio.to_thread(pg_server.restart, "fast")
        relisten_restart = await relisten(connects, "LISTEN re-established after a restart")
        await probes("after_restart", 8)

        await worker.stop(5)
        await task
        await queue.close()
        return {
            "manual_notify_by_test": manual,
            "poll_interval_s": poll,
            "health_interval_s": 1.0,
            **{f"pickup_p50_ms_{k}": ms(median(v)) for k, v in phases.items()},
            **{f"pickup_max_ms_{k}": ms(max(v)) for k, v in phases.items()},
            "relisten_after_kill_s": round(relisten_killed, 2),
            "frozen_listener_replaced_after_s": round(detect_frozen, 2),
            "relisten_after_frozen_s": round(relisten_frozen, 2),
            "relisten_after_restart_s": round(relisten_restart, 2),
            "listener_failures_seen": listener.failures,
        }

    figs = asyncio.run(main())
    figures(**figs)
    slack = 1.5  # a loaded 2-core machine
    for phase in ("healthy", "after_kill", "after_freeze", "after_restart"):
        assert figs[f"pickup_p50_ms_{phase}"] < 250, f"{phase}: LISTEN did not make pickups fast: {figs}"
    for phase in ("listener_killed", "listener_frozen"):
        assert figs[f"pickup_max_ms_{phase}"] < (poll + slack) * 1000, f"{phase}: poll did not bound: {figs}"
    assert figs["frozen_listener_replaced_after_s"] < 1.0 + 2.0 + 5.0 + slack, figs


def test_random_backend_kills_and_a_starved_pool(
    pg_server: EmbeddedPostgres, pg_schema: str, figures: Record, chaos_long: bool
) -> None:
    """pg_terminate_backend on a random worker backend every 0.25 s, and a hog that holds every
    pool connection for seconds at a time: workers recover, every job completes exactly once."""
    url, tally = pg_server.url, Tally(sleep=0.01)
    registry = recording_registry(tally)
    app = f"chaos-kill-{pg_schema}"
    chaos_s = 40.0 if chaos_long else 6.0
    rng = random.Random(8)

    async def main() -> dict[str, Any]:
        pool = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=3,
            open=False,
            timeout=60,
            kwargs={"autocommit": True, "application_name": app},
        )
        await pool.open()
        queue = AsyncQueue(pool, schema=pg_schema, rescue_margin=0.5)
        producer = AsyncQueue(url, schema=pg_schema)  # its own pool: the stream keeps coming
        ids: list[int] = []
        workers = [
            Worker(
                queue,
                registry,
                concurrency=16,
                lease=3.0,
                poll_interval=0.05,
                conninfo=_with_app(url, app),
                leader_settings=FAST_LEADER,
                listen=True,
                listen_health_interval=1.0,
            )
            for _ in range(2)
        ]
        tasks = [asyncio.create_task(w.run()) for w in workers]
        killed = starved = 0
        stop_at = time.monotonic() + chaos_s

        async def killer() -> None:
            nonlocal killed
            while time.monotonic() < stop_at:
                await asyncio.sleep(0.25)
                with psycopg.connect(url, autocommit=True) as c:
                    pids = [
                        r[0]
                        for r in c.execute(
                            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (app,)
                        ).fetchall()
                    ]
                    if pids:
                        c.execute("SELECT pg_terminate_backend(%s)", (rng.choice(pids),))
                        killed += 1

        async def hog() -> None:
            nonlocal starved
            while time.monotonic() < stop_at:
                await asyncio.sleep(1.0)
                async with contextlib.AsyncExitStack() as stack:
                    for _ in range(3):
                        await stack.enter_async_context(pool.connection())
                    starved += 1
                    await asyncio.sleep(1.0)  # every pool connection held: workers wait

        async def produce() -> None:
            while time.monotonic() < stop_at:
                ids.extend(await producer.enqueue_many([Job("work") for _ in range(100)]))
                await asyncio.sleep(0.5)

        await asyncio.gather(killer(), hog(), produce())
        observer = producer
        t_chaos_end = time.monotonic()
        n = len(ids)

        async def done() -> bool:
            return sum(s.completed for s in await observer.stats()) >= n

        await eventually(done, 120, "every job completed after the chaos")
        drain_after = time.monotonic() - t_chaos_end
        for w in workers:
            await w.stop(10)
        await asyncio.gather(*tasks)
        await observer.close()
        await pool.close()
        return {
            "ids": ids,
            "jobs": n,
            "backends_killed": killed,
            "pool_starvations_1s": starved,
            "drain_after_chaos_s": round(drain_after, 2),
            "listener_reconnects": sum(w.listener.connects - 1 for w in workers if w.listener),
        }

    figs = asyncio.run(main())
    ids = figs.pop("ids")
    figures(**figs)
    assert figs["backends_killed"] >= 10
    assert_exactly_once(url, pg_schema, ids, tally)


def test_graceful_shutdown_while_the_database_is_down_keeps_its_deadline(
    pg_server: EmbeddedPostgres, pg_schema: str, figures: Record
) -> None:
    """The server is stopped; SIGTERM-equivalent stop(2) must still return within ~2 s, and the
    attempts it could not close (finished or not) are rescued and completed once the server is back."""
    url, tally = pg_server.url, Tally(sleep=0.0)
    registry = recording_registry(tally)

    async def slow(ctx: Any) -> int:
        tally.executions.append((ctx.job_id, ctx.run_lease, ctx.attempt, time.monotonic()))
        await asyncio.sleep(0.5 if ctx.attempt == 1 else 0.0)
        return int(ctx.job_id)

    registry.task("slow")(slow)

    async def main() -> dict[str, Any]:
        queue = AsyncQueue(url, schema=pg_schema)
        ids = await queue.enqueue_many([Job("slow") for _ in range(12)])
        worker = Worker(queue, registry, concurrency=12, lease=2.0, poll_interval=0.05, maintenance=False)
        task = asyncio.create_task(worker.run())

        async def running() -> bool:
            return len(tally.executions) == 12

        await eventually(running, 10, "all 12 attempts running")
        await asyncio.to_thread(pg_server.stop, "immediate")
        t = time.monotonic()
        report = await worker.stop(2.0)
        await task
        took = time.monotonic() - t
        await queue.close()
        await asyncio.to_thread(pg_server.start)
        # Back up: the open attempts are rescued after their lease and run again.
        queue = AsyncQueue(url, schema=pg_schema, rescue_margin=0.2)
        second = Worker(queue, registry, concurrency=12, poll_interval=0.05, leader_settings=FAST_LEADER)
        task = asyncio.create_task(second.run())
        t_back = time.monotonic()

        async def all_done() -> bool:
            return sum(s.completed for s in await queue.stats()) == 12

        await eventually(all_done, 30, "abandoned attempts rescued and completed")
        rescued_after = time.monotonic() - t_back
        await second.stop(5)
        await task
        await queue.close()
        return {
            "ids": ids,
            "stop_deadline_s": 2.0,
            "stop_took_s": round(took, 2),
            "finished_unflushed": report.unflushed,
            "abandoned": report.abandoned,
            "rescued_and_completed_after_s": round(rescued_after, 2),
        }

    figs = asyncio.run(main())
    ids = figs.pop("ids")
    figures(**figs)
    assert figs["stop_took_s"] < 2.0 + 1.0, figs
    assert_exactly_once(url, pg_schema, ids, tally)
    rescued = q(url, pg_schema, "SELECT count(*) FROM {s}.closures WHERE outcome = 'rescued'")[0][0]
    assert rescued == 12, "every attempt the stopped worker could not close was rescued"
