"""The execution log: what clients were told and what handlers ran, and its checker.

The database forgets history on purpose (prune); the log does not. Tests append one `Event`
per acknowledged enqueue, handler execution, acknowledged finalisation, DLQ retry and observed
deadlock, in the spirit of Jepsen's queue checker, then `check_log` classifies every job:

* lost       — enqueue acknowledged, but the job never ended (no completion, DLQ or cancel)
               and is not live in the database at the end;
* duplicated — a completed attempt was executed again (`NoDuplicateCompletion`), or one attempt
               (job_id, run_lease) was executed twice;
* unexpected — an execution of a job whose enqueue was never acknowledged (nor attempted).

plus the invariants that only the log can see (`ringq.invariants.LOG_CHECKABLE`).
Processes write JSON lines (`JsonlWriter`) that `read_jsonl` merges.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Kind = Literal[
    "enqueue",  # acknowledged: job_id (batch, index)
    "enqueue_attempt",  # sent, outcome unknown (crashed): batch, size
    "execute",  # handler ran: job_id, run_lease, attempt
    "complete",  # acknowledged completion: job_id, run_lease, result
    "complete_sent",  # sent; the worker died before the answer
    "fail",  # acknowledged fail: outcome retried | dlq
    "cancel",  # acknowledged cancel
    "dlq",  # job moved to the DLQ (by fail or rescue, as observed)
    "dlq_retry",  # DLQ retry acknowledged: the job starts a new life
    "deadlock",  # a transaction aborted with 40P01
]


@dataclass(frozen=True)
class Event:
    kind: str
    job_id: int = 0
    run_lease: int = 0
    worker: str = ""
    attempt: int = 0
    detail: Any = None
    t: float = 0.0

    def as_json(self) -> str:
        return json.dumps(asdict(self), default=str)


@dataclass
class ExecLog:
    events: list[Event] = field(default_factory=list)

    def add(self, kind: str, **kw: Any) -> Event:
        ev = Event(kind, **kw)
        self.events.append(ev)
        return ev

    def extend(self, events: Iterable[Event]) -> None:
        self.events.extend(events)


class JsonlWriter:
    """Append events to a file, one line each, flushed immediately (survives SIGKILL up to the
    last complete line)."""

    def __init__(self, path: str | Path, worker: str = "") -> None:
        self.worker = worker
        self._f = open(path, "a", buffering=1, encoding="utf-8")

    def add(self, kind: str, **kw: Any) -> None:
        kw.setdefault("worker", self.worker)
        self._f.write(Event(kind, **kw).as_json() + "\n")
        self._f.flush()

    def sync(self) -> None:
        os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()


def read_jsonl(paths: Iterable[str | Path]) -> ExecLog:
    log = ExecLog()
    for p in paths:
        if not Path(p).exists():  # the process died before it wrote anything
            continue
        with open(p, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    d = json.loads(line)
                except ValueError:
                    continue  # a line torn by SIGKILL
                log.add(**d)
    return log


@dataclass
class LogReport:
    enqueued: int = 0
    executed: int = 0
    completed: int = 0
    dead_lettered: int = 0
    cancelled: int = 0
    lost: list[int] = field(default_factory=list)
    duplicated: list[dict[str, Any]] = field(default_factory=list)
    unexpected: list[int] = field(default_factory=list)
    indeterminate: list[int] = field(default_factory=list)
    violations: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.unexpected or self.violations)

    def summary(self) -> str:
        head = (
            f"enqueued={self.enqueued} executed={self.executed} completed={self.completed} "
            f"dlq={self.dead_lettered} cancelled={self.cancelled} lost={len(self.lost)} "
            f"duplicated={len(self.duplicated)} unexpected={len(self.unexpected)} "
            f"indeterminate={len(self.indeterminate)}"
        )
        lines = [head]
        if self.lost:
            lines.append(f"  lost jobs: {self.lost[:20]}")
        if self.duplicated:
            lines.append(f"  duplicated: {self.duplicated[:10]}")
        if self.unexpected:
            lines.append(f"  unexpected: {self.unexpected[:20]}")
        for name, rows in self.violations.items():
            lines.append(f"  {name} violated: {rows[:10]}")
        return "\n".join(lines)


def _batch(detail: Any) -> Any:
    return detail.get("b") if isinstance(detail, dict) else None


def check_log(
    log: ExecLog,
    *,
    live_at_end: Iterable[int] = (),
    final_outcomes: Mapping[int, str] | None = None,
    max_attempts: int | None = None,
    require_terminal: bool = True,
) -> LogReport:
    """Classify every job of the log (see module doc).

    `live_at_end`: jobs the database still holds live (queued, running, deferred) — not lost.
    `final_outcomes`: job_id -> terminal outcome found in the database (completed, dlq,
    cancelled), for jobs whose acknowledgement died with a worker. `require_terminal=False`
    accepts live jobs (a run that stops without draining).
    """
    outcomes = dict(final_outcomes or {})
    live = set(live_at_end)
    rep = LogReport()
    acked: set[int] = set()
    attempted: set[Any] = set()  # batches sent whose acknowledgement may have been lost
    completed_at: dict[int, int] = {}
    executed: dict[tuple[int, int], int] = defaultdict(int)
    per_life: dict[int, int] = defaultdict(int)
    finished: dict[int, str] = {}
    sent_completion: set[int] = set()
    violations: dict[str, list[Any]] = defaultdict(list)

    for ev in log.events:
        if ev.kind == "enqueue":
            acked.add(ev.job_id)
        elif ev.kind == "enqueue_attempt":
            attempted.add(_batch(ev.detail))
        elif ev.kind == "execute":
            rep.executed += 1
            key = (ev.job_id, ev.run_lease)
            executed[key] += 1
            if executed[key] == 2:
                rep.duplicated.append(
                    {"job_id": ev.job_id, "run_lease": ev.run_lease, "why": "attempt ran twice"}
                )
            done_lease = completed_at.get(ev.job_id)
            if done_lease is not None and ev.run_lease > done_lease:
                rep.duplicated.append(
                    {
                        "job_id": ev.job_id,
                        "completed_lease": done_lease,
                        "run_lease": ev.run_lease,
                        "why": "executed after its completion was acknowledged",
                    }
                )
                violations["NoDuplicateCompletion"].append((ev.job_id, done_lease, ev.run_lease))
            per_life[ev.job_id] += 1
            if max_attempts is not None and per_life[ev.job_id] > max_attempts:
                violations["AttemptLimitRespected"].append((ev.job_id, per_life[ev.job_id]))
            if ev.job_id not in acked and _batch(ev.detail) not in attempted:
                rep.unexpected.append(ev.job_id)
        elif ev.kind == "complete":
            prev = completed_at.get(ev.job_id)
            if prev is not None and prev != ev.run_lease:
                violations["NoDuplicateCompletion"].append((ev.job_id, prev, ev.run_lease))
            completed_at.setdefault(ev.job_id, ev.run_lease)
            finished[ev.job_id] = "completed"
        elif ev.kind == "complete_sent":
            sent_completion.add(ev.job_id)
        elif ev.kind in ("dlq", "cancel"):
            finished[ev.job_id] = "dlq" if ev.kind == "dlq" else "cancelled"
        elif ev.kind == "dlq_retry":
            finished.pop(ev.job_id, None)
            per_life[ev.job_id] = 0
        elif ev.kind == "deadlock":
            violations["NoDeadlock"].append(ev.detail)

    rep.enqueued = len(acked)
    for job in sorted(acked):
        state = finished.get(job) or outcomes.get(job)
        if state == "completed":
            rep.completed += 1
        elif state == "dlq":
            rep.dead_lettered += 1
        elif state == "cancelled":
            rep.cancelled += 1
        elif job in live:
            if require_terminal:
                rep.lost.append(job)  # never finished although the run drained
        elif job in sent_completion:
            rep.indeterminate.append(job)
        else:
            rep.lost.append(job)
    rep.unexpected = sorted(set(rep.unexpected))
    rep.violations = {k: v for k, v in violations.items() if v}
    return rep
