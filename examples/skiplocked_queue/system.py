"""The real queue (queue.sql on PostgreSQL) behind the toolkit's `SystemLike`: one transaction per
model action, a crash before COMMIT by pg_terminate_backend, and the abstraction from the `jobs`
table (plus the workers' memory) to the model's variables."""

from __future__ import annotations

import contextlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ringq_proof.kit import Crashed, Divergence

SQL = Path(__file__).with_name("queue.sql")
NOW = datetime(2030, 1, 1, tzinfo=UTC)
TIMEOUT = 3600.0  # the visibility timeout; Expire(j) moves that one job's deadline into the past
OWNER_CHECK = "AND j.lease = p_lease"


class SkipLockedSystem:
    def __init__(
        self,
        url: str,
        schema: str,
        jobs: tuple[str, ...] = ("j1", "j2"),
        workers: tuple[str, ...] = ("w1", "w2"),
        bug_no_owner_check: bool = False,
    ) -> None:
        self.url, self.schema, self.jobs, self.workers = url, schema, jobs, workers
        self.bug = bug_no_owner_check
        self.admin = psycopg.connect(url, autocommit=True)
        self.conns: dict[str, psycopg.Connection] = {}

    # -- SystemLike --------------------------------------------------------------------------

    def reset(self) -> None:
        """A fresh schema (this queue installs in milliseconds)."""
        for c in self.conns.values():
            with contextlib.suppress(Exception):
                c.close()
        self.admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema)))
        text = SQL.read_text().format(
            schema=sql.Identifier(self.schema).as_string(None),
            schema_name=self.schema,
            owner_check="" if self.bug else OWNER_CHECK,
        )
        self.admin.execute(text.encode())
        self.conns = {w: self._connect() for w in (*self.workers, "producer")}
        self.ids: dict[str, int] = {}  # model job -> id
        self.leases: dict[int, int] = {}  # real lease token -> model lease
        self.held: dict[str, tuple[str, int] | None] = dict.fromkeys(self.workers)

    def close(self) -> None:
        for c in self.conns.values():
            with contextlib.suppress(Exception):
                c.close()
        with contextlib.suppress(Exception):
            self.admin.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema))
            )
        self.admin.close()

    def apply(self, action: str, params: dict[str, Any], before: Any, after: Any, crash: bool) -> None:
        if action == "Enqueue":
            [(job_id,)] = self._tx("producer", "enqueue", crash, json.dumps({"job": params["j"]}))
            self.ids[params["j"]] = job_id
        elif action == "Claim":
            w = params["w"]
            rows = self._tx(w, "claim", crash, NOW, TIMEOUT)
            if not rows:
                raise Divergence(f"Claim({w}): nothing claimed")
            job_id, token = rows[0]
            self.leases[token] = before.next_lease
            self.held[w] = (self._job(job_id), before.next_lease)
        elif action == "Complete":
            w = params["w"]
            held = self.held[w]
            assert held is not None
            token = next(t for t, m in self.leases.items() if m == held[1])
            self._tx(w, "complete", crash, self.ids[held[0]], token)
            self.held[w] = None  # completed, or told its lease was lost: either way it drops the job
        elif action == "Expire":  # the clock passes this job's visibility timeout
            self.admin.execute(
                sql.SQL("UPDATE {}.jobs SET locked_until = %s WHERE id = %s").format(
                    sql.Identifier(self.schema)
                ),
                (NOW.replace(year=2029), self.ids[params["j"]]),
            )
        elif action == "Crash":  # the worker process dies after a commit: memory gone
            self.conns[params["w"]].close()
            self.conns[params["w"]] = self._connect()
            self.held[params["w"]] = None
        else:
            raise Divergence(f"no real step for {action}")

    def observe(self) -> dict[str, Any]:
        rows = self.admin.execute(
            sql.SQL("SELECT id, status, lease, locked_until < %s FROM {}.jobs ORDER BY id").format(
                sql.Identifier(self.schema)
            ),
            (NOW,),
        ).fetchall()
        by_id = {r[0]: r for r in rows}
        order = sorted(self.ids.values())
        status, lease, seq, expired = {}, {}, {}, set()
        for j in self.jobs:
            job_id = self.ids.get(j)
            row = by_id.get(job_id) if job_id is not None else None
            status[j] = "absent" if job_id is None else ("deleted" if row is None else row[1])
            if row is not None:
                lease[j] = self.leases.get(row[2], 0) if row[2] else 0
                seq[j] = order.index(row[0]) + 1
                if row[1] == "running" and row[3]:
                    expired.add(j)
        unknown = set(by_id) - set(self.ids.values())
        if unknown:
            status["?"] = f"rows nobody enqueued: {sorted(unknown)}"
        return {
            "status": status,
            "lease": lease,
            "seq": seq,
            "expired": frozenset(expired),
            "held": {w: frozenset() if h is None else frozenset({h}) for w, h in self.held.items()},
        }

    # -- plumbing ----------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)

    def _job(self, job_id: int) -> str:
        return next((j for j, i in self.ids.items() if i == job_id), f"unknown_{job_id}")

    def _tx(self, who: str, fn: str, crash: bool, *args: Any) -> list[tuple[Any, ...]]:
        conn = self.conns[who]
        q = sql.SQL("SELECT * FROM {}.{}({})").format(
            sql.Identifier(self.schema), sql.Identifier(fn), sql.SQL(", ").join(sql.Placeholder() * len(args))
        )
        if not crash:
            return conn.execute(q, args).fetchall()
        conn.execute("BEGIN")
        conn.execute(q, args)
        pid = conn.info.backend_pid
        self.admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        while self.admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            time.sleep(0.001)
        with contextlib.suppress(Exception):
            conn.close()
        self.conns[who] = self._connect()
        raise Crashed(fn)
