"""Drive one real ringq schema the way simulated workers and a maintenance leader would, with
crashes at the named crash points of spec/MAPPING.md, and record an execution log.

One connection per simulated worker (and one for maintenance). A crash `before_commit` opens a
transaction on the victim's connection, runs the transaction's function, and terminates the
backend from the admin connection before COMMIT (`pg_terminate_backend`): the database must
roll everything back. A crash `after_commit` lets the transaction commit and then drops the
worker's in-memory state (its held attempts and any post-commit step) — a worker restart.
"""

from __future__ import annotations

import contextlib
import enum
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from ringq.admin import cancel_call, dlq_purge_call, dlq_retry_call
from ringq.backoff import Backoff
from ringq.client import (
    claim_call,
    complete_call,
    enqueue_call,
    fail_call,
    heartbeat_call,
)
from ringq.clock import ManualClock
from ringq.errors import RingqError
from ringq.install import install
from ringq.maintenance import promote_call, prune_call, rescue_call, rotate_call
from ringq.sqlfiles import Call
from ringq.types import ClaimedJob, Completion, Failure, Job
from ringq_proof import mutants
from ringq_proof.execlog import ExecLog
from ringq_proof.exhaustive.driver import execute_translated

LEASE = 30.0
MAX_ATTEMPTS = 2
MAX_ATTEMPTS_HIGH = 4  # some jobs get more attempts (drawn per batch): backoff at attempt >= 3
RETRY_DELAY = 5.0
QUEUE = "q"
QUEUES = ("q", "r")  # several queues (lanes = queue x priority)
LOCK_TIMEOUT_MS = 200
# Every harness connection waits at most this long for a lock: an in-flight step (a transaction
# left open across other steps) may hold what a later step needs; that step then fails with
# MaintenanceBusy (55P03) instead of hanging the single-threaded machine.
SESSION_LOCK_TIMEOUT_MS = 300
# Rescue re-enqueues at once (as the spec's Rescue does); fail retries after RETRY_DELAY, or by
# backoff (`Fail(backoff=True)`). The factor is huge so that attempt 3 would overflow a formula
# that does not saturate (issue 13): base 0 keeps every delay 0.
BACKOFF = Backoff(base=0.0, factor=1e300, cap=0.0, jitter=0.0)


class Crash(enum.StrEnum):
    NONE = "none"
    BEFORE_COMMIT = "before_commit"
    AFTER_COMMIT = "after_commit"


class Crashed(Exception):
    """The transaction was killed before COMMIT (nothing it did may survive)."""


@dataclass
class OpenEnqueue:
    """A producer's enqueue transaction, open across other steps (staged jobs, ADR 0011)."""

    conn: psycopg.Connection
    jobs: list[tuple[int, int, int]] = field(default_factory=list)  # (job_id, batch, index)


@dataclass
class InFlight:
    """A step whose transaction began (its clock read) and is still open across other steps
    (`conn` set), or whose clock was read but whose transaction has not started (`conn` None:
    the call is sent at `end`, e.g. a claim that stalled before the pool handed it a connection)."""

    kind: str  # claim | complete | fail | rescue
    who: str
    call: Call[Any]
    conn: psycopg.Connection | None = None
    result: Any = None
    key: tuple[int, int] | None = None


@dataclass
class SimWorker:
    name: str
    conn: psycopg.Connection
    held: dict[tuple[int, int], ClaimedJob] = field(default_factory=dict)
    executed: set[tuple[int, int]] = field(default_factory=set)


class Harness:
    def __init__(
        self,
        url: str,
        schema: str,
        *,
        workers: Sequence[str] = ("w1", "w2"),
        mutant: mutants.Mutant | None = None,
        queue_slots: int = 2,
        claim_slots: int = 2,
    ) -> None:
        self.url = url
        self.schema = schema
        self.mutant = mutant
        self.flags = mutant.client if mutant else frozenset()
        self.clock = ManualClock()
        self.log = ExecLog()
        self.admin = psycopg.connect(url, autocommit=True)
        install(self.admin, schema, queue_slots, claim_slots)
        if mutant is not None:
            mutants.install_mutant(self.admin, schema, mutant)
        self.maint = self._connect("maintenance")
        self.workers = {w: SimWorker(w, self._connect(w)) for w in workers}
        self.batches = 0
        self.results: dict[tuple[int, int], Any] = {}  # committed completions -> result sent
        self.completed_at: dict[int, int] = {}  # job -> lease whose completion committed
        self.pending_prune: dict[str, bool] = {}  # slow leader: ring -> guard passed
        self.jobs: list[int] = []  # acknowledged job ids, in order
        self.open_enqueues: dict[str, OpenEnqueue] = {}  # producer -> its open transaction
        self.inflight: dict[str, InFlight] = {}  # "kind:who" -> the open step
        self.rescue_dlq_logged: set[tuple[int, int]] = set()

    # -- plumbing ---------------------------------------------------------------------------

    def _connect(self, name: str) -> psycopg.Connection:
        return psycopg.connect(
            self.url,
            autocommit=True,
            application_name=f"ringq-stateful-{self.schema}-{name}",
            options=f"-c lock_timeout={SESSION_LOCK_TIMEOUT_MS}",
        )

    def close(self) -> None:
        for f in self.inflight.values():
            if f.conn is not None:
                with contextlib.suppress(Exception):
                    f.conn.close()
        for o in self.open_enqueues.values():
            with contextlib.suppress(Exception):
                o.conn.close()
        for w in self.workers.values():
            with contextlib.suppress(Exception):
                w.conn.close()
        with contextlib.suppress(Exception):
            self.maint.close()
        with contextlib.suppress(Exception):
            self.admin.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema))
            )
        with contextlib.suppress(Exception):
            self.admin.close()

    def q(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run a read on the admin connection; `{s}` is the schema."""
        composed = sql.SQL(query).format(s=sql.Identifier(self.schema))
        cur = self.admin.execute(composed, params or None)
        return cur.fetchall() if cur.description else []

    def _kill(self, conn: psycopg.Connection) -> None:
        pid = conn.info.backend_pid
        self.admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        with contextlib.suppress(Exception):
            conn.close()

    def _exec(self, conn: psycopg.Connection, query: str | sql.Composed, params: Any) -> list[Any]:
        return execute_translated(conn, query, params)

    def run(self, who: str, call: Call[Any], crash: Crash = Crash.NONE) -> Any:
        """Run `call` as one transaction on `who`'s connection; `Crashed` when killed before commit."""
        conn = self.maint if who == "maintenance" else self.workers[who].conn
        if crash is Crash.BEFORE_COMMIT:
            conn.execute("BEGIN")
            self._exec(conn, call.query, call.params)  # an error rolls back and raises
            self._kill(conn)
            self._reconnect(who)
            raise Crashed(who)
        return call.parse(self._exec(conn, call.query, call.params))

    def _reconnect(self, who: str) -> None:
        if who == "maintenance":
            self.maint = self._connect("maintenance")
        else:
            w = self.workers[who]
            with contextlib.suppress(Exception):
                w.conn.close()
            w.conn = self._connect(who)
            w.held.clear()
            w.executed.clear()

    def restart(self, who: str) -> None:
        """The worker process dies and comes back: connection and memory gone (attempts stay open),
        and so are its in-flight transactions (killed) and stalled calls."""
        for name in [n for n, f in self.inflight.items() if f.who == who]:
            self.end(name, "kill")
        self._reconnect(who)

    # -- workload ---------------------------------------------------------------------------

    def enqueue(
        self,
        n: int,
        priority: int,
        delay: float | None,
        crash: Crash,
        *,
        queue: str = QUEUE,
        key: str | None = None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> list[int]:
        self.batches += 1
        b = self.batches
        jobs = [
            Job(
                "t",
                {"b": b, "i": i},
                queue=queue,
                priority=priority,
                delay=delay,
                max_attempts=max_attempts,
                dedup_key=key,
            )
            for i in range(n)
        ]
        now = self.clock.now()
        if "enqueue_per_job" in self.flags:  # MUTANT enqueue_not_atomic: one transaction per job
            ids: list[int] = []
            for k, job in enumerate(jobs):
                call = enqueue_call(self.schema, now, [job], 1_000_000)
                last = k == len(jobs) - 1
                try:
                    ids += self.run("w1", call, crash if last else Crash.NONE)
                except Crashed:
                    self.log.add("enqueue_attempt", detail={"b": b, "n": n})
                    raise
        else:
            call = enqueue_call(self.schema, now, jobs, 1_000_000)
            try:
                ids = self.run(
                    "w1", call, Crash.BEFORE_COMMIT if crash is Crash.BEFORE_COMMIT else Crash.NONE
                )
            except Crashed:
                self.log.add("enqueue_attempt", detail={"b": b, "n": n})
                raise
        for i, j in enumerate(ids):
            if j not in self.jobs:  # a dedup key names a live job: absorbed, not a new job
                self.log.add("enqueue", job_id=j, detail={"b": b, "i": i})
                self.jobs.append(j)
        return ids

    def enqueue_begin(
        self, producer: str, n: int, priority: int, isolation: str = "read committed"
    ) -> list[int]:
        """One more enqueue statement in `producer`'s transaction (opened if none is): the jobs are
        staged, invisible to everyone, until `enqueue_end` commits it (TLA+ EnqueueBegin)."""
        self.batches += 1
        b = self.batches
        jobs = [
            Job("t", {"b": b, "i": i}, queue=QUEUE, priority=priority, max_attempts=MAX_ATTEMPTS)
            for i in range(n)
        ]
        o = self.open_enqueues.get(producer)
        if o is None:
            # lock_timeout: a (mutant) statement that waits on another open transaction errors
            # instead of hanging the single-threaded machine
            conn = psycopg.connect(
                self.url,
                application_name=f"ringq-stateful-{self.schema}-{producer}",
                options=f"-c lock_timeout={LOCK_TIMEOUT_MS * 10}",
            )
            o = self.open_enqueues[producer] = OpenEnqueue(conn)
            # the caller's transaction at its own isolation level (ringq needs READ COMMITTED)
            conn.execute(sql.SQL("SET TRANSACTION ISOLATION LEVEL {}").format(sql.SQL(isolation.upper())))
        call = enqueue_call(self.schema, self.clock.now(), jobs, 1_000_000, staged=True)
        try:
            ids: list[int] = call.parse(self._exec(o.conn, call.query, call.params))
        except Exception:
            # refused (RQ005) or busy: the caller's transaction is aborted, with every job in it
            self.open_enqueues.pop(producer, None)
            with contextlib.suppress(Exception):
                o.conn.close()
            raise
        o.jobs += [(j, b, i) for i, j in enumerate(ids)]
        return ids

    def enqueue_end(self, producer: str, how: str) -> list[int]:
        """End `producer`'s open transaction: 'commit' (EnqueueCommit: the staged jobs are
        sequenced into the ready ring), 'rollback' or 'kill' (EnqueueAbort: backend terminated)."""
        o = self.open_enqueues.pop(producer, None)
        if o is None:
            return []
        if how == "commit":
            try:
                o.conn.commit()  # the deferred trigger sequences the staged jobs now
            except psycopg.Error:
                o.conn.close()
                return []  # the commit failed: aborted, none of its jobs may ever run
            o.conn.close()
            for j, b, i in o.jobs:
                self.log.add("enqueue", job_id=j, detail={"b": b, "i": i})
            ids = [j for j, _, _ in o.jobs]
            self.jobs += ids
            return ids
        if how == "kill":
            self._kill(o.conn)
        else:
            o.conn.rollback()
            o.conn.close()
        return []  # definitely aborted: none of its jobs may ever run (not an enqueue_attempt)

    def batch_visible(self, batch: int) -> int:
        rows = self.q(
            """SELECT count(DISTINCT job_id) FROM (
                   SELECT job_id, payload FROM {s}.ready UNION ALL SELECT job_id, payload FROM {s}.deferred) t
               WHERE payload->>'b' = %s""",
            str(batch),
        )
        return int(rows[0][0])

    def claim(self, who: str, limit: int, crash: Crash) -> list[ClaimedJob]:
        w = self.workers[who]
        call = claim_call(self.schema, self.clock.now(), who, None, limit, LEASE)
        got: list[ClaimedJob] = self.run(who, call, crash)
        if "advance_after_commit" in self.flags and got and crash is not Crash.AFTER_COMMIT:
            # MUTANT cursor_after_commit: the post-commit step, lost when the worker dies first
            self._exec(
                w.conn,
                sql.SQL("SELECT {}._mutant_advance(%s, %s)").format(sql.Identifier(self.schema)),
                ([c.job_id for c in got], [c.run_lease for c in got]),
            )
        if crash is Crash.AFTER_COMMIT:
            self.restart(who)
            return got
        for c in got:
            w.held[(c.job_id, c.run_lease)] = c
        return got

    def execute(self, who: str, key: tuple[int, int]) -> None:
        w = self.workers[who]
        c = w.held[key]
        self.log.add(
            "execute", job_id=c.job_id, run_lease=c.run_lease, worker=who, attempt=c.attempt, detail=c.payload
        )
        w.executed.add(key)

    def complete_call(self, key: tuple[int, int], dup: bool = False) -> Call[list[RingqError | None]]:
        job_id, lease = key
        result = {"job": job_id, "lease": lease}
        items = [Completion(job_id, lease, result)]
        if dup:  # the same attempt twice in one batch (another result): only the first may count
            items.append(Completion(job_id, lease, {"job": job_id, "lease": lease, "dup": True}))
        return complete_call(self.schema, self.clock.now(), items, 1_000_000)

    def complete(
        self, who: str, key: tuple[int, int], crash: Crash, *, dup: bool = False
    ) -> RingqError | None:
        job_id, lease = key
        self.log.add("complete_sent", job_id=job_id, run_lease=lease, worker=who)
        outcomes = self.run(who, self.complete_call(key, dup), crash)
        return self.completed(who, key, outcomes, crash)

    def completed(
        self, who: str, key: tuple[int, int], outcomes: list[RingqError | None], crash: Crash = Crash.NONE
    ) -> RingqError | None:
        """Bookkeeping after a complete call committed with these per-item outcomes."""
        w = self.workers[who]
        job_id, lease = key
        result = {"job": job_id, "lease": lease}
        outcome, extra = outcomes[0], outcomes[1:]
        for dup in extra:
            if dup is None:  # both items answered 'completed': two terminal rows were written
                self.log.add("complete", job_id=job_id, run_lease=lease, worker=who, detail=result)
        if outcome is None:
            self.results[key] = result
            self.completed_at.setdefault(job_id, lease)
            if "result_after_closure" in self.flags and crash is not Crash.AFTER_COMMIT:
                # MUTANT result_after_closure: the result goes in later, in its own transaction
                self._exec(
                    w.conn,
                    sql.SQL("SELECT {}._mutant_write_result(%s, %s, %s)").format(sql.Identifier(self.schema)),
                    ([job_id], [lease], [json.dumps(result)]),
                )
            self.log.add("complete", job_id=job_id, run_lease=lease, worker=who, detail=result)
        if crash is Crash.AFTER_COMMIT:
            self.restart(who)
        else:
            w.held.pop(key, None)
            w.executed.discard(key)
        return outcome

    def fail_call(self, key: tuple[int, int], dead_letter: bool, backoff: bool = False) -> Call[Any]:
        job_id, lease = key
        delay = None if backoff else RETRY_DELAY
        item = Failure(job_id, lease, "boom", retry_delay=delay, dead_letter=dead_letter)
        return fail_call(self.schema, self.clock.now(), [item], BACKOFF)

    def fail(
        self, who: str, key: tuple[int, int], dead_letter: bool, crash: Crash, *, backoff: bool = False
    ) -> str | RingqError:
        [outcome] = self.run(who, self.fail_call(key, dead_letter, backoff), crash)
        return self.failed(who, key, outcome, crash)

    def failed(
        self, who: str, key: tuple[int, int], outcome: str | RingqError, crash: Crash = Crash.NONE
    ) -> str | RingqError:
        w = self.workers[who]
        job_id, lease = key
        if outcome == "dlq":
            self.log.add("dlq", job_id=job_id, run_lease=lease, worker=who)
        elif outcome == "retried":
            self.log.add("fail", job_id=job_id, run_lease=lease, worker=who, detail="retried")
        if crash is Crash.AFTER_COMMIT:
            self.restart(who)
        else:
            w.held.pop(key, None)
            w.executed.discard(key)
        return outcome

    def heartbeat(self, who: str, crash: Crash) -> list[tuple[int, int]]:
        w = self.workers[who]
        if not w.held:
            return []
        call = heartbeat_call(self.schema, self.clock.now(), sorted(w.held), LEASE, None, 1_000_000)
        lost: list[tuple[int, int]] = self.run(who, call, crash)
        for key in lost:  # lease lost: the worker stops working on it
            w.held.pop(key, None)
            w.executed.discard(key)
        return lost

    def cancel(self, job_id: int, crash: Crash) -> str:
        out: str = self.run("maintenance", cancel_call(self.schema, self.clock.now(), job_id), crash)
        self.log.add("cancel", job_id=job_id, detail=out)
        return out

    def cancel_race(self, job_id: int) -> list[Any]:
        """Two cancels of one job from two connections at the same instant (threads): each slot
        holds the outcome or the exception."""
        conns = [self.maint, self._connect("maintenance-2")]
        barrier = threading.Barrier(2)
        out: list[Any] = [None, None]
        call = cancel_call(self.schema, self.clock.now(), job_id)

        def run(i: int) -> None:
            barrier.wait()
            try:
                out[i] = call.parse(self._exec(conns[i], call.query, call.params))
            except Exception as exc:
                out[i] = exc

        threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        conns[1].close()
        for o in out:
            if isinstance(o, str):
                self.log.add("cancel", job_id=job_id, detail=o)
        return out

    def dedup_shared(self) -> list[tuple[Any, ...]]:
        """(queue, key, jobs) for every dedup key that two live jobs carry (none may)."""
        return self.q(
            """WITH live AS (
                   SELECT r.queue, r.dedup_key, r.job_id FROM {s}.ready r
                   JOIN {s}.lanes l ON l.lane_id = r.lane_id
                   WHERE r.lane_seq >= l.claim_seq
                     AND NOT EXISTS (SELECT 1 FROM {s}.cancels k WHERE k.job_id = r.job_id)
                   UNION SELECT d.queue, d.dedup_key, d.job_id FROM {s}.deferred d
                   UNION SELECT r.queue, r.dedup_key, r.job_id FROM {s}.claims c
                   JOIN {s}.ready r ON r.slot = c.ready_slot AND r.lane_id = c.lane_id
                    AND r.lane_seq = c.lane_seq
                   WHERE NOT EXISTS (SELECT 1 FROM {s}.closures x WHERE x.job_id = c.job_id
                                     AND x.run_lease = c.run_lease AND x.slot = c.slot))
               SELECT queue, dedup_key, array_agg(DISTINCT job_id) FROM live
               WHERE dedup_key IS NOT NULL GROUP BY queue, dedup_key
               HAVING count(DISTINCT job_id) > 1"""
        )

    def dlq_retry(self, job_id: int, crash: Crash) -> int:
        n: int = self.run("maintenance", dlq_retry_call(self.schema, self.clock.now(), [job_id], None), crash)
        if n:
            self.log.add("dlq_retry", job_id=job_id)
        return n

    def promote(self, crash: Crash) -> int:
        n: int = self.run("maintenance", promote_call(self.schema, self.clock.now()), crash)
        return n

    def rescue(self, crash: Crash) -> int:
        n: int = self.run("maintenance", rescue_call(self.schema, self.clock.now(), BACKOFF), crash)
        self.rescued()
        return n

    def rescued(self) -> None:
        """Log the dead-lettering of every attempt a committed rescue sent to the DLQ."""
        rows = self.q(
            """SELECT d.job_id, d.run_lease FROM {s}.done d JOIN {s}.closures x
                 ON x.job_id = d.job_id AND x.run_lease = d.run_lease AND x.outcome = 'rescued'
               WHERE d.outcome = 'dlq'"""
        )
        for j, lease in rows:
            if (j, lease) not in self.rescue_dlq_logged:
                self.rescue_dlq_logged.add((j, lease))
                self.log.add("dlq", job_id=j, detail="rescue")

    def dlq_purge(self, job_id: int) -> int:
        n: int = self.run("maintenance", dlq_purge_call(self.schema, [job_id], None))
        if n:
            self.log.add("dlq_purge", job_id=job_id)
        return n

    # -- in-flight steps: begin (clock read, transaction open), other steps, then end --------

    def begin(
        self, kind: str, who: str, call: Call[Any], *, key: tuple[int, int] | None, open_tx: bool
    ) -> bool:
        """Start step `kind` of `who`; False when it failed at once (nothing in flight)."""
        name = f"{kind}:{who}"
        if name in self.inflight:
            return False
        f = InFlight(kind, who, call, key=key)
        if open_tx:
            conn = self._connect(f"inflight-{kind}-{who}")
            conn.execute("BEGIN")
            try:
                f.result = call.parse(self._exec(conn, call.query, call.params))
            except (RingqError, psycopg.Error):
                conn.close()
                raise
            f.conn = conn
        self.inflight[name] = f
        return True

    def end(self, name: str, how: str) -> InFlight | None:
        """End an in-flight step: 'commit' (a stalled call is sent now), 'rollback' or 'kill'.
        Returns it when it committed (its result set), else None."""
        f = self.inflight.pop(name, None)
        if f is None:
            return None
        if f.conn is None:  # stalled before its transaction: sent now, or never
            if how != "commit":
                return None
            conn = self.maint if f.who == "maintenance" else self.workers[f.who].conn
            f.result = f.call.parse(self._exec(conn, f.call.query, f.call.params))
            return f
        if how == "kill":
            self._kill(f.conn)
            return None
        try:
            if how == "commit":
                f.conn.commit()
                return f
            f.conn.rollback()
            return None
        except psycopg.Error:
            return None
        finally:
            with contextlib.suppress(Exception):
                f.conn.close()

    def rotate(self, ring: str, crash: Crash) -> int:
        n: int = self.run("maintenance", rotate_call(self.schema, ring, LOCK_TIMEOUT_MS), crash)
        return n

    def prune(self, ring: str, crash: Crash) -> int | None:
        n: int | None = self.run("maintenance", prune_call(self.schema, ring, LOCK_TIMEOUT_MS), crash)
        return n

    # A second, slow maintenance leader: prune in two halves. The real prune is one transaction,
    # so its "check" half is a no-op and its "act" half is the whole prune; only the
    # prune_check_then_act mutant really splits it (guard now, truncate later, no re-check).
    def slow_prune_check(self, ring: str) -> None:
        if "prune_check_then_act" in self.flags:
            call = Call(
                sql.SQL("SELECT {}.prune_guard(%s, %s)").format(sql.Identifier(self.schema)).as_string(None),
                (ring, LOCK_TIMEOUT_MS),
                lambda rows: rows[0][0],
            )
            self.pending_prune[ring] = self.run("maintenance", call) is not None
        else:
            self.pending_prune[ring] = True

    def slow_prune_act(self, ring: str) -> int | None:
        if not self.pending_prune.pop(ring, False):
            return None
        if "prune_check_then_act" in self.flags:
            call = Call(
                sql.SQL("SELECT {}.prune_unguarded(%s, %s)")
                .format(sql.Identifier(self.schema))
                .as_string(None),
                (ring, LOCK_TIMEOUT_MS),
                lambda rows: rows[0][0],
            )
            n: int | None = self.run("maintenance", call)
            return n
        return self.prune(ring, Crash.NONE)

    # -- log-side checks (facts the database does not keep) -----------------------------------

    def check_acknowledged_completion(self, key: tuple[int, int]) -> str | None:
        """FencedFinalize (log): the attempt told 'completed' is the one closed 'completed'."""
        job_id, lease = key
        rows = self.q(
            """SELECT x.outcome FROM {s}.claims c LEFT JOIN {s}.closures x
                 ON x.job_id = c.job_id AND x.run_lease = c.run_lease AND x.slot = c.slot
               WHERE c.job_id = %s AND c.run_lease = %s""",
            job_id,
            lease,
        )
        if rows and rows[0][0] != "completed":
            return (
                f"completion of attempt (job_id={job_id}, run_lease={lease}) was acknowledged, "
                f"but that attempt's closure is {rows[0][0]!r}"
            )
        return None

    def missing_results(self) -> list[str]:
        """TerminalHasResult (log): every committed completion's result is in its terminal row."""
        if not self.results:
            return []
        rows = self.q(
            "SELECT job_id, run_lease, result FROM {s}.done WHERE outcome = 'completed' AND job_id = ANY(%s)",
            [k[0] for k in self.results],
        )
        bad = []
        for job_id, lease, result in rows:
            sent = self.results.get((job_id, lease))
            if sent is not None and result != sent:
                bad.append(f"job {job_id} lease {lease}: terminal row has result {result!r}, sent {sent!r}")
        return bad
