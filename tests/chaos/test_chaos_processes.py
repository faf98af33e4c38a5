"""Worker processes die: SIGKILLed again and again mid-run, or asked to stop with long jobs in flight.
Every attempt a dead or departing process held is rescued after its deadline and completed once."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import threading
import time

import pytest
from chaos_app import registry as app_registry
from chaos_helpers import RINGQ, Record, assert_exactly_once, q, start_worker_process

from ringq.aclient import AsyncQueue
from ringq.client import Queue
from ringq.embedded import EmbeddedPostgres
from ringq.leader import LeaderSettings
from ringq.types import Job
from ringq.worker import Worker

pytestmark = pytest.mark.chaos

# Effective deadline of every open attempt: the claim's, or the latest heartbeat's.
OVERDUE = """
    SELECT coalesce(max(extract(epoch FROM now() - d.deadline)), 0)::float8, count(*)
    FROM (SELECT c.job_id, greatest(c.deadline, max(h.deadline)) AS deadline
          FROM {s}.claims c
          LEFT JOIN {s}.heartbeats h ON h.job_id = c.job_id AND h.run_lease = c.run_lease
          WHERE NOT EXISTS (SELECT 1 FROM {s}.closures x
                            WHERE x.job_id = c.job_id AND x.run_lease = c.run_lease)
          GROUP BY c.job_id, c.run_lease, c.deadline) d"""

# The CLI worker's maintenance: rescue every 1 s with a 5 s clock-skew margin; a follower retries
# the leader lock every 2 s (the leader may be the process just killed).
RESCUE_MARGIN, RESCUE_INTERVAL, ACQUIRE_INTERVAL = 5.0, 1.0, 2.0


def stats(url: str, schema: str) -> dict[str, int]:
    with Queue(url, schema=schema) as queue:
        [s] = queue.stats()
    return {"queued": s.queued, "deferred": s.deferred, "running": s.running, "completed": s.completed}


def open_attempts_of(url: str, schema: str, pid: int) -> set[tuple[int, int]]:
    rows = q(
        url,
        schema,
        """SELECT c.job_id, c.run_lease FROM {s}.claims c WHERE c.worker LIKE %s
           AND NOT EXISTS (SELECT 1 FROM {s}.closures x
                           WHERE x.job_id = c.job_id AND x.run_lease = c.run_lease)""",
        f"%:{pid}:%",
    )
    return {(int(j), int(r)) for j, r in rows}


def test_sigkilled_workers_attempts_are_rescued_and_completed_once(
    pg_server: EmbeddedPostgres, pg_schema: str, figures: Record, chaos_long: bool
) -> None:
    url, lease = pg_server.url, 2.0
    kills = 20 if chaos_long else 5
    n = 600 if chaos_long else 160
    rng = random.Random(4)
    with Queue(url, schema=pg_schema) as queue:
        ids = queue.enqueue_many([Job("sleepy", {"s": 0.25}) for _ in range(n)])
    args = ("--concurrency", "8", "--lease", str(lease), "--poll-interval", "0.05")
    procs = [start_worker_process(url, pg_schema, *args) for _ in range(3)]
    victims: dict[int, set[tuple[int, int]]] = {}
    worst = [0.0, 0]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            overdue, open_now = q(url, pg_schema, OVERDUE)[0]
            worst[0] = max(worst[0], float(overdue))
            worst[1] = max(worst[1], int(open_now))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    bound = RESCUE_MARGIN + RESCUE_INTERVAL + ACQUIRE_INTERVAL + 2.0  # + slack for a loaded machine
    try:
        for _ in range(kills):
            victim = procs.pop(rng.randrange(len(procs)))
            # While work remains, kill only once the victim holds attempts: a process still
            # importing on a loaded machine would make the kill prove nothing.
            holding = time.monotonic() + 30
            while (
                not open_attempts_of(url, pg_schema, victim.pid)
                and stats(url, pg_schema)["queued"] > 0
                and time.monotonic() < holding
            ):
                time.sleep(0.05)
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
            time.sleep(0.3)  # claims it had in flight have committed or died with it
            victims[victim.pid] = open_attempts_of(url, pg_schema, victim.pid)
            procs.append(start_worker_process(url, pg_schema, *args))
            time.sleep(1.5)
        deadline = time.monotonic() + 120
        while stats(url, pg_schema)["completed"] < n:
            assert time.monotonic() < deadline, f"not all jobs completed: {stats(url, pg_schema)}"
            time.sleep(0.2)
        cli = subprocess.run(
            [*RINGQ, "stats", "--json", "--database-url", url, "--schema", pg_schema],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    finally:
        sampling.set()
        for p in procs:
            p.send_signal(signal.SIGTERM)
        outputs = [p.communicate(timeout=30) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0 and "Traceback" not in err, err[-2000:]
    held = set().union(*victims.values())
    rescued = {
        (int(j), int(r))
        for j, r in q(url, pg_schema, "SELECT job_id, run_lease FROM {s}.closures WHERE outcome = 'rescued'")
    }
    figures(
        kills=kills,
        jobs=n,
        lease_s=lease,
        attempts_held_by_killed=len(held),
        rescued_total=len(rescued),
        max_open_attempts=worst[1],
        max_overdue_s=round(worst[0], 2),
        bound_s=bound,
        cli_stats=json.loads(cli.stdout),
    )
    assert held, "the kills should land while attempts are held"
    assert held <= rescued, f"held by killed workers but never rescued: {sorted(held - rescued)[:10]}"
    assert_exactly_once(url, pg_schema, ids)
    assert worst[0] <= bound, f"an attempt stayed open {worst[0]:.1f}s past its deadline (bound {bound}s)"
    [row] = json.loads(cli.stdout)
    assert row["running"] == 0 and row["completed"] == n and row["queued"] == 0


def test_shutdown_with_long_jobs_in_flight_and_a_second_signal(
    pg_server: EmbeddedPostgres, pg_schema: str, figures: Record
) -> None:
    """SIGTERM returns within --shutdown-timeout with 12 long jobs (async and sync) in flight; a
    second SIGTERM cuts a long drain short at once. Every abandoned attempt is rescued and done."""
    url = pg_server.url
    with Queue(url, schema=pg_schema) as queue:
        ids = queue.enqueue_many(
            [Job("sleepy", {"first": 60, "s": 0.05}) for _ in range(8)]
            + [Job("sleepy_sync", {"first": 60, "s": 0.05}) for _ in range(4)]
        )
        common = ("--lease", "2", "--poll-interval", "0.05", "--no-maintenance", "--concurrency", "12")
        graceful = start_worker_process(url, pg_schema, *common, "--shutdown-timeout", "2")
        deadline = time.monotonic() + 30
        while stats(url, pg_schema)["running"] < 12:
            assert time.monotonic() < deadline, "jobs never started"
            time.sleep(0.1)
        t = time.monotonic()
        graceful.send_signal(signal.SIGTERM)
        _, err = graceful.communicate(timeout=30)
        graceful_s = time.monotonic() - t
        assert graceful.returncode == 0, err[-2000:]

        # The same jobs, rescued, would finish at once; so enqueue fresh long ones for the second signal.
        more = queue.enqueue_many([Job("sleepy_sync", {"first": 60, "s": 0.05}) for _ in range(4)])
        patient = start_worker_process(
            url, pg_schema, *common, "--shutdown-timeout", "600", "--queues", "default"
        )
        deadline = time.monotonic() + 60
        while not any(
            q(
                url,
                pg_schema,
                "SELECT 1 FROM {s}.claims WHERE job_id = ANY(%s) AND worker LIKE %s",
                more,
                f"%:{patient.pid}:%",
            )
        ):
            assert time.monotonic() < deadline, "second worker never claimed"
            time.sleep(0.1)
        time.sleep(0.5)
        patient.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        t = time.monotonic()
        patient.send_signal(signal.SIGTERM)
        _, err2 = patient.communicate(timeout=30)
        forced_s = time.monotonic() - t
        assert "Traceback" not in err2, err2[-2000:]

    async def rescue_all() -> float:
        t0 = time.monotonic()
        async with AsyncQueue(url, schema=pg_schema, rescue_margin=0.2) as aq:
            worker = Worker(
                aq,
                app_registry,
                concurrency=16,
                poll_interval=0.05,
                leader_settings=LeaderSettings(interval=0.1, acquire_interval=0.2),
            )
            task = asyncio.create_task(worker.run())
            while sum(s.completed for s in await aq.stats()) < len(ids) + len(more):
                assert time.monotonic() - t0 < 60, "abandoned attempts were not rescued"
                await asyncio.sleep(0.1)
            await worker.stop(5)
            await task
        return time.monotonic() - t0

    rescued_s = asyncio.run(rescue_all())
    figures(
        in_flight=12,
        shutdown_timeout_s=2.0,
        graceful_exit_s=round(graceful_s, 2),
        forced_exit_after_second_signal_s=round(forced_s, 2),
        rescued_and_completed_s=round(rescued_s, 2),
    )
    assert graceful_s < 2.0 + 2.5, f"graceful shutdown took {graceful_s:.1f}s (deadline 2 s + process exit)"
    assert forced_s < 3.0, f"the second signal took {forced_s:.1f}s to force the exit"
    assert_exactly_once(url, pg_schema, ids + more)
    rescued = q(url, pg_schema, "SELECT count(*) FROM {s}.closures WHERE outcome = 'rescued'")[0][0]
    assert rescued == 16
