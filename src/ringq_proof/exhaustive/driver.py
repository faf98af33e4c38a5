"""Drive a real ringq schema along a path of the model's graph, one model action at a time.

`RingqSystem` maps each SegmentedStorage action to the ringq transaction(s) it stands for
(spec/MAPPING.md; the same calls as tests/stateful/harness.py, which this module does not
import: src/ cannot depend on tests/, and the harness is a random-search machine with its own
bookkeeping):

| model action | real step |
|---|---|
| `Enqueue(j)` | `enqueue.sql` in ringq's own transaction, one job |
| `EnqueueBegin(j)` / `EnqueueCommit(j)` / `EnqueueAbort(j)` | `enqueue.sql` staged, on a producer connection of `j`'s own that stays open; its COMMIT; its ROLLBACK or `pg_terminate_backend` (alternately) |
| `Claim(w)` | `claim.sql`, limit 1, on `w`'s connection |
| `Complete(w)` / `Fail(w)` / `Heartbeat(w)` | `complete.sql` / `fail.sql` (a retry delay) / `heartbeat.sql` for the attempt `w` holds |
| `Crash(w)` | `w`'s connection closed, its memory dropped (the worker process restarts) |
| `Tick(job, lease)` | the clock passes that attempt's deadline (see "time" below) |
| `Rescue(job, lease)` | `rescue.sql`, limit 1 (it takes the lowest run_lease: see `realizable`) |
| `Cancel(j)`, `Promote(job)`, `DlqRetry(j)` | `cancel.sql`, `promote.sql`, `dlq_retry.sql` |
| `RotateQueue`, `RotateClaim`, `PruneQueue(k)`, `PruneClaim(k)` | `rotate.sql`, `prune.sql` (prune must return `k`) |

**Time.** The spec's `Tick` passes any one deadline in any order; a real clock passes deadlines
in deadline order. Because the whole path is known before it runs, the driver picks every
deadline so that the clock passes it exactly at the path's `Tick` of that attempt: step `i` runs
at `T0 + i * STEP`, and a claim (or heartbeat) at step `i` whose attempt is ticked at step `k`
gets the lease `(k - i) * STEP - STEP / 2` (never ticked: a lease far beyond the path). A
`Fail` retry delay is chosen the same way to fall due at the path's `Promote` of that job.

**Crash points.** With `crash_before_commit`, every transaction of the path is first run and
killed before COMMIT (`pg_terminate_backend` from the admin connection; the client survives
with its memory, as after a dropped connection): the abstraction must be unchanged (the spec's
stutter), then the step runs for real. `Crash(w)` edges are the after-commit crash points.

**Identities** are mapped explicitly: the driver knows which model job it enqueued for each
job_id and which model lease each claim got, so a rolled-back claim that burnt a run_lease, a
re-enqueue under the same model name after an abort or a job enqueued out of name order all
compare correctly. A row the driver did not create gets a name no model state has.

**Mutants** (`ringq_proof.mutants`) are installed into the schema; their client flags
(post-commit steps) run as separate transactions after the step's transaction, and the
abstraction is compared after the step's own commit and again after each post-commit step.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from ringq.admin import cancel_call, dlq_retry_call
from ringq.backoff import Backoff
from ringq.client import claim_call, complete_call, enqueue_call, fail_call, heartbeat_call, translate
from ringq.errors import MaintenanceBusy, PruneBlocked, RingqError
from ringq.install import install
from ringq.maintenance import promote_call, prune_call, rescue_call, rotate_call
from ringq.sqlfiles import Call
from ringq.types import Completion, Failure, Job
from ringq_proof import mutants
from ringq_proof.abstraction import Names, abstract
from ringq_proof.model import Config
from ringq_proof.model.state import Att, State

QUEUE = "q"
STEP = 100.0  # seconds of clock per path step
NEVER = 500_000.0  # a lease / delay beyond any path (ringq refuses leases over a week)
LOCK_TIMEOUT_MS = 200
T0 = datetime(2030, 1, 1, tzinfo=UTC)
NO_BACKOFF = Backoff(base=0.0, factor=1.0, cap=0.0, jitter=0.0)  # rescue re-enqueues at once
# transactions that can be killed before COMMIT (the others are no transaction, or the commit)
TRANSACTIONS = frozenset(
    {
        "Enqueue",
        "EnqueueBegin",
        "Claim",
        "Complete",
        "Fail",
        "Heartbeat",
        "Rescue",
        "Cancel",
        "Promote",
        "DlqRetry",
        "RotateQueue",
        "RotateClaim",
        "PruneQueue",
        "PruneClaim",
    }
)


def execute_translated(conn: psycopg.Connection, query: Any, params: Any) -> list[Any]:
    """Run one statement as the replay and the stateful harness drive the SQL: its rows (none for
    a statement without a result); on an error, the open transaction is rolled back and the
    error raised as the typed ringq error it stands for (`ringq.errors.translate`)."""
    try:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []
    except psycopg.Error as exc:
        if not conn.autocommit or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            with contextlib.suppress(Exception):
                conn.rollback()
        typed = translate(exc)
        if typed is None:
            raise
        raise typed from exc


class Crashed(Exception):
    """The step's transaction was killed before COMMIT (the crash point under test)."""


class Diverged(AssertionError):
    """The real system left the model: a step's outcome is not the model's step."""


def realizable(s: State, action: str, params: dict[str, Any]) -> str | None:
    """Whether ringq can be driven along this edge of the model (None), or why not."""
    if action in ("AdvanceCursor", "WriteResult"):
        return f"{action}: a bug switch's post-commit step, not a ringq transaction"
    if action == "Rescue":
        first = min(s.expired, key=lambda a: a.lease)
        if params["lease"] != first.lease:
            return "Rescue of a later lease first: rescue.sql takes expired attempts in run_lease order"
    return None


class FixedNames(Names):
    """Names the driver assigned; anything else gets a name no model state uses."""

    def job(self, job_id: int) -> str:
        if job_id not in self.jobs:
            self.jobs[job_id] = f"unknown_job_{job_id}"
        return self.jobs[job_id]

    def lease(self, run_lease: int | None) -> int:
        if run_lease is None:
            return 0
        if run_lease not in self.leases:
            self.leases[run_lease] = 1_000_000 + run_lease
        return self.leases[run_lease]


@dataclass
class Timing:
    """Per step of a path: the lease of a claim/heartbeat, the retry delay of a fail."""

    lease: dict[int, float] = field(default_factory=dict)
    delay: dict[int, float] = field(default_factory=dict)


def plan_timing(steps: Sequence[tuple[str, dict[str, Any], State, State]], workers: Sequence[str]) -> Timing:
    """Leases and delays so that the clock passes each deadline at the path's Tick / Promote.

    `steps[i]` = (action, params, state before, state after)."""
    t = Timing()

    def first_after(i: int, action: str, key: str, value: Any) -> int | None:
        return next(
            (k for k in range(i + 1, len(steps)) if steps[k][0] == action and steps[k][1].get(key) == value),
            None,
        )

    for i, (action, params, before, after) in enumerate(steps):
        att: Att | None = None
        if action == "Claim":
            new = {Att(c.job, c.lease) for c in after.claims} - {Att(c.job, c.lease) for c in before.claims}
            att = next(iter(new), None)
        elif action == "Heartbeat":
            att = next(iter(before.held[list(workers).index(params["w"])]), None)
        if att is not None:
            k = first_after(i, "Tick", "lease", att.lease)
            t.lease[i] = NEVER if k is None else (k - i) * STEP - STEP / 2
        if action == "Fail":
            jobs = {d.job for d in after.deferred} - {d.job for d in before.deferred}
            if jobs:
                job = jobs.pop()
                k = first_after(i, "Promote", "job", job)
                t.delay[i] = NEVER if k is None else (k - i) * STEP - STEP / 2
            else:
                t.delay[i] = NEVER
    return t


class RingqSystem:
    """One real schema, its connections and the workers' memory; `apply` runs one model action."""

    def __init__(self, url: str, schema: str, cfg: Config, mutant: mutants.Mutant | None = None) -> None:
        self.url = url
        self.schema = schema
        self.cfg = cfg
        self.mutant = mutant
        self.flags = mutant.client if mutant else frozenset()
        self.admin = psycopg.connect(url, autocommit=True)
        install(self.admin, schema, cfg.qslots, cfg.cslots)
        if mutant is not None:
            mutants.install_mutant(self.admin, schema, mutant)
        self._seed = self._snapshot()
        self.producers: dict[str, psycopg.Connection] = {}
        self.reset()

    # -- schema reset (a checkpoint of the freshly installed schema) ---------------------------

    def _tables(self) -> list[str]:
        rows = self.admin.execute(
            """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'u') AND NOT c.relispartition
               ORDER BY 1""",
            (self.schema,),
        ).fetchall()
        tables = [r[0] for r in rows]
        refs = self.admin.execute(
            """SELECT c.relname, p.relname FROM pg_constraint k
               JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE k.contype = 'f' AND n.nspname = %s AND c.oid <> p.oid""",
            (self.schema,),
        ).fetchall()
        # referencing tables first (deleted before what they reference, re-filled after it)
        order: list[str] = []
        while len(order) < len(tables):
            for t in tables:
                if t not in order and all(c in order for c, p in refs if p == t and c in tables):
                    order.append(t)
        return order

    def _snapshot(self) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
        out = {}
        for t in self._tables():
            cur = self.admin.execute(
                sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(self.schema), sql.Identifier(t))
            )
            cols = [d.name for d in cur.description or []]
            out[t] = (cols, cur.fetchall())
        return out

    def reset(self) -> None:
        """Back to the freshly installed schema: connections closed, every table as installed."""
        for c in self.producers.values():
            with contextlib.suppress(Exception):
                c.close()
        self.producers = {}
        s = sql.Identifier(self.schema)
        with self.admin.transaction():
            for t in self._seed:  # DELETE: a handful of rows, cheaper than TRUNCATE's new files
                self.admin.execute(sql.SQL("DELETE FROM {}.{}").format(s, sql.Identifier(t)))
            for t, (cols, rows) in reversed(self._seed.items()):
                if not rows:
                    continue
                q = sql.SQL("INSERT INTO {}.{} ({}) VALUES ({})").format(
                    s,
                    sql.Identifier(t),
                    sql.SQL(", ").join(map(sql.Identifier, cols)),
                    sql.SQL(", ").join(sql.Placeholder() * len(cols)),
                )
                with self.admin.cursor() as cur:
                    cur.executemany(q, rows)
        old = getattr(self, "conns", {})
        self.conns = {}
        for w in (*self.cfg.workers, "maintenance"):
            keep: psycopg.Connection | None = old.get(w)
            if (
                keep is None
                or keep.closed
                or keep.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
            ):
                keep = self._connect(w)
            self.conns[w] = keep
        self.names = FixedNames()
        self.job_ids: dict[str, int] = {}  # model job -> its current job_id
        self.held: dict[str, tuple[int, int] | None] = {w: None for w in self.cfg.workers}
        self.step_no = 0
        self.aborts = 0

    def close(self) -> None:
        for c in [*self.conns.values(), *self.producers.values()]:
            with contextlib.suppress(Exception):
                c.close()
        with contextlib.suppress(Exception):
            self.admin.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema))
            )
        with contextlib.suppress(Exception):
            self.admin.close()

    # -- plumbing -----------------------------------------------------------------------------

    def _connect(self, who: str, **kw: Any) -> psycopg.Connection:
        kw.setdefault("autocommit", True)
        return psycopg.connect(self.url, application_name=f"ringq-exhaustive-{self.schema}-{who}"[:63], **kw)

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.step_no * STEP)

    def _kill(self, conn: psycopg.Connection) -> None:
        """pg_terminate_backend, then wait until the backend is gone (its locks released). Polling
        pg_stat_activity is ~10x faster than pg_terminate_backend's own timeout, which sleeps in
        100 ms steps."""
        pid = conn.info.backend_pid
        self.admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 5.0
        gone = "SELECT 1 FROM pg_stat_activity WHERE pid = %s UNION ALL SELECT 1 FROM pg_locks WHERE pid = %s"
        while self.admin.execute(gone, (pid, pid)).fetchone():
            if time.monotonic() > deadline:
                raise Diverged(f"backend {pid} did not exit within 5 s of pg_terminate_backend")
            time.sleep(0.001)
        with contextlib.suppress(Exception):
            conn.close()

    def _exec(self, conn: psycopg.Connection, query: Any, params: Any) -> list[Any]:
        return execute_translated(conn, query, params)

    def run(self, who: str, call: Call[Any], crash: bool = False) -> Any:
        """`call` as one transaction on `who`'s connection; with `crash`, killed before COMMIT.
        Maintenance that could not take its locks at once (`MaintenanceBusy`: a backend killed
        a moment ago may still be releasing them) is retried, as the leader retries later."""
        for _ in range(50):
            try:
                return self._run(who, call, crash)
            except MaintenanceBusy:
                time.sleep(0.01)
        return self._run(who, call, crash)

    def _run(self, who: str, call: Call[Any], crash: bool) -> Any:
        conn = self.conns[who]
        if crash:
            conn.execute("BEGIN")
            self._exec(conn, call.query, call.params)
            self._kill(conn)
            self.conns[who] = self._connect(who)  # the client survives the dropped connection
            raise Crashed(who)
        return call.parse(self._exec(conn, call.query, call.params))

    def abstraction(self) -> dict[str, Any]:
        return abstract(self.admin, self.schema, self.names, self.now())

    def held_attempts(self) -> tuple[frozenset[Att], ...]:
        return tuple(
            frozenset()
            if (k := self.held[w]) is None
            else frozenset({Att(self.names.job(k[0]), self.names.lease(k[1]))})
            for w in self.cfg.workers
        )

    def _call(self, name: str, *args: Any) -> Call[Any]:
        ident = sql.Identifier(self.schema)
        placeholders = sql.SQL(", ").join(sql.Placeholder() * len(args))
        query = sql.SQL("SELECT {}.{}({})").format(ident, sql.Identifier(name), placeholders)
        return Call(query.as_string(None), args, lambda rows: rows[0][0] if rows else None)

    # -- one model action -----------------------------------------------------------------------

    def apply(
        self,
        action: str,
        params: dict[str, Any],
        before: State,
        after: State,
        timing: Timing,
        index: int,
        crash: bool = False,
        post_check: Callable[[], object] | None = None,
    ) -> None:
        """Run the real step(s) of `action`; `post_check` runs between the step's own commit and
        any post-commit step of a mutant. With `crash`, raise `Crashed` after killing the step's
        transaction before COMMIT."""
        self.step_no = index + 1  # the clock of this step (a Tick is just the clock moving)
        fn = getattr(self, f"_do_{action}", None)
        if fn is None:
            raise Diverged(f"no real step for {action}")
        fn(params, before, after, timing, index, crash, post_check or (lambda: None))

    def _job(self, j: str, ids: list[int]) -> None:
        for i in ids:
            self.names.jobs[i] = j
            self.job_ids[j] = i

    def _new_job(self) -> Job:
        return Job("t", {}, queue=QUEUE, priority=0, max_attempts=self.cfg.max_attempts)

    def _do_Enqueue(
        self, p: dict[str, Any], b: State, a: State, t: Timing, i: int, crash: bool, pc: Callable[[], object]
    ) -> None:
        ids = self.run(
            "maintenance", enqueue_call(self.schema, self.now(), [self._new_job()], 1_000_000), crash
        )
        self._job(p["j"], ids)

    def _do_EnqueueBegin(
        self, p: dict[str, Any], b: State, a: State, t: Timing, i: int, crash: bool, pc: Callable[[], object]
    ) -> None:
        j = p["j"]
        conn = self._connect(f"p-{j}", autocommit=False, options=f"-c lock_timeout={LOCK_TIMEOUT_MS * 10}")
        call = enqueue_call(self.schema, self.now(), [self._new_job()], 1_000_000, staged=True)
        ids = call.parse(self._exec(conn, call.query, call.params))
        if crash:
            self._kill(conn)
            raise Crashed(j)
        self.producers[j] = conn
        self._job(j, ids)

    def _do_EnqueueCommit(
        self, p: dict[str, Any], b: State, a: State, t: Timing, i: int, crash: bool, pc: Callable[[], object]
    ) -> None:
        conn = self.producers.pop(p["j"])
        conn.commit()
        conn.close()

    def _do_EnqueueAbort(
        self, p: dict[str, Any], b: State, a: State, t: Timing, i: int, crash: bool, pc: Callable[[], object]
    ) -> None:
        conn = self.producers.pop(p["j"])
        self.aborts += 1
        if self.aborts % 2:
            conn.rollback()
            conn.close()
        else:
            self._kill(conn)  # enqueue.before_commit: the caller's backend dies

    def _do_Claim(
        self, p: dict[str, Any], b: State, a: State, t: Timing, i: int, crash: bool, pc: Callable[[], object]
    ) -> None:
        w = p["w"]
        got = self.run(w, claim_call(self.schema, self.now(), w, [QUEUE], 1, t.lease.get(i, NEVER)), crash)
        if got:
            c = got[0]
            self.names.leases[c.run_lease] = b.next_lease
            self.held[w] = (c.job_id, c.run_lease)
            if "advance_after_commit" in self.flags:  # MUTANT cursor_after_commit
                pc()
                self.run(w, self._call("_mutant_advance", [c.job_id], [c.run_lease]))

    def _do_Complete(
        self, p: dict[str, Any], b: State, a: State, t: Timing, i: int, crash: bool, pc: Callable[[], object]
    ) -> None:
        w = p["w"]
        key = self.held[w]
        if key is None:
            raise Diverged(f"Complete({w}): the worker holds nothing")
        result = {"job": key[0], "lease": key[1]}
        [outcome] = self.run(
            w, complete_call(self.schema, self.now(), [Completion(key[0], key[1], result)], 1_000_000), crash
        )
        self.held[w] = None
        if outcome is None and "result_after_closure" in self.flags:  # MUTANT result_after_closure
            pc()
            self.run(w, self._call("_mutant_write_result", [key[0]], [key[1]], [json.dumps(result)]))

    def _do_Fail(
        self, p: dict[str, Any], b: State, a: State, t: Timing, i: int, crash: bool, pc: Callable[[], object]
    ) -> None:
        w = p["w"]
        key = self.held[w]
        if key is None:
            raise Diverged(f"Fail({w}): the worker holds nothing")
        item = Failure(key[0], key[1], "boom", retry_delay=t.delay.get(i, NEVER), dead_letter=False)
        [outcome] = self.run(w, fail_call(self.schema, self.now(), [item], NO_BACKOFF), crash)
        self.held[w] = None
        if isinstance(outcome, RingqError):
            raise Diverged(f"Fail({w}): {outcome}")

    def _do_Heartbeat(
        self, p: dict[str, Any], b: State, a: State, t: Timing, i: int, crash: bool, pc: Callable[[], object]
    ) -> None:
        w = p["w"]
        key = self.held[w]
        if key is None:
            raise Diverged(f"Heartbeat({w}): the worker holds nothing")
        lost = self.run(
            w, heartbeat_call(self.schema, self.now(), [key], t.lease.get(i, NEVER), None, 1_000_000), crash
        )
        if lost:
            raise Diverged(f"Heartbeat({w}): lease lost {lost}")

    def _do_Crash(
        self, p: dict[str, Any], b: State, a: State, t: Timing, i: int, crash: bool, pc: Callable[[], object]
    ) -> None:
        w = p["w"]
        with contextlib.suppress(Exception):
            self.conns[w].close()
        self.conns[w] = self._connect(w)
        self.held[w] = None

    def _do_Tick(
        self, p: dict[str, Any], b: State, a: State, t: Timing, i: int, crash: bool, pc: Callable[[], object]
    ) -> None:
        return  # the clock moved to this step's time: the attempt's deadline is behind it

    def _do_Rescue(
        self, p: dict[str, Any], b: State, a: State, t: Timing, i: int, crash: bool, pc: Callable[[], object]
    ) -> None:
        n = self.run("maintenance", rescue_call(self.schema, self.now(), NO_BACKOFF, limit=1), crash)
        if n != 1:
            raise Diverged(f"Rescue: rescue.sql rescued {n} attempts, the model one")

    def _do_Cancel(
        self, p: dict[str, Any], b: State, a: State, t: Timing, i: int, crash: bool, pc: Callable[[], object]
    ) -> None:
        self.run("maintenance", cancel_call(self.schema, self.now(), self.job_ids[p["j"]]), crash)

    def _do_Promote(
        self, p: dict[str, Any], b: State, a: State, t: Timing, i: int, crash: bool, pc: Callable[[], object]
    ) -> None:
        self.run("maintenance", promote_call(self.schema, self.now()), crash)

    def _do_DlqRetry(
        self, p: dict[str, Any], b: State, a: State, t: Timing, i: int, crash: bool, pc: Callable[[], object]
    ) -> None:
        self.run("maintenance", dlq_retry_call(self.schema, self.now(), [self.job_ids[p["j"]]], None), crash)

    def _rotate(self, ring: str, crash: bool) -> None:
        self.run("maintenance", rotate_call(self.schema, ring, LOCK_TIMEOUT_MS), crash)

    def _do_RotateQueue(
        self, p: dict[str, Any], b: State, a: State, t: Timing, i: int, crash: bool, pc: Callable[[], object]
    ) -> None:
        self._rotate("queue", crash)

    def _do_RotateClaim(
        self, p: dict[str, Any], b: State, a: State, t: Timing, i: int, crash: bool, pc: Callable[[], object]
    ) -> None:
        self._rotate("claim", crash)

    def _prune(self, ring: str, k: int, crash: bool) -> None:
        got = self.run("maintenance", prune_call(self.schema, ring, LOCK_TIMEOUT_MS), crash)
        if got != k:
            raise Diverged(f"prune({ring}) pruned slot {got}, the model slot {k}")

    def _do_PruneQueue(
        self, p: dict[str, Any], b: State, a: State, t: Timing, i: int, crash: bool, pc: Callable[[], object]
    ) -> None:
        self._prune("queue", p["k"], crash)

    def _do_PruneClaim(
        self, p: dict[str, Any], b: State, a: State, t: Timing, i: int, crash: bool, pc: Callable[[], object]
    ) -> None:
        self._prune("claim", p["k"], crash)

    # -- the doctor: every SQL invariant check of ringq.invariants on the real rows ------------------

    def doctor(self) -> list[str]:
        """The SQL checks (`ringq doctor`) that fail on the current rows (a legal state: none)."""
        from ringq.invariants import run_check, run_checks

        bad = [r for r in run_checks(self.admin, self.schema) if not r.ok]
        if "split_dlq_evidence" in self.flags:  # MUTANT doctor_split_dlq_evidence: the old checks
            from ringq_proof.mutants.doctor import SPLIT_DLQ_EVIDENCE_CHECKS

            bad += [
                r for c in SPLIT_DLQ_EVIDENCE_CHECKS if not (r := run_check(self.admin, self.schema, c)).ok
            ]
        return [f"{r.check.invariant} / {r.check.name}" for r in bad]

    # -- refusals: what the model does not allow, the database must refuse ------------------------

    def probe_refusals(self, s: State, enabled: set[str]) -> list[str]:
        """Run the maintenance transactions the model has disabled in `s` (prune of either ring,
        rescue): each must change nothing. Returns what acted although the model forbids it."""
        bad = []
        for ring, action in (("queue", "PruneQueue"), ("claim", "PruneClaim")):
            if action in enabled:
                continue
            try:
                k = self.run("maintenance", prune_call(self.schema, ring, LOCK_TIMEOUT_MS))
            except (PruneBlocked, MaintenanceBusy):
                continue
            if k is not None:
                bad.append(f"prune({ring}) truncated slot {k}, which the model's {action} guard forbids")
        if "Rescue" not in enabled:
            n = self.run("maintenance", rescue_call(self.schema, self.now(), NO_BACKOFF, limit=1))
            if n:
                bad.append(f"rescue.sql rescued {n} attempt(s) where the model has none expired")
        return bad
