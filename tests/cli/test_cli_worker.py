"""`ringq worker` as a real process: it serves jobs, drains on SIGTERM, and a second signal forces exit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ringq.client import Queue

SAMPLE_APP_DIR = Path(__file__).parents[1] / "worker"
RINGQ = [sys.executable, "-c", "import sys; from ringq.cli import main; sys.exit(main())"]


def start(db_url: str, schema: str, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(SAMPLE_APP_DIR)}
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
        text=True,
    )


def wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        return resp.read().decode()


def state(queue: Queue, job_id: int) -> str | None:
    info = queue.job(job_id)
    return None if info is None else info.state


def test_worker_serves_jobs_and_drains_on_sigterm(db_url: str, installed: str) -> None:
    with Queue(db_url, schema=installed) as queue:
        quick = [queue.enqueue("noop", None) for _ in range(5)]
        slow = queue.enqueue("sleepy", {"s": 1.0})
        port = free_port()
        proc = start(db_url, installed, "--metrics-port", str(port))
        try:
            wait_for(lambda: all(state(queue, j) == "completed" for j in quick), 30, "quick jobs completed")
            wait_for(lambda: state(queue, slow) == "running", 10, "slow job running")
            metrics = scrape(port)
            assert 'ringq_jobs_completed_total{task="noop"} 5.0' in metrics
            assert 'ringq_jobs_claimed_total{task="sleepy"} 1.0' in metrics
            assert "ringq_jobs_in_flight 1.0" in metrics
            proc.send_signal(signal.SIGTERM)  # the slow job (1 s) finishes within the 30 s drain
            _, err = proc.communicate(timeout=20)
        finally:
            proc.kill()
        assert proc.returncode == 0, err
        assert "Traceback" not in err
        assert "shutdown requested" in err and "worker stopped" in err
        assert state(queue, slow) == "completed"


@pytest.mark.parametrize("task", ["sleepy", "sleepy_sync"])
def test_a_second_signal_forces_exit_and_leaves_the_attempt_for_rescue(
    db_url: str, installed: str, task: str
) -> None:
    with Queue(db_url, schema=installed) as queue:
        job_id = queue.enqueue(task, {"s": 60})
        proc = start(db_url, installed, "--shutdown-timeout", "60")
        try:
            wait_for(lambda: state(queue, job_id) == "running", 30, "job running")
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            assert proc.poll() is None  # still draining: the deadline is 60 s
            started = time.monotonic()
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=10)
        finally:
            proc.kill()
        assert time.monotonic() - started < 5
        assert "Traceback" not in err and "second signal" in err
        assert state(queue, job_id) == "running"  # left open, for rescue after its lease
