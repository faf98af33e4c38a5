"""`ringq db` and the project's shared embedded server (issue 15, item 1), as a user runs it: each
command its own process, in a project directory, without RINGQ_DATABASE_URL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ringq.embedded import ENV_URL, running

RINGQ = [sys.executable, "-c", "import sys; from ringq.cli import main; sys.exit(main())"]
SAMPLE_APP_DIR = Path(__file__).parents[1] / "worker"


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """An empty project directory; its server is stopped afterwards whatever the test did."""
    yield tmp_path
    subprocess.run(
        [*RINGQ, "db", "stop"], cwd=tmp_path, env=_env(), capture_output=True, timeout=120, check=False
    )


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != ENV_URL}
    env["PYTHONPATH"] = os.pathsep.join([str(SAMPLE_APP_DIR), *sys.path])
    return {**env, **extra}


def ringq(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RINGQ, *argv], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=180, check=False
    )


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {what}")
        time.sleep(0.1)


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def test_db_start_status_url_stop_and_every_command_shares_the_server(project: Path) -> None:
    status = ringq(project, "db", "status")
    assert status.returncode == 3 and "not running" in status.stdout
    started = ringq(project, "db", "start")
    assert (
        started.returncode == 0 and "started PostgreSQL at postgresql://postgres@127.0.0.1:" in started.stdout
    )
    url = ringq(project, "db", "url").stdout.strip()
    assert url.startswith("postgresql://postgres@127.0.0.1:") and url in started.stdout
    status = ringq(project, "db", "status")
    assert status.returncode == 0 and url in status.stdout and "owner: ringq db start" in status.stdout
    again = ringq(project, "db", "start")
    assert again.returncode == 0 and "already running" in again.stdout and url in again.stdout
    # Before issue 15 the second command failed: "pg_ctl: another server might be running".
    for argv in (["install"], ["stats"], ["install"], ["stats", "--json"]):
        proc = ringq(project, *argv)
        assert proc.returncode == 0, (argv, proc.stderr)
        assert proc.stderr.strip() == "", proc.stderr
    assert ringq(project, "db", "url").stdout.strip() == url  # still the one server
    stopped = ringq(project, "db", "stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert ringq(project, "db", "status").returncode == 3
    assert ringq(project, "db", "stop").stdout.startswith("ringq db: no server running")
    # A restart keeps the DSN (the port is remembered while it is free).
    restarted = ringq(project, "db", "start")
    assert restarted.returncode == 0 and url in restarted.stdout


def test_a_server_started_by_a_command_is_shared_and_stops_when_its_owner_is_killed(project: Path) -> None:
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from ringq.cli.db import resolve_url; print(resolve_url(None), flush=True); "
            "time.sleep(300)",
        ],
        cwd=project,
        env=_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        url = owner.stdout.readline().strip()
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        assert port_open(port)
        shared = ringq(project, "db", "url")  # a second command uses it instead of starting another
        assert shared.returncode == 0 and shared.stdout.strip() == url
        stats = ringq(project, "install")
        assert stats.returncode == 0, stats.stderr
        status = ringq(project, "db", "status")
        assert status.returncode == 0 and f"owner: process {owner.pid}" in status.stdout
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    wait_for(lambda: not port_open(port), 30, "the watchdog to stop the server of the killed owner")
    assert running(project / ".ringq" / "pg") is None
    assert ringq(project, "db", "status").returncode == 3


def test_a_stale_postmaster_is_recovered_with_one_line(project: Path) -> None:
    assert ringq(project, "db", "start").returncode == 0
    data = project / ".ringq" / "pg"
    pid = int((data / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)  # the postmaster dies; its postmaster.pid stays behind
    wait_for(lambda: pid_gone(pid), 30, "the killed postmaster to be gone")
    assert (data / "postmaster.pid").exists()
    status = ringq(project, "db", "status")
    assert status.returncode == 3 and "left postmaster.pid" in status.stdout
    proc = ringq(project, "install")
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "recovered" in lines[0] and f"pid {pid}" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_temporary_server_stops_when_the_test_process_is_killed(tmp_path: Path) -> None:
    """What tests/conftest.py's `db_url` starts: a kill -9 of the test run leaves nothing behind."""
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from ringq.embedded import _shared, database_url; print(database_url(), flush=True); "
            "from ringq import embedded; print(embedded._shared.data_dir, flush=True); time.sleep(300)",
        ],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        url = owner.stdout.readline().strip()
        data_dir = Path(owner.stdout.readline().strip())
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        assert port_open(port) and (data_dir / "postmaster.pid").exists()
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    wait_for(lambda: not port_open(port), 30, "the watchdog to stop the killed owner's server")
    wait_for(lambda: not data_dir.parent.exists(), 30, "the temporary directory to be removed")


def test_the_worker_says_where_it_connects_without_the_password(db_url: str, installed: str) -> None:
    with_password = db_url.replace("postgresql://postgres@", "postgresql://postgres:hunter2@")
    assert "hunter2" in with_password  # trust auth: the password is ignored, but must not be shown
    worker = subprocess.Popen(
        [
            *RINGQ,
            "worker",
            "--app",
            "worker_sample_app:registry",
            "--database-url",
            with_password,
            "--schema",
            installed,
        ],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        line = worker.stdout.readline().strip()
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=60)
    host_port = db_url.split("@", 1)[1].split("/", 1)[0]
    assert line == f"ringq worker: connected to postgres@{host_port}/postgres schema {installed}"
    assert "hunter2" not in line and "hunter2" not in err


def test_an_unusable_project_directory_is_one_line(project: Path) -> None:
    (project / ".ringq").write_text("not a directory")  # was: a FileExistsError traceback
    proc = ringq(project, "stats")
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and "cannot use .ringq/" in lines[0], proc.stderr
