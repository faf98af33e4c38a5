"""Helpers shared by the chaos tests: a recording workload, exactly-once accounting, windows."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ringq.embedded import EmbeddedPostgres
from ringq.install import install
from ringq.registry import JobContext, Registry
from ringq.types import ClaimedJob

HERE = Path(__file__).parent
Record = Callable[..., None]

# Lock waits longer than this are logged by the server (log_lock_waits); the maintenance tests
# use a lock_timeout below it, so any "still waiting" line in the log is a wait past the bound.
DEADLOCK_TIMEOUT_MS = 300


RINGQ = [sys.executable, "-c", "import sys; from ringq.cli import main; sys.exit(main())"]


@dataclass
class Tally:
    """What the handlers saw: one (job_id, run_lease, attempt, started_at) per execution."""

    executions: list[tuple[int, int, int, float]] = field(default_factory=list)
    completed: list[tuple[float, int]] = field(default_factory=list)  # (flush time, n jobs)
    completed_attempts: list[tuple[int, int]] = field(default_factory=list)  # (job_id, attempt)
    enqueued_at: dict[int, float] = field(default_factory=dict)
    sleep: float = 0.05

    def on_completed(self, jobs: list[ClaimedJob]) -> None:
        self.completed.append((time.monotonic(), len(jobs)))
        self.completed_attempts += [(j.job_id, j.attempt) for j in jobs]

    def starts(self) -> list[float]:
        return sorted(t for *_, t in self.executions)

    def pickup_latencies(self, ids: Sequence[int] | None = None) -> list[float]:
        first: dict[int, float] = {}
        for job_id, _, _, t in self.executions:
            first.setdefault(job_id, t)
        wanted = self.enqueued_at if ids is None else {i: self.enqueued_at[i] for i in ids}
        return [first[j] - t0 for j, t0 in wanted.items() if j in first]


def recording_registry(tally: Tally) -> Registry:
    registry = Registry()

    @registry.task("work")
    async def work(ctx: JobContext) -> int:
        tally.executions.append((ctx.job_id, ctx.run_lease, ctx.attempt, time.monotonic()))
        if tally.sleep:
            await asyncio.sleep(tally.sleep)
        return ctx.job_id

    return registry


def rate(times: Sequence[float], start: float, end: float) -> float:
    n = sum(1 for t in times if start <= t < end)
    return n / max(1e-9, end - start)


def first_recovered(times: Sequence[float], after: float, target: float, window: float = 1.0) -> float | None:
    """Earliest t >= after such that the rate over [t, t + window) reaches `target` per second."""
    t, last = after, max(times, default=after)
    while t + window <= last + 1e-9:
        if rate(times, t, t + window) >= target:
            return t
        t += 0.05
    return None


def pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(x: float) -> float:
    return round(x * 1000, 1)


def q(url: str, schema: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    """A read on a connection of its own, `{s}` standing for the schema."""
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        cur = conn.execute(sql.SQL(query).format(s=sql.Identifier(schema)), params or None)
        return cur.fetchall() if cur.description else []


def completed_closures(url: str, schema: str) -> Counter[int]:
    rows = q(url, schema, "SELECT job_id FROM {s}.closures WHERE outcome = 'completed'")
    return Counter(int(r[0]) for r in rows)


def assert_exactly_once(url: str, schema: str, ids: Sequence[int], tally: Tally | None = None) -> None:
    """Every job completed exactly once, and (with a tally) no attempt ran after the completing one."""
    done = completed_closures(url, schema)
    missing = sorted(set(ids) - set(done))
    twice = sorted(j for j, n in done.items() if n > 1)
    assert not missing, f"{len(missing)} jobs never completed, e.g. {missing[:10]}"
    assert not twice, f"jobs completed more than once: {twice[:10]}"
    if tally is None:
        return
    winner = dict(q(url, schema, "SELECT job_id, run_lease FROM {s}.closures WHERE outcome = 'completed'"))
    late = [(j, lease) for j, lease, _, _ in tally.executions if j in winner and lease > winner[j]]
    assert not late, f"attempts ran after their job's completing attempt: {late[:10]}"


def start_worker_process(url: str, schema: str, *extra: str) -> subprocess.Popen[str]:
    """`ringq worker --app chaos_app:registry` as a real process."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [*RINGQ, "worker", "--database-url", url, "--schema", schema, "--app", "chaos_app:registry", *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def server_log(server: EmbeddedPostgres) -> str:
    path = server.data_dir / "server.log"
    return path.read_text(errors="replace") if path.exists() else ""


def fresh_schema(url: str, **slots: Any) -> str:
    name = f"c_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        install(conn, name, **slots)
    return name


def drop_schema(url: str, name: str) -> None:
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
    except psycopg.OperationalError:
        pass
