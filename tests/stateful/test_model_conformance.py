"""Refinement check: every step of the real database, mapped back by the abstraction function
(ringq_proof.abstraction), is the step the Python model of the storage spec (ringq_proof.model) takes.

The model runs alongside the real schema. After each real transaction the model takes the
matching action(s) — one per attempt where the real transaction batches (a clock advance that
expires two leases is two Ticks, a rescue of two attempts is two Rescues, in run_lease order) —
and the abstraction of the schema must equal the model state on every database variable, and
the workers' memory must equal the model's `held`.

Scope = the spec's scope: one lane (one queue, one priority), claims of one job per worker,
fail with a retry delay (the spec's Fail always defers), no DLQ-by-request, and rotation only
of a slot that holds rows (the spec's RotateQueue/RotateClaim bound). Known divergence,
kept out of the scenarios on purpose and reported: a real claim of limit 1 whose range holds only
a cancelled row returns nothing and moves the cursor by one, where the spec's Claim skips every
cancelled row and claims the next live one in the same step.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ringq.admin import JobAlreadyTerminal
from ringq.embedded import database_url
from ringq.errors import MaintenanceBusy, PruneBlocked
from ringq_proof import mutants
from ringq_proof.abstraction import Names, abstract, differences
from ringq_proof.model import Config, Model
from ringq_proof.model.state import Att, State

from .harness import MAX_ATTEMPTS, Crash, Harness
from .profiles import chosen

pytestmark = pytest.mark.stateful

WORKERS = ("w1", "w2")
JOBS = 4


class Conformance:
    """The real schema and the model, stepped together."""

    def __init__(self) -> None:
        self.h = Harness(
            database_url(), f"mc_{uuid.uuid4().hex[:12]}", workers=WORKERS, mutant=mutants.from_env()
        )
        self.cfg = Config(
            jobs=tuple(f"j{i}" for i in range(1, JOBS + 1)),
            workers=WORKERS,
            qslots=2,
            cslots=2,
            max_attempts=MAX_ATTEMPTS,
            max_dlq_retries=0,
        )
        self.model = Model(self.cfg)
        self.s: State = self.model.init()
        self.names = Names()
        self.trace: list[str] = []

    def close(self) -> None:
        self.h.close()

    def real(self) -> dict[str, Any]:
        return abstract(self.h.admin, self.h.schema, self.names, self.h.clock.now())

    def step(self, action: str, **params: Any) -> None:
        self.trace.append(f"{action}({params})")
        self.s = self.model.step(self.s, action, **params)

    def check(self) -> None:
        diff = differences(self.s, self.real())
        held = tuple(
            frozenset(Att(self.names.job(j), self.names.lease(r)) for j, r in self.h.workers[w].held)
            for w in WORKERS
        )
        if held != self.s.held:
            diff.append(f"held: model {self.s.held}, workers {held}")
        if diff:
            self._fail("Refinement", "real step left the model:\n  " + "\n  ".join(diff))
        bad = self.model.violated(self.s)
        if bad is not None:
            self._fail(bad, f"the model state violates {bad}")

    def _fail(self, invariant: str, message: str) -> None:
        # scripts/mutants.py reads the report (the last one written is the shrunk example)
        mutants.write_report(
            {"invariant": invariant, "message": message[:2000], "steps": len(self.trace), "trace": self.trace}
        )
        raise AssertionError(f"{message}\nafter {self.trace}")

    # -- actions -----------------------------------------------------------------------------

    def enqueue(self) -> None:
        if len(self.names.jobs) >= JOBS:
            return
        [job_id] = self.h.enqueue(1, 0, None, Crash.NONE)
        self.step("Enqueue", j=self.names.job(job_id))

    def enqueue_begin(self, producer: str) -> None:
        """One job staged in `producer`'s open transaction (EnqueueBegin)."""
        if len(self.names.jobs) >= JOBS:
            return
        [job_id] = self.h.enqueue_begin(producer, 1, 0)
        self.step("EnqueueBegin", j=self.names.job(job_id))

    def enqueue_end(self, producer: str, how: str) -> None:
        """`producer`'s transaction commits (EnqueueCommit per staged job, in job-id order: the
        commit trigger sequences them so) or aborts (EnqueueAbort per job)."""
        o = self.h.open_enqueues.get(producer)
        if o is None:
            return
        staged = sorted(j for j, _, _ in o.jobs)
        self.h.enqueue_end(producer, how)
        action = "EnqueueCommit" if how == "commit" else "EnqueueAbort"
        for job_id in staged:
            self.step(action, j=self.names.job(job_id))

    def claim(self, w: str, crash: Crash = Crash.NONE) -> None:
        if self.h.workers[w].held:
            return  # the spec's worker holds one attempt at a time
        got = self.h.claim(w, 1, crash)
        if got:
            self.names.lease(got[0].run_lease)
            self.step("Claim", w=w)
            if crash is Crash.AFTER_COMMIT:
                self.step("Crash", w=w)

    def complete(self, w: str) -> None:
        if self.h.workers[w].held:
            key = next(iter(self.h.workers[w].held))
            self.h.execute(w, key)
            self.h.complete(w, key, Crash.NONE)
            self.step("Complete", w=w)

    def fail(self, w: str) -> None:
        if self.h.workers[w].held:
            key = next(iter(self.h.workers[w].held))
            self.h.execute(w, key)
            out = self.h.fail(w, key, False, Crash.NONE)
            self.step("Fail", w=w) if isinstance(out, str) else self.step("Complete", w=w)

    def heartbeat(self, w: str) -> None:
        held = self.h.workers[w].held
        if not held:
            return
        key = next(iter(held))
        was_expired = Att(self.names.job(key[0]), self.names.lease(key[1])) in self.s.expired
        lost = self.h.heartbeat(w, Crash.NONE)
        if lost:  # the attempt was closed under the worker (rescued/cancelled): drops it like LeaseLost
            self.step("Complete", w=w)
        elif was_expired:
            self.step("Heartbeat", w=w)

    def crash(self, w: str) -> None:
        had = bool(self.h.workers[w].held)
        self.h.restart(w)
        if had:
            self.step("Crash", w=w)

    def tick(self, seconds: float) -> None:
        self.h.clock.advance(seconds)
        for a in sorted(self.real()["expired"] - self.s.expired, key=lambda a: a.lease):
            self.step("Tick", job=a.job, lease=a.lease)

    def rescue(self) -> None:
        expired = sorted(self.s.expired, key=lambda a: a.lease)
        self.h.rescue(Crash.NONE)
        for a in expired:
            self.step("Rescue", job=a.job, lease=a.lease)

    def promote(self) -> None:
        before = {r[0] for r in self.h.q("SELECT job_id FROM {s}.deferred")}
        due = [
            r[0]
            for r in self.h.q(
                "SELECT job_id FROM {s}.deferred WHERE run_at <= %s ORDER BY run_at, job_id",
                self.h.clock.now(),
            )
        ]
        self.h.promote(Crash.NONE)
        for job_id in due:
            if job_id in before:
                self.step("Promote", job=self.names.job(job_id))

    def cancel(self, index: int) -> None:
        if not self.names.jobs:
            return
        job_id = sorted(self.names.jobs)[index % len(self.names.jobs)]
        try:
            self.h.cancel(job_id, Crash.NONE)
        except JobAlreadyTerminal:
            return
        self.step("Cancel", j=self.names.job(job_id))

    def rotate(self, ring: str) -> None:
        action = "RotateQueue" if ring == "queue" else "RotateClaim"
        if not any(label == action for label, _ in self.model.enabled(self.s)):
            return  # the spec only rotates a slot that holds rows (its state-space bound)
        try:
            self.h.rotate(ring, Crash.NONE)
        except MaintenanceBusy:
            return
        self.step(action)

    def prune(self, ring: str) -> None:
        try:
            k = self.h.prune(ring, Crash.NONE)
        except (PruneBlocked, MaintenanceBusy):
            return
        if k is not None:
            self.step("PruneQueue" if ring == "queue" else "PruneClaim", k=k)


SCENARIOS: dict[str, list[tuple[str, tuple[Any, ...]]]] = {
    "complete_rotate_prune": [
        ("enqueue", ()),
        ("enqueue", ()),
        ("claim", ("w1",)),
        ("complete", ("w1",)),
        ("rotate", ("queue",)),
        ("rotate", ("claim",)),
        ("claim", ("w2",)),
        ("prune", ("claim",)),
        ("prune", ("queue",)),
        ("complete", ("w2",)),
        ("prune", ("claim",)),
        ("prune", ("queue",)),
        ("rotate", ("queue",)),
    ],
    "expire_rescue_stale_worker": [
        ("enqueue", ()),
        ("claim", ("w1",)),
        ("tick", (31.0,)),
        ("rescue", ()),
        ("claim", ("w2",)),
        ("complete", ("w1",)),
        ("complete", ("w2",)),
    ],
    "heartbeat_after_expiry": [
        ("enqueue", ()),
        ("claim", ("w1",)),
        ("tick", (31.0,)),
        ("heartbeat", ("w1",)),
        ("rescue", ()),
        ("complete", ("w1",)),
    ],
    "fail_retry_then_dlq": [
        ("enqueue", ()),
        ("claim", ("w1",)),
        ("fail", ("w1",)),
        ("tick", (6.0,)),
        ("promote", ()),
        ("claim", ("w2",)),
        ("fail", ("w2",)),
    ],
    "crash_after_claim_commit": [
        ("enqueue", ()),
        ("claim", ("w1",)),
        ("crash", ("w1",)),
        ("tick", (31.0,)),
        ("rescue", ()),
        ("claim", ("w2",)),
        ("complete", ("w2",)),
    ],
    "open_enqueue_commit_and_abort": [
        ("enqueue_begin", ("p1",)),
        ("enqueue", ()),
        ("enqueue_begin", ("p2",)),
        ("claim", ("w1",)),
        ("enqueue_end", ("p2", "commit")),
        ("enqueue_end", ("p1", "rollback")),
        ("claim", ("w2",)),
        ("complete", ("w1",)),
        ("complete", ("w2",)),
    ],
    "open_enqueue_across_rotation_and_kill": [
        ("enqueue_begin", ("p1",)),
        ("enqueue_begin", ("p1",)),
        ("enqueue", ()),
        ("claim", ("w1",)),
        ("complete", ("w1",)),
        ("rotate", ("queue",)),
        ("rotate", ("claim",)),
        ("prune", ("queue",)),
        ("prune", ("claim",)),
        ("enqueue_begin", ("p2",)),
        ("enqueue_end", ("p2", "kill")),
        ("enqueue_end", ("p1", "commit")),
        ("claim", ("w1",)),
        ("claim", ("w2",)),
    ],
    "cancel_running_and_queued": [
        ("enqueue", ()),
        ("enqueue", ()),
        ("claim", ("w1",)),
        ("cancel", (0,)),
        ("cancel", (1,)),
        ("complete", ("w1",)),
    ],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_real_steps_are_model_steps(name: str) -> None:
    c = Conformance()
    try:
        c.check()
        for action, args in SCENARIOS[name]:
            getattr(c, action)(*args)
            c.check()
    finally:
        c.close()


class ConformanceMachine(RuleBasedStateMachine):
    """The same comparison over random interleavings (within the spec's scope)."""

    def __init__(self) -> None:
        super().__init__()
        self.c = Conformance()

    def teardown(self) -> None:
        self.c.close()

    @rule(
        action=st.sampled_from(
            [
                "enqueue",
                "claim",
                "complete",
                "fail",
                "heartbeat",
                "crash",
                "tick",
                "rescue",
                "promote",
                "rotate",
                "prune",
                "enqueue",
                "claim",
                "complete",
                "enqueue_begin",
                "enqueue_end",
            ]
        ),
        w=st.sampled_from(WORKERS),
        producer=st.sampled_from(["p1", "p2"]),
        how=st.sampled_from(["commit", "commit", "rollback", "kill"]),
        ring=st.sampled_from(["queue", "claim"]),
        seconds=st.sampled_from([31.0, 6.0]),
    )
    def act(self, action: str, w: str, ring: str, seconds: float, producer: str, how: str) -> None:
        args: dict[str, tuple[Any, ...]] = {
            "enqueue_begin": (producer,),
            "enqueue_end": (producer, how),
            "claim": (w,),
            "complete": (w,),
            "fail": (w,),
            "heartbeat": (w,),
            "crash": (w,),
            "tick": (seconds,),
            "rotate": (ring,),
            "prune": (ring,),
        }
        getattr(self.c, action)(*args.get(action, ()))

    @invariant()
    def abstraction_equals_model(self) -> None:
        self.c.check()


TestConformanceMachine = ConformanceMachine.TestCase
# each step reads the whole schema twice (abstraction + invariants): a third of the examples
TestConformanceMachine.settings = settings(chosen(), max_examples=max(8, (chosen().max_examples or 30) // 3))
