"""The PostgreSQL server under the benchmark: start it, clone per-run databases, read its stats.

Every system runs against the same server. Each system is installed once into a template
database; every run then gets a fresh `CREATE DATABASE ... TEMPLATE` copy, so runs start
from identical empty state without paying each system's migration time again.
"""

from __future__ import annotations

import contextlib
import os
import platform
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

# Server settings for the embedded server (recorded in every result file). Durability
# stays at PostgreSQL's defaults (fsync, synchronous_commit on): these are durable queues.
DEFAULT_SETTINGS: dict[str, str] = {
    "shared_preload_libraries": "pg_stat_statements",
    "pg_stat_statements.track": "all",
    # a short naptime lets autovacuum act within a minutes-long run, as it would within
    # hours on a production server with the default 1 min; applies to every system alike
    "autovacuum_naptime": "5s",
    "max_connections": "300",
}

KEY_SETTINGS = (
    "server_version",
    "shared_buffers",
    "max_connections",
    "fsync",
    "synchronous_commit",
    "wal_level",
    "max_wal_size",
    "checkpoint_timeout",
    "autovacuum",
    "autovacuum_naptime",
    "autovacuum_vacuum_scale_factor",
    "autovacuum_vacuum_threshold",
    "work_mem",
    "shared_preload_libraries",
)


def with_dbname(url: str, dbname: str) -> str:
    """The same server URL pointing at another database (URLs, because awa's Rust driver
    takes URLs only)."""
    parts = urlsplit(url)
    if not parts.scheme:
        raise ValueError(f"RINGQ_DATABASE_URL must be a postgresql:// URL, got {url!r}")
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


@dataclass
class Server:
    url: str  # admin URL (database "postgres" or whatever the user gave)
    embedded: Any = None
    settings: dict[str, str] = field(default_factory=dict)

    @classmethod
    @contextlib.contextmanager
    def open(cls, extra_settings: dict[str, str] | None = None) -> Iterator[Server]:
        env = os.environ.get("RINGQ_DATABASE_URL")
        if env:
            yield cls(url=env)
            return
        from ringq.embedded import EmbeddedPostgres

        settings = {**DEFAULT_SETTINGS, **(extra_settings or {})}
        pg = EmbeddedPostgres.temporary(**settings)
        try:
            pg.start()
            yield cls(url=pg.url, embedded=pg, settings=settings)
        finally:
            pg.cleanup()

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)

    def dsn(self, dbname: str) -> str:
        return with_dbname(self.url, dbname)

    def create_db(self, name: str, template: str | None = None) -> str:
        with self.admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            if template:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(template)
                    )
                )
            else:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.dsn(name)

    def drop_db(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def info(self) -> dict[str, Any]:
        with self.admin() as conn:
            rows = conn.execute(
                "SELECT name, setting, coalesce(unit, '') FROM pg_settings WHERE name = ANY(%s)",
                (list(KEY_SETTINGS),),
            ).fetchall()
            version = conn.execute("SELECT version()").fetchone()
        return {
            "version": version[0] if version else "?",
            "settings": {r[0]: f"{r[1]}{(' ' + r[2]) if r[2] else ''}" for r in rows},
            "embedded": self.embedded is not None,
            "extra_settings": self.settings,
        }

    def has_pg_stat_statements(self) -> bool:
        with self.admin() as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_settings WHERE name = 'shared_preload_libraries' "
                "AND setting LIKE '%%pg_stat_statements%%'"
            ).fetchone()
            return bool(row and row[0])


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        info["loadavg_at_start"] = os.getloadavg()
    with contextlib.suppress(OSError):
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal"):
                info["mem_total"] = line.split(":", 1)[1].strip()
                break
    return info


class Monitor:
    """A stats connection into one system's database. Counts its own statements so they
    can be subtracted from the database's commit counter."""

    def __init__(self, server: Server, dbname: str) -> None:
        self.server = server
        self.dbname = dbname
        self.conn = psycopg.connect(server.dsn(dbname), autocommit=True)
        self.statements = 0

    def close(self) -> None:
        self.conn.close()

    def q(self, query: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
        self.statements += 1
        return self.conn.execute(query, params).fetchall()  # type: ignore[arg-type]

    def dead_tuples(self) -> dict[str, int]:
        rows = self.q("SELECT relname, n_dead_tup FROM pg_stat_user_tables")
        return {r[0]: int(r[1]) for r in rows}

    def snapshot(self) -> dict[str, Any]:
        """WAL position, the database's commit counter and per-table stats and sizes."""
        self.q("SELECT pg_stat_clear_snapshot()")
        wal = self.q("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")[0][0]
        db = self.q(
            "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        )[0]
        tables = {
            r[0]: {
                "n_live_tup": int(r[1]),
                "n_dead_tup": int(r[2]),
                "n_tup_ins": int(r[3]),
                "n_tup_upd": int(r[4]),
                "n_tup_del": int(r[5]),
                "n_tup_hot_upd": int(r[6]),
                "vacuums": int(r[7]),
                "total_bytes": int(r[8]),
                "index_bytes": int(r[9]),
            }
            for r in self.q(
                "SELECT relname, n_live_tup, n_dead_tup, n_tup_ins, n_tup_upd, n_tup_del, "
                "n_tup_hot_upd, vacuum_count + autovacuum_count, "
                "pg_total_relation_size(relid), pg_indexes_size(relid) FROM pg_stat_user_tables"
            )
        }
        return {
            "t": time.time(),
            "wal_bytes": int(wal),
            "xact_commit": int(db[0]),
            "xact_rollback": int(db[1]),
            "monitor_statements": self.statements,
            "tables": tables,
        }
