"""Randomised concurrent run: worker processes, a producer, a maintenance loop rotating and
pruning at short intervals, random SIGKILLs and backend terminations — then an execution-log
check (lost / duplicated / unexpected) and the SQL invariants.

Run as a module function (`run_chaos`, used by tests/stateful/test_concurrent.py and
scripts/soak.py); this file is also the worker process's entry point:
    python tests/stateful/chaos.py worker <url> <schema> <name> <log.jsonl> <lease> <mutant>
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from ringq.backoff import Backoff
from ringq.client import Queue
from ringq.errors import AttemptClosed, MaintenanceBusy, PruneBlocked, RingqError
from ringq.install import install
from ringq.invariants import CheckResult, run_checks
from ringq.types import Completion, Failure, Job
from ringq_proof import mutants
from ringq_proof.execlog import JsonlWriter, LogReport, check_log, read_jsonl

QUEUE = "c"
MAX_ATTEMPTS = 4
THIS = Path(__file__).resolve()


def _app_url(url: str, app: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}application_name={app}"


def _is_deadlock(exc: BaseException) -> bool:
    cur: BaseException | None = exc
    while cur is not None:
        if isinstance(cur, pg_errors.DeadlockDetected):
            return True
        cur = cur.__cause__
    return False


# -- the worker process -----------------------------------------------------------------------


def worker_main(
    url: str, schema: str, name: str, log_path: str, lease: float, dead_letter: float = 0.0
) -> None:
    log = JsonlWriter(log_path, worker=name)
    rng = random.Random(f"{name}-{os.getpid()}")
    backoff = Backoff(base=0.2, factor=1.0, cap=0.2, jitter=0.0)
    q = Queue(_app_url(url, f"rq-chaos-{schema}-w"), schema=schema, backoff=backoff, pool_size=1)
    stop = False

    def on_term(*_: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    while not stop:
        try:
            got = q.claim(worker=name, queues=[QUEUE], limit=rng.randint(1, 4), lease=lease)
        except (psycopg.Error, RingqError) as exc:
            if _is_deadlock(exc):
                log.add("deadlock", detail=f"claim: {exc}")
            time.sleep(0.05)
            continue
        if not got:
            time.sleep(0.03)
            continue
        done: list[Completion] = []
        failed: list[Failure] = []
        for c in got:
            log.add("execute", job_id=c.job_id, run_lease=c.run_lease, attempt=c.attempt, detail=c.payload)
            time.sleep(rng.random() * 0.01)
            if rng.random() < 0.1:
                dead = rng.random() < dead_letter  # straight to the DLQ (soak's DLQ operations)
                failed.append(Failure(c.job_id, c.run_lease, "flaky", retry_delay=0.2, dead_letter=dead))
            else:
                done.append(Completion(c.job_id, c.run_lease, {"by": name}))
        try:
            if failed:
                for f, out in zip(failed, q.fail_many(failed), strict=True):
                    if out == "dlq":
                        log.add("dlq", job_id=f.job_id, run_lease=f.run_lease)
            if done:
                for c2 in done:
                    log.add("complete_sent", job_id=c2.job_id, run_lease=c2.run_lease)
                for c2, res in zip(done, q.complete_many(done), strict=True):
                    if res is None:
                        log.add("complete", job_id=c2.job_id, run_lease=c2.run_lease)
                    elif not isinstance(res, AttemptClosed):
                        raise res
        except (psycopg.Error, RingqError) as exc:
            if _is_deadlock(exc):
                log.add("deadlock", detail=f"finalise: {exc}")
            time.sleep(0.05)
    q.close()
    log.close()


# -- the orchestrator ----------------------------------------------------------------------------


@dataclass
class ChaosResult:
    schema: str
    seconds: float
    enqueued: int
    kills: int
    terminations: int
    maintenance: dict[str, int]
    log: LogReport
    violations: list[CheckResult] = field(default_factory=list)
    drained: bool = True
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.log.ok and not self.violations and self.drained and not self.errors

    def summary(self) -> str:
        lines = [
            f"schema={self.schema} {self.seconds:.1f}s enqueued={self.enqueued} sigkills={self.kills} "
            f"backend_terminations={self.terminations} maintenance={self.maintenance} drained={self.drained}",
            self.log.summary(),
        ]
        for r in self.violations:
            lines.append(f"{r.check.invariant}/{r.check.name}: {r.rows[:5]}")
        lines += self.errors[:5]
        return "\n".join(lines)


class _Chaos:
    def __init__(
        self,
        url: str,
        schema: str,
        workdir: Path,
        workers: int,
        lease: float,
        seed: int,
        dlq_ops: bool = False,
    ) -> None:
        self.dlq_ops = dlq_ops
        self.url, self.schema, self.workdir = url, schema, workdir
        self.n_workers, self.lease = workers, lease
        self.rng = random.Random(seed)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.generation: dict[str, int] = {}
        self.stop_producer = threading.Event()
        self.stop_maint = threading.Event()
        self.prune_enabled = threading.Event()
        self.prune_enabled.set()
        self.maint_counts = {
            "promote": 0,
            "rescue": 0,
            "rotate": 0,
            "prune": 0,
            "busy": 0,
            "dlq_retry": 0,
            "dlq_purge": 0,
        }
        self.enqueued = 0
        self.errors: list[str] = []
        self.log_paths: list[Path] = []
        self.producer_log = JsonlWriter(workdir / "producer.jsonl", worker="producer")
        self.log_paths.append(workdir / "producer.jsonl")

    def start_worker(self, name: str) -> None:
        gen = self.generation.get(name, 0) + 1
        self.generation[name] = gen
        path = self.workdir / f"{name}.{gen}.jsonl"
        self.log_paths.append(path)
        self.procs[name] = subprocess.Popen(
            [
                sys.executable,
                str(THIS),
                "worker",
                self.url,
                self.schema,
                f"{name}.{gen}",
                str(path),
                str(self.lease),
                "0.5" if self.dlq_ops else "0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(self.workdir / f"{name}.{gen}.err", "wb"),
        )

    def producer(self) -> None:
        q = Queue(_app_url(self.url, f"rq-chaos-{self.schema}-p"), schema=self.schema, pool_size=1)
        b = 0
        while not self.stop_producer.is_set():
            b += 1
            n = self.rng.randint(1, 6)
            jobs = [
                Job(
                    "t",
                    {"b": b, "i": i},
                    queue=QUEUE,
                    priority=self.rng.choice([0, 1, 2]),
                    delay=self.rng.choice([None, None, None, 0.3]),
                    max_attempts=MAX_ATTEMPTS,
                )
                for i in range(n)
            ]
            self.producer_log.add("enqueue_attempt", detail={"b": b, "n": n})
            try:
                ids = q.enqueue_many(jobs)
            except (psycopg.Error, RingqError) as exc:
                if _is_deadlock(exc):
                    self.producer_log.add("deadlock", detail=f"enqueue: {exc}")
                time.sleep(0.05)
                continue
            for i, j in enumerate(ids):
                self.producer_log.add("enqueue", job_id=j, detail={"b": b, "i": i})
            self.enqueued += len(ids)
            time.sleep(self.rng.random() * 0.05)
        q.close()

    def maintenance(self) -> None:
        q = Queue(
            _app_url(self.url, f"rq-chaos-{self.schema}-m"),
            schema=self.schema,
            backoff=Backoff(base=0.2, factor=1.0, cap=0.2, jitter=0.0),
            maintenance_lock_timeout=0.05,
            pool_size=1,
        )
        tick = 0
        while not self.stop_maint.is_set():
            tick += 1
            steps: list[tuple[str, Any]] = [("promote", q.promote), ("rescue", q.rescue)]
            if self.prune_enabled.is_set() and tick % 3 == 0:
                ring = self.rng.choice(["queue", "claim"])
                steps += [("prune", lambda r=ring: q.prune(r)), ("rotate", lambda r=ring: q.rotate(r))]
            for name, fn in steps:
                try:
                    fn()
                    self.maint_counts[name] += 1
                except (MaintenanceBusy, PruneBlocked):
                    self.maint_counts["busy"] += 1
                except (psycopg.Error, RingqError) as exc:
                    if _is_deadlock(exc):
                        self.producer_log.add("deadlock", detail=f"{name}: {exc}")
            if self.dlq_ops and tick % 4 == 0:
                self.dlq_step(q)
            time.sleep(0.05)
        q.close()

    def dlq_step(self, q: Queue) -> None:
        """Retry or purge a few dead-lettered jobs (soak: DLQ operations beside rotation/prune)."""
        try:
            for e in q.dlq_list(limit=5):
                if self.rng.random() < 0.6:
                    if q.dlq_retry([e.job_id]):
                        self.producer_log.add("dlq_retry", job_id=e.job_id)
                        self.maint_counts["dlq_retry"] += 1
                else:
                    self.producer_log.add("dlq", job_id=e.job_id, detail="purged")  # it ended there
                    if q.dlq_purge([e.job_id]):
                        self.maint_counts["dlq_purge"] += 1
        except (MaintenanceBusy, PruneBlocked):
            self.maint_counts["busy"] += 1
        except (psycopg.Error, RingqError) as exc:
            if _is_deadlock(exc):
                self.producer_log.add("deadlock", detail=f"dlq: {exc}")

    def terminate_random_backend(self, admin: psycopg.Connection) -> bool:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name LIKE %s AND pid <> pg_backend_pid()",
            (f"rq-chaos-{self.schema}-%",),
        ).fetchall()
        if not rows:
            return False
        pid = self.rng.choice(rows)[0]
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        return True


def _live_jobs(admin: psycopg.Connection, schema: str) -> set[int]:
    s = sql.Identifier(schema)
    q = sql.SQL(
        """SELECT r.job_id FROM {s}.ready r JOIN {s}.lanes l ON l.lane_id = r.lane_id
           WHERE r.lane_seq >= l.claim_seq
             AND NOT EXISTS (SELECT 1 FROM {s}.cancels k WHERE k.job_id = r.job_id)
           UNION SELECT c.job_id FROM {s}.claims c WHERE NOT EXISTS (
               SELECT 1 FROM {s}.closures x WHERE x.job_id = c.job_id AND x.run_lease = c.run_lease
               AND x.slot = c.slot)
           UNION SELECT job_id FROM {s}.deferred"""
    ).format(s=s)
    return {r[0] for r in admin.execute(q).fetchall()}


def _final_outcomes(admin: psycopg.Connection, schema: str) -> dict[int, str]:
    s = sql.Identifier(schema)
    out: dict[int, str] = {}
    for j, outcome in admin.execute(
        sql.SQL("SELECT job_id, outcome FROM {s}.done ORDER BY done_id").format(s=s)
    ).fetchall():
        out[j] = outcome
    for (j,) in admin.execute(sql.SQL("SELECT job_id FROM {s}.dlq").format(s=s)).fetchall():
        out[j] = "dlq"
    return out


def run_chaos(
    url: str,
    *,
    seconds: float = 20.0,
    workers: int = 3,
    lease: float = 1.0,
    seed: int = 0,
    drain_seconds: float = 30.0,
    mutant: mutants.Mutant | None = None,
    keep_schema: bool = False,
    workdir: Path | None = None,
    dlq_ops: bool = False,
) -> ChaosResult:
    schema = f"chaos_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(url, autocommit=True)
    install(admin, schema, 3, 3)
    if mutant is not None:
        mutants.install_mutant(admin, schema, mutant)
    tmp = workdir or Path(os.environ.get("TMPDIR", "/tmp")) / f"ringq-{schema}"
    tmp.mkdir(parents=True, exist_ok=True)
    c = _Chaos(url, schema, tmp, workers, lease, seed, dlq_ops)
    names = [f"w{i}" for i in range(workers)]
    for n in names:
        c.start_worker(n)
    threads = [
        threading.Thread(target=c.producer, daemon=True),
        threading.Thread(target=c.maintenance, daemon=True),
    ]
    for t in threads:
        t.start()
    kills = terminations = 0
    start = time.monotonic()
    try:
        while time.monotonic() - start < seconds:
            time.sleep(c.rng.uniform(0.4, 1.2))
            if c.rng.random() < 0.4:
                victim = c.rng.choice(names)
                with contextlib.suppress(ProcessLookupError):
                    c.procs[victim].kill()
                c.procs[victim].wait()
                kills += 1
                c.start_worker(victim)
            elif c.terminate_random_backend(admin):
                terminations += 1
        # drain: no more chaos, producer stops, prune stops (keep terminal rows to read outcomes)
        c.stop_producer.set()
        threads[0].join(timeout=10)
        c.prune_enabled.clear()
        deadline = time.monotonic() + drain_seconds
        drained = False
        while time.monotonic() < deadline:
            if not _live_jobs(admin, schema):
                drained = True
                break
            time.sleep(0.3)
    finally:
        c.stop_producer.set()
        for p in c.procs.values():
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signal.SIGTERM)
        for p in c.procs.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        c.stop_maint.set()
        for t in threads:
            t.join(timeout=10)
    elapsed = time.monotonic() - start
    log = read_jsonl(c.log_paths)
    report = check_log(
        log,
        live_at_end=_live_jobs(admin, schema),
        final_outcomes=_final_outcomes(admin, schema),
        # with DLQ retries a job has several lives, and the per-process logs are merged file by
        # file (not in time order): the per-life count is left to the SQL checks then
        max_attempts=None if dlq_ops else MAX_ATTEMPTS,
    )
    violations = [r for r in run_checks(admin, schema) if not r.ok]
    result = ChaosResult(
        schema=schema,
        seconds=elapsed,
        enqueued=c.enqueued,
        kills=kills,
        terminations=terminations,
        maintenance=dict(c.maint_counts),
        log=report,
        violations=violations,
        drained=drained,
        errors=c.errors,
    )
    if not keep_schema:
        admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    admin.close()
    return result


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "worker":
    worker_main(
        sys.argv[2],
        sys.argv[3],
        sys.argv[4],
        sys.argv[5],
        float(sys.argv[6]),
        float(sys.argv[7]) if len(sys.argv) > 7 else 0.0,
    )
