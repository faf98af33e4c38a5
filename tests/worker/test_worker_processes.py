"""Worker processes against one database: many at once, and one killed with SIGKILL mid-batch."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from worker_helpers import FAST_LEADER, rows
from worker_sample_app import registry

from ringq.aclient import AsyncQueue
from ringq.client import Queue
from ringq.types import Job
from ringq.worker import Worker
from support import eventually

HERE = Path(__file__).parent
RINGQ = [sys.executable, "-c", "import sys; from ringq.cli import main; sys.exit(main())"]


def start_worker(db_url: str, schema: str, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [
            *RINGQ,
            "worker",
            "--database-url",
            db_url,
            "--schema",
            schema,
            "--app",
            "worker_sample_app:registry",
            "--poll-interval",
            "0.05",
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def stats_of(queue: Queue) -> dict[str, int]:
    [s] = queue.stats()
    return {
        "queued": s.queued,
        "deferred": s.deferred,
        "running": s.running,
        "completed": s.completed,
        "dlq": s.dlq,
    }


def wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {what}")
        time.sleep(0.1)


def completed_closures(db_url: str, schema: str) -> Counter[int]:
    got = rows(db_url, schema, "SELECT job_id FROM {s}.closures WHERE outcome = 'completed'")
    return Counter(int(r[0]) for r in got)  # type: ignore[call-overload]


def test_three_worker_processes_complete_ten_thousand_jobs_each_exactly_once(
    db_url: str, installed: str
) -> None:
    n = 10_000
    queue = Queue(db_url, schema=installed)
    try:
        ids: list[int] = []
        for _ in range(n // 1000):
            ids += queue.enqueue_many([Job(task="noop") for _ in range(1000)])
        procs = [start_worker(db_url, installed, "--concurrency", "32") for _ in range(3)]
        try:
            wait_for(lambda: stats_of(queue)["completed"] == n, 180, f"{n} jobs completed")
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            outputs = [p.communicate(timeout=30) for p in procs]
        for p, (_, err) in zip(procs, outputs, strict=True):
            assert p.returncode == 0, err.decode()
            assert b"Traceback" not in err
        assert stats_of(queue) == {"queued": 0, "deferred": 0, "running": 0, "completed": n, "dlq": 0}
    finally:
        queue.close()
    done = completed_closures(db_url, installed)
    assert sorted(done) == sorted(ids), "a job was lost or completed that was never enqueued"
    assert set(done.values()) == {1}, "a job was completed twice"
    workers = rows(db_url, installed, "SELECT count(DISTINCT worker) FROM {s}.claims")
    assert workers[0][0] == 3  # all three processes took part


def test_a_sigkilled_workers_attempts_are_rescued_after_their_lease_and_completed_once(
    db_url: str, installed: str
) -> None:
    n = 60
    queue = Queue(db_url, schema=installed)
    try:
        ids = queue.enqueue_many([Job(task="sleepy", payload={"s": 0.3}) for _ in range(n)])
        victim = start_worker(db_url, installed, "--concurrency", "16", "--lease", "1", "--no-maintenance")
        wait_for(lambda: stats_of(queue)["completed"] >= 10, 60, "the victim completed some jobs")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        open_at_kill = stats_of(queue)["running"]
        assert open_at_kill > 0, "the kill should land mid-batch"
    finally:
        queue.close()

    async def rescue_and_finish() -> Worker:
        async with AsyncQueue(db_url, schema=installed) as aqueue:
            survivor = Worker(
                aqueue, registry, concurrency=16, poll_interval=0.05, leader_settings=FAST_LEADER
            )
            task = asyncio.create_task(survivor.run())

            async def all_done() -> bool:
                return sum(s.completed for s in await aqueue.stats()) == n

            await eventually(all_done, 60, "every job completed after the rescue")
            await survivor.stop(5)
            await task
            return survivor

    survivor = asyncio.run(rescue_and_finish())
    assert survivor.metrics.value("attempts_rescued_total") == open_at_kill
    rescued = rows(db_url, installed, "SELECT count(*) FROM {s}.closures WHERE outcome = 'rescued'")
    assert rescued[0][0] == open_at_kill
    done = completed_closures(db_url, installed)
    assert sorted(done) == sorted(ids) and set(done.values()) == {1}


def test_cli_worker_listen_picks_jobs_up_on_notify_not_the_poll(db_url: str, installed: str) -> None:
    """`ringq worker --listen`: with a 30 s poll, an idle worker still takes a new job at once,
    woken by the NOTIFY that enqueue (and promote) now issue."""
    queue = Queue(db_url, schema=installed)
    proc = start_worker(
        db_url,
        installed,
        "--poll-interval",
        "30",
        "--listen",
        "--listen-poll-interval",
        "30",
        "--no-maintenance",
    )
    try:
        first = queue.enqueue("noop", None)
        wait_for(lambda: _state(queue, first) == "completed", 30, "the first job completed")
        for _ in range(3):
            time.sleep(1.0)  # idle: the next poll is ~30 s away
            job_id = queue.enqueue("noop", None)
            t0 = time.monotonic()
            wait_for(lambda j=job_id: _state(queue, j) == "completed", 10, "woken by NOTIFY")
            assert time.monotonic() - t0 < 5.0
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err.decode()
        assert b"Traceback" not in err
    finally:
        proc.kill()
        queue.close()


def _state(queue: Queue, job_id: int) -> str | None:
    info = queue.job(job_id)
    return None if info is None else info.state


def test_ringq_maintain_runs_maintenance_alone_and_stops_on_sigterm(db_url: str, installed: str) -> None:
    """Request maintenance-privileges-and-leader §3: a maintenance-only process (workers then run
    with --no-maintenance): it promotes due deferred jobs and rescues expired attempts, claims none."""
    queue = Queue(db_url, schema=installed)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    argv = [*RINGQ, "maintain", "--database-url", db_url, "--schema", installed, "--interval", "0.1"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deferred = queue.enqueue("noop", None, delay=0.5)
        queue.enqueue("noop", None)
        [held] = queue.claim(worker="gone", limit=1, lease=0.5)
        wait_for(lambda: _state(queue, deferred) == "queued", 30, "the deferred job promoted")
        wait_for(lambda: _state(queue, held.job_id) != "running", 30, "the expired attempt rescued")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err.decode()
        assert b"Traceback" not in err and b"maintenance process stopped" in err
    finally:
        proc.kill()
        queue.close()
