"""Hypothesis state machine over a real ringq schema: the spec's actions as steps, crashes at
every named crash point, and after every step the SQL invariants (ringq.invariants) and the
execution-log invariants (ringq_proof.execlog) must hold.

Each step is one of the spec's actions (SegmentedStorage.tla), as a value that prints as a
runnable call: `state.act(Claim(who='w1', limit=2, crash='after_commit'))`. One rule draws
the action (rather than one Hypothesis rule per action) so that swarm testing, which switches
whole rules off per example, does not starve the long claim → complete → tick → rescue →
rotate → prune chains the interesting bugs need. `crash=` says where the transaction dies:
`before_commit` (backend terminated before COMMIT) or `after_commit` (committed, then the
worker loses its memory and its post-commit steps).

With RINGQ_MUTANT=<name> each example's schema gets that mutant (ringq_proof.mutants) installed; the
first violation is reported to RINGQ_MUTANT_REPORT (scripts/mutants.py reads it).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ringq.admin import JobAlreadyTerminal
from ringq.client import claim_call
from ringq.embedded import database_url
from ringq.errors import AttemptClosed, InvalidInput, JobNotFound, MaintenanceBusy, PruneBlocked, RingqError
from ringq.invariants import InvariantViolation, run_check, run_checks
from ringq.maintenance import rescue_call
from ringq.sqlfiles import Call
from ringq_proof import mutants
from ringq_proof.execlog import check_log
from ringq_proof.mutants.doctor import SPLIT_DLQ_EVIDENCE_CHECKS

from .harness import BACKOFF, LEASE, MAX_ATTEMPTS, MAX_ATTEMPTS_HIGH, QUEUES, Crash, Crashed, Harness
from .profiles import chosen

pytestmark = pytest.mark.stateful

WORKERS = ("w1", "w2")
NONE, BEFORE, AFTER = "none", "before_commit", "after_commit"

# -- the actions (spec names) ------------------------------------------------------------------


@dataclass(frozen=True)
class Enqueue:
    n: int
    priority: int = 0
    delay: float | None = None
    crash: str = NONE
    queue: str = "q"
    key: str | None = None  # dedup key (every job of the batch)
    max_attempts: int = MAX_ATTEMPTS


@dataclass(frozen=True)
class EnqueueBegin:
    """An enqueue statement in `producer`'s own transaction, which stays open across later steps.
    `isolation`: the caller's transaction level (ringq refuses all but READ COMMITTED, RQ005)."""

    producer: str
    n: int = 1
    priority: int = 0
    isolation: str = "read committed"


@dataclass(frozen=True)
class EnqueueEnd:
    """`producer`'s open transaction commits (EnqueueCommit), rolls back or is killed (EnqueueAbort)."""

    producer: str
    how: str = "commit"


@dataclass(frozen=True)
class Claim:
    who: str
    limit: int = 1
    crash: str = NONE


@dataclass(frozen=True)
class Execute:
    pick: int = 0  # index into every attempt some worker holds, sorted by (job_id, run_lease)


@dataclass(frozen=True)
class Complete:
    pick: int = 0
    crash: str = NONE
    dup: bool = False  # the same attempt twice in one complete_many batch


@dataclass(frozen=True)
class Fail:
    pick: int = 0
    dead_letter: bool = False
    crash: str = NONE
    backoff: bool = False  # retry delay by the (huge-factor) backoff instead of RETRY_DELAY


@dataclass(frozen=True)
class Begin:
    """An in-flight step: `kind` (claim | complete | fail | rescue) reads its clock now and, unless
    `stalled`, runs its statement in a transaction that stays open across later steps (`stalled`:
    the call waits before its transaction, e.g. for a pooled connection, and is sent at End)."""

    kind: str
    who: str = "w1"  # the worker (claim), or ignored: complete/fail take `pick`, rescue maintenance
    pick: int = 0
    stalled: bool = False


@dataclass(frozen=True)
class End:
    """The in-flight step `kind` of `who` commits, rolls back or is killed."""

    kind: str
    who: str = "w1"
    how: str = "commit"


@dataclass(frozen=True)
class DlqPurge:
    job: int


@dataclass(frozen=True)
class CancelRace:
    """Two cancels of one job at the same instant, from two connections (threads)."""

    job: int


@dataclass(frozen=True)
class Heartbeat:
    who: str
    crash: str = NONE


@dataclass(frozen=True)
class CrashWorker:
    who: str


@dataclass(frozen=True)
class Tick:
    seconds: float


@dataclass(frozen=True)
class Promote:
    crash: str = NONE


@dataclass(frozen=True)
class Rescue:
    crash: str = NONE


@dataclass(frozen=True)
class Cancel:
    job: int  # index into the acknowledged jobs (modulo their number)
    crash: str = NONE


@dataclass(frozen=True)
class DlqRetry:
    job: int
    crash: str = NONE


@dataclass(frozen=True)
class Rotate:
    ring: str
    crash: str = NONE


@dataclass(frozen=True)
class Prune:
    ring: str
    crash: str = NONE


@dataclass(frozen=True)
class SlowPruneCheck:
    """A second, slow maintenance leader starts a prune of `ring` ..."""

    ring: str


@dataclass(frozen=True)
class SlowPruneAct:
    """... and finishes it some steps later."""

    ring: str


Action = (
    Enqueue
    | EnqueueBegin
    | EnqueueEnd
    | Claim
    | Execute
    | Complete
    | Fail
    | Heartbeat
    | CrashWorker
    | Tick
    | Promote
    | Rescue
    | Cancel
    | DlqRetry
    | Rotate
    | Prune
    | SlowPruneCheck
    | SlowPruneAct
    | Begin
    | End
    | DlqPurge
    | CancelRace
)

who = st.sampled_from(WORKERS)
crash_any = st.sampled_from([NONE, NONE, NONE, BEFORE, AFTER])
crash_pre = st.sampled_from([NONE, NONE, NONE, BEFORE])
ring = st.sampled_from(["queue", "claim"])
producer = st.sampled_from(["p1", "p2"])
pick = st.integers(0, 3)

ENQUEUE = st.builds(
    Enqueue,
    n=st.integers(1, 3),
    priority=st.sampled_from([0, 1]),
    delay=st.sampled_from([None, None, 10.0]),
    crash=crash_pre,
    queue=st.sampled_from(list(QUEUES)),
    key=st.sampled_from([None, None, "K"]),
    max_attempts=st.sampled_from([MAX_ATTEMPTS, MAX_ATTEMPTS, MAX_ATTEMPTS_HIGH]),
)
CLAIM = st.builds(Claim, who=who, limit=st.integers(1, 3), crash=crash_any)
COMPLETE = st.builds(Complete, pick=pick, crash=crash_any, dup=st.sampled_from([False, False, True]))
INFLIGHT_KINDS = st.sampled_from(["claim", "claim", "complete", "fail", "rescue"])
BUILDERS: dict[str, st.SearchStrategy[Any]] = {
    "enqueue": ENQUEUE,
    "enqueue_begin": st.builds(
        EnqueueBegin,
        producer=producer,
        n=st.integers(1, 2),
        priority=st.sampled_from([0, 1]),
        isolation=st.sampled_from(["read committed"] * 4 + ["repeatable read", "serializable"]),
    ),
    "begin": st.builds(Begin, kind=INFLIGHT_KINDS, who=who, pick=pick, stalled=st.booleans()),
    "end": st.builds(
        End, kind=INFLIGHT_KINDS, who=who, how=st.sampled_from(["commit", "commit", "rollback", "kill"])
    ),
    "dlq_purge": st.builds(DlqPurge, job=st.integers(0, 9)),
    "cancel_race": st.builds(CancelRace, job=st.integers(0, 9)),
    "enqueue_end": st.builds(
        EnqueueEnd, producer=producer, how=st.sampled_from(["commit", "commit", "rollback", "kill"])
    ),
    "claim": CLAIM,
    "complete": COMPLETE,
    "tick": st.builds(Tick, seconds=st.sampled_from([31.0, 6.0])),
    "rescue": st.builds(Rescue, crash=crash_pre),
    "rotate": st.builds(Rotate, ring=ring, crash=crash_pre),
    "prune": st.builds(Prune, ring=ring, crash=crash_pre),
    "fail": st.builds(Fail, pick=pick, dead_letter=st.booleans(), crash=crash_any, backoff=st.booleans()),
    "execute": st.builds(Execute, pick=pick),
    "heartbeat": st.builds(Heartbeat, who=who, crash=crash_pre),
    "crash": st.builds(CrashWorker, who=who),
    "promote": st.builds(Promote, crash=crash_pre),
    "cancel": st.builds(Cancel, job=st.integers(0, 9), crash=crash_pre),
    "dlq_retry": st.builds(DlqRetry, job=st.integers(0, 9), crash=crash_pre),
    "slow_prune_check": st.builds(SlowPruneCheck, ring=ring),
    "slow_prune_act": st.builds(SlowPruneAct, ring=ring),
}
# Draw the kind first, weighted by repetition (a one_of over the builds strategies turned out to
# draw Claim for 3 % of the steps), then its arguments.
KINDS = (
    ["claim"] * 4
    + ["complete"] * 3
    + ["enqueue"] * 2
    + ["enqueue_begin"] * 2
    + ["enqueue_end"] * 2
    + ["tick"] * 2
    + ["rescue"] * 2
    + ["rotate"] * 2
    + ["prune"] * 2
    + ["begin"] * 2
    + ["end"] * 3
    + [
        "dlq_purge",
        "cancel_race",
        "fail",
        "execute",
        "heartbeat",
        "crash",
        "promote",
        "cancel",
        "dlq_retry",
        "slow_prune_check",
        "slow_prune_act",
    ]
)
ACTIONS: st.SearchStrategy[Any] = st.sampled_from(KINDS).flatmap(lambda kind: BUILDERS[kind])

_URL: str | None = None


def _url() -> str:
    global _URL
    if _URL is None:
        _URL = database_url()
    return _URL


class Violation(AssertionError):
    def __init__(self, invariant: str, message: str) -> None:
        self.invariant = invariant
        super().__init__(f"{invariant} violated: {message}")


class StorageMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.mutant = mutants.from_env()
        self.h = Harness(_url(), f"sm_{uuid.uuid4().hex[:12]}", workers=WORKERS, mutant=self.mutant)
        self.trace: list[str] = []

    def teardown(self) -> None:
        if os.environ.get("RINGQ_STATEFUL_TRACE"):
            print(" ; ".join(self.trace), flush=True)
        self.h.close()

    # -- the rules ------------------------------------------------------------------------------

    @initialize(action=ENQUEUE)
    def start(self, action: Enqueue) -> None:
        self.act(action)

    @rule(action=ACTIONS)
    def act(self, action: Action) -> None:
        self.trace.append(repr(action))
        handler = getattr(self, "do_" + type(action).__name__)
        try:
            handler(action)
        except MaintenanceBusy:
            pass  # a lock held by an in-flight step: this step's transaction failed, nothing changed
        except psycopg.errors.NumericValueOutOfRange as exc:
            # e.g. a backoff that overflows: fail() and every rescue() error, attempts stay open
            self._fail("EventuallyTerminal", f"{action!r} errors: {exc}")

    # -- helpers ---------------------------------------------------------------------------------

    def _fail(self, invariant: str, message: str) -> None:
        mutants.write_report(
            {
                "invariant": invariant,
                "message": message[:2000],
                "steps": len(self.trace),
                "trace": self.trace,
                "mutant": self.mutant.name if self.mutant else None,
            }
        )
        raise Violation(invariant, message)

    def _pick(self, pick: int) -> tuple[str, tuple[int, int]] | None:
        held = sorted((key, w.name) for w in self.h.workers.values() for key in w.held)
        if not held:
            return None
        key, name = held[pick % len(held)]
        return name, key

    def _job(self, index: int) -> int | None:
        return self.h.jobs[index % len(self.h.jobs)] if self.h.jobs else None

    def _check_not_completed_before(self, key: tuple[int, int]) -> None:
        job_id, lease = key
        done = self.h.completed_at.get(job_id)
        if done is not None and done != lease:
            self._fail(
                "NoDuplicateCompletion",
                f"job {job_id} is about to run again (run_lease {lease}) although its attempt "
                f"run_lease {done} completed",
            )

    def _execute(self, w: str, key: tuple[int, int]) -> None:
        if key not in self.h.workers[w].executed:
            self._check_not_completed_before(key)
            self.h.execute(w, key)

    # -- one handler per action --------------------------------------------------------------

    def do_Enqueue(self, a: Enqueue) -> None:
        try:
            self.h.enqueue(
                a.n,
                a.priority,
                a.delay,
                Crash(a.crash),
                queue=a.queue,
                key=a.key,
                max_attempts=a.max_attempts,
            )
        except Crashed:
            visible = self.h.batch_visible(self.h.batches)
            if visible not in (0, a.n):
                self._fail(
                    "BatchAtomic", f"batch {self.h.batches} of {a.n} jobs: {visible} visible after a crash"
                )

    def do_EnqueueBegin(self, a: EnqueueBegin) -> None:
        try:
            self.h.enqueue_begin(a.producer, a.n, a.priority, a.isolation)
        except InvalidInput:
            if a.isolation == "read committed":
                raise
        except psycopg.errors.SerializationFailure:
            pass  # the caller's REPEATABLE READ / SERIALIZABLE transaction lost a race: aborted

    def do_EnqueueEnd(self, a: EnqueueEnd) -> None:
        self.h.enqueue_end(a.producer, a.how)

    def do_Claim(self, a: Claim) -> None:
        try:
            self.h.claim(a.who, a.limit, Crash(a.crash))
        except Crashed:
            pass

    def do_Execute(self, a: Execute) -> None:
        found = self._pick(a.pick)
        if found is not None:
            self._execute(*found)

    def do_Complete(self, a: Complete) -> None:
        found = self._pick(a.pick)
        if found is None:
            return
        w, key = found
        self._execute(w, key)
        try:
            outcome = self.h.complete(w, key, Crash(a.crash), dup=a.dup)
        except Crashed:
            return
        if outcome is None:
            problem = self.h.check_acknowledged_completion(key)
            if problem:
                self._fail("FencedFinalize", problem)
        elif not isinstance(outcome, AttemptClosed):
            raise outcome

    def do_Fail(self, a: Fail) -> None:
        found = self._pick(a.pick)
        if found is None:
            return
        w, key = found
        self._execute(w, key)
        try:
            outcome = self.h.fail(w, key, a.dead_letter, Crash(a.crash), backoff=a.backoff)
        except Crashed:
            return
        if isinstance(outcome, RingqError) and not isinstance(outcome, AttemptClosed):
            raise outcome

    def do_Heartbeat(self, a: Heartbeat) -> None:
        try:
            self.h.heartbeat(a.who, Crash(a.crash))
        except Crashed:
            pass

    def do_CrashWorker(self, a: CrashWorker) -> None:
        self.h.restart(a.who)

    def do_Tick(self, a: Tick) -> None:
        self.h.clock.advance(a.seconds)

    def do_Promote(self, a: Promote) -> None:
        try:
            self.h.promote(Crash(a.crash))
        except Crashed:
            pass

    def do_Rescue(self, a: Rescue) -> None:
        try:
            self.h.rescue(Crash(a.crash))
        except Crashed:
            return
        except MaintenanceBusy as exc:
            self._check_rescue_busy(exc)
            return
        if a.crash == NONE:
            self._check_rescue_complete()

    # -- rescue: complete (every expired attempt closed) and busy only for a reason -----------

    def _open(self, *kinds: str) -> list[str]:
        return [n for n, f in self.h.inflight.items() if f.conn is not None and f.kind in kinds]

    def _check_rescue_busy(self, exc: Exception) -> None:
        """Rescue may give up (MaintenanceBusy) only while a claim or another rescue is in flight
        (it excludes them: ADR 0012) or an in-flight completion holds the closure it needs; a
        busy lane must not stop it (issue 13: it skips such lanes)."""
        if not self._open("claim", "rescue", "complete"):
            self._fail("EventuallyTerminal", f"rescue gave up although nothing excuses it: {exc}")

    def _check_rescue_complete(self) -> None:
        """After a rescue: no attempt whose effective deadline passed is still open, except in a
        lane an in-flight transaction holds (rescue skips those; the next call takes them)."""
        with self.h.admin.transaction():
            free = {r[0] for r in self.h.q("SELECT lane_id FROM {s}.lanes FOR UPDATE SKIP LOCKED")}
        busy_keys = {f.key for f in self.h.inflight.values() if f.conn is not None and f.key}
        rows = self.h.q(
            """SELECT c.job_id, c.run_lease, c.lane_id, c.deadline FROM {s}.claims c
               WHERE NOT EXISTS (SELECT 1 FROM {s}.closures x WHERE x.job_id = c.job_id
                                 AND x.run_lease = c.run_lease AND x.slot = c.slot)
                 AND greatest(c.deadline, (SELECT max(h.deadline) FROM {s}.heartbeats h
                                           WHERE h.job_id = c.job_id AND h.run_lease = c.run_lease))
                     < %s""",
            self.h.clock.now(),
        )
        missed = [r for r in rows if r[2] in free and (r[0], r[1]) not in busy_keys]
        if missed:
            self._fail(
                "EventuallyTerminal",
                f"rescue at {self.h.clock.now()} left expired attempts open "
                f"(job_id, run_lease, lane, deadline): {missed}",
            )

    def do_Cancel(self, a: Cancel) -> None:
        job = self._job(a.job)
        if job is None:
            return
        try:
            self.h.cancel(job, Crash(a.crash))
        except (Crashed, JobAlreadyTerminal, JobNotFound):
            pass

    def do_DlqRetry(self, a: DlqRetry) -> None:
        job = self._job(a.job)
        if job is None:
            return
        try:
            self.h.dlq_retry(job, Crash(a.crash))
        except Crashed:
            pass

    def do_DlqPurge(self, a: DlqPurge) -> None:
        job = self._job(a.job)
        if job is not None:
            self.h.dlq_purge(job)

    def do_CancelRace(self, a: CancelRace) -> None:
        job = self._job(a.job)
        if job is None:
            return
        for i, out in enumerate(self.h.cancel_race(job)):
            if isinstance(out, BaseException) and not isinstance(
                out, JobAlreadyTerminal | JobNotFound | MaintenanceBusy
            ):
                self._fail("TypedErrors", f"cancel #{i} of job {job} raced and raised {out!r}")

    # -- in-flight steps -------------------------------------------------------------------------

    def do_Begin(self, a: Begin) -> None:
        call: Call[Any]
        if a.kind == "claim":
            call = claim_call(self.h.schema, self.h.clock.now(), a.who, None, 1, LEASE)
            self.h.begin("claim", a.who, call, key=None, open_tx=not a.stalled)
        elif a.kind == "rescue":
            call = rescue_call(self.h.schema, self.h.clock.now(), BACKOFF)
            self.h.begin("rescue", "maintenance", call, key=None, open_tx=not a.stalled)
        else:
            found = self._pick(a.pick)
            if found is None:
                return
            w, key = found
            self._execute(w, key)
            if a.kind == "complete":
                self.h.log.add("complete_sent", job_id=key[0], run_lease=key[1], worker=w)
                call = self.h.complete_call(key)
            else:
                call = self.h.fail_call(key, False)
            self.h.begin(a.kind, w, call, key=key, open_tx=not a.stalled)

    def do_End(self, a: End) -> None:
        who = "maintenance" if a.kind == "rescue" else a.who
        f = self.h.end(f"{a.kind}:{who}", a.how)
        if f is None:
            return
        if f.kind == "claim":
            for c in f.result:
                self.h.workers[f.who].held[(c.job_id, c.run_lease)] = c
        elif f.kind == "complete" and f.key is not None:
            outcome = self.h.completed(f.who, f.key, f.result)
            if outcome is None:
                problem = self.h.check_acknowledged_completion(f.key)
                if problem:
                    self._fail("FencedFinalize", problem)
        elif f.kind == "fail" and f.key is not None:
            self.h.failed(f.who, f.key, f.result[0])
        elif f.kind == "rescue":
            self.h.rescued()

    def do_Rotate(self, a: Rotate) -> None:
        try:
            self.h.rotate(a.ring, Crash(a.crash))
        except (Crashed, MaintenanceBusy):
            pass

    def do_Prune(self, a: Prune) -> None:
        try:
            self.h.prune(a.ring, Crash(a.crash))
        except (Crashed, PruneBlocked, MaintenanceBusy):
            pass

    def do_SlowPruneCheck(self, a: SlowPruneCheck) -> None:
        try:
            self.h.slow_prune_check(a.ring)
        except (PruneBlocked, MaintenanceBusy):
            pass

    def do_SlowPruneAct(self, a: SlowPruneAct) -> None:
        try:
            self.h.slow_prune_act(a.ring)
        except (PruneBlocked, MaintenanceBusy):
            pass

    # -- after every step --------------------------------------------------------------------

    @invariant()
    def sql_invariants_hold(self) -> None:
        bad = [r for r in run_checks(self.h.admin, self.h.schema) if not r.ok]
        if "split_dlq_evidence" in self.h.flags:  # MUTANT doctor_split_dlq_evidence: the old checks
            bad += [
                r
                for c in SPLIT_DLQ_EVIDENCE_CHECKS
                if not (r := run_check(self.h.admin, self.h.schema, c)).ok
            ]
        if bad:
            err = InvariantViolation(bad)
            self._fail(err.invariants[0], str(err))

    @invariant()
    def dedup_keys_unique(self) -> None:
        """DedupUnique (harness): two live jobs never carry one (queue, dedup_key)."""
        shared = self.h.dedup_shared()
        if shared:
            self._fail("DedupUnique", f"(queue, key, live jobs): {shared}")

    @invariant()
    def log_invariants_hold(self) -> None:
        rep = check_log(
            self.h.log, live_at_end=self.h.jobs, require_terminal=False, max_attempts=MAX_ATTEMPTS_HIGH
        )
        if rep.duplicated:
            self._fail("NoDuplicateCompletion", rep.summary())
        for name, rows in rep.violations.items():
            self._fail(name, f"{rows[:5]}")
        missing = self.h.missing_results()
        if missing:
            self._fail("TerminalHasResult", "; ".join(missing[:5]))


TestStorageMachine = StorageMachine.TestCase
TestStorageMachine.settings = chosen()
