"""Named interleavings replayed through the state machine, step by step, with every invariant
checked after each step — the regression witnesses of the bugs the TLA+ broken configs and the
mutant catalogue (ringq_proof.mutants) describe. On the real implementation they must all pass; each
mutant must fail at least one of them (scripts/mutants.py).

They are the same steps Hypothesis would print for a counterexample: paste a printed
`state.act(...)` list here to keep it as a regression test.
"""

from __future__ import annotations

import pytest

from .test_storage_machine import (
    Begin,
    Cancel,
    CancelRace,
    Claim,
    Complete,
    CrashWorker,
    DlqPurge,
    DlqRetry,
    End,
    Enqueue,
    EnqueueBegin,
    EnqueueEnd,
    Fail,
    Promote,
    Prune,
    Rescue,
    Rotate,
    SlowPruneAct,
    SlowPruneCheck,
    StorageMachine,
    Tick,
)

pytestmark = pytest.mark.stateful

SCENARIOS: dict[str, list[object]] = {
    # claim committed, the worker died before its post-commit step; another worker claims
    "claim_then_crash_after_commit": [
        Enqueue(1),
        Claim("w1", crash="after_commit"),
        Claim("w2"),
        Complete(0),
        Claim("w1"),
    ],
    # an attempt open in a sealed claim slot; maintenance rotates and prunes both rings
    "prune_with_open_attempt": [
        Enqueue(1),
        Claim("w1"),
        Rotate("claim"),
        Prune("claim"),
        Rotate("queue"),
        Prune("queue"),
    ],
    # a slow second maintenance leader checks the ring, another prunes and the ring moves on
    "slow_leader_prune_claim_ring": [
        Enqueue(1),
        Rotate("claim"),
        SlowPruneCheck("claim"),
        Prune("claim"),
        Claim("w1"),
        Rotate("claim"),
        SlowPruneAct("claim"),
    ],
    "slow_leader_prune_queue_ring": [
        Rotate("queue"),
        SlowPruneCheck("queue"),
        Prune("queue"),
        Enqueue(1),
        Rotate("queue"),
        SlowPruneAct("queue"),
    ],
    # w1's lease expires, the job is rescued and claimed by w2; w1 completes late
    "stale_completion_after_rescue": [
        Enqueue(1),
        Claim("w1"),
        Tick(31.0),
        Rescue(),
        Claim("w2"),
        Complete(0),
        Complete(0),
    ],
    # completed, then its (old) deadline passes and maintenance rescues
    "rescue_after_completion": [Enqueue(1), Claim("w1"), Complete(0), Tick(31.0), Rescue(), Claim("w2")],
    # the handler keeps killing its worker: the attempt limit must still dead-letter it
    "crash_loop": [
        Enqueue(1),
        Claim("w1"),
        CrashWorker("w1"),
        Tick(31.0),
        Rescue(),
        Claim("w1"),
        CrashWorker("w1"),
        Tick(31.0),
        Rescue(),
        Claim("w1"),
        CrashWorker("w1"),
        Tick(31.0),
        Rescue(),
    ],
    # the worker dies right after its completion commits
    "complete_then_crash_after_commit": [Enqueue(1), Claim("w1"), Complete(0, crash="after_commit")],
    # a batch enqueue killed before COMMIT
    "batch_enqueue_crash": [Enqueue(3, crash="before_commit"), Enqueue(2)],
    # retries of jobs in two lanes of one queue
    "rescue_two_priorities": [
        Enqueue(1, priority=0),
        Enqueue(1, priority=1),
        Claim("w1", limit=2),
        Tick(31.0),
        Rescue(),
        Claim("w2", limit=2),
    ],
    # deep-profile finding: the rescued retry is cancelled, then its queue slot is pruned (with the
    # terminal row); the rescued attempt stays in the claim ring — pruned history, not a lost job
    "cancelled_retry_slot_pruned": [
        Enqueue(1),
        Claim("w1"),
        Tick(31.0),
        Rescue(),
        Rotate("queue"),
        Cancel(0),
        Claim("w1"),
        Prune("queue"),
    ],
    # ... and a second cancel of that job: terminal with its history pruned, not "kept racing"
    "cancel_after_history_pruned": [
        Enqueue(1),
        Claim("w1"),
        Tick(31.0),
        Rescue(),
        Cancel(0),
        Rotate("queue"),
        Claim("w1"),
        Prune("queue"),
        Cancel(0),
    ],
    # cancel a job queued behind a live one
    "cancel_behind_live_job": [Enqueue(2), Cancel(1), Claim("w1"), Claim("w2")],
    # fail with retry, then promote and finish
    "fail_retry_promote": [
        Enqueue(2, delay=10.0),
        Tick(31.0),
        Promote(),
        Claim("w1", limit=2),
        Fail(0),
        Fail(0, dead_letter=True),
        Tick(6.0),
        Promote(),
        Claim("w2"),
        Complete(0),
    ],
    # BugSeqAtBegin (seq_at_begin): a claim runs while an older enqueue transaction is open; the
    # job must still be claimable once that transaction commits (ADR 0011)
    "claim_while_an_enqueue_is_open": [
        Enqueue(1),
        Claim("w1"),
        Complete(0),
        EnqueueBegin("p1"),
        EnqueueBegin("p2"),
        EnqueueEnd("p2"),
        Claim("w1"),
        EnqueueEnd("p1"),
        Claim("w2"),
        Complete(0),
        Complete(1),
    ],
    # an open enqueue transaction across a full turn of both rings, then a rollback and a kill
    "open_enqueue_across_rotation_and_prune": [
        EnqueueBegin("p1", n=2, priority=1),
        Enqueue(1),
        Claim("w1"),
        Complete(0),
        Rotate("queue"),
        Rotate("claim"),
        Prune("queue"),
        Prune("claim"),
        EnqueueBegin("p2"),
        EnqueueEnd("p2", how="rollback"),
        EnqueueBegin("p2"),
        EnqueueEnd("p2", how="kill"),
        EnqueueEnd("p1"),
        Claim("w2", limit=3),
        Complete(0),
        Complete(1),
    ],
    # -- issue 13 (mutants 13..20) --------------------------------------------------------------
    # rescue_horizon_late_claim: a claim whose clock was read before a rescue moved its horizon
    # (stalled before its transaction, or open across the rescue) must still be rescued
    "claim_stalled_across_a_rescue": [
        Enqueue(1),
        Begin("claim", "w1", stalled=True),
        Tick(31.0),
        Tick(31.0),
        Rescue(),
        End("claim", "w1"),
        Tick(6.0),
        Rescue(),
    ],
    "claim_open_across_a_rescue": [
        Enqueue(1),
        Begin("claim", "w1"),
        Tick(31.0),
        Tick(31.0),
        Rescue(),
        End("claim", "w1"),
        Rescue(),
    ],
    # backoff_overflow: the third rescue of a 4-attempt job computes factor^2 (factor 1e300)
    "rescue_backoff_at_attempt_three": [
        Enqueue(1, max_attempts=4),
        Claim("w1"),
        Tick(31.0),
        Rescue(),
        Claim("w1"),
        Tick(31.0),
        Rescue(),
        Claim("w1"),
        Tick(31.0),
        Rescue(),
        Claim("w1"),
        Fail(0, backoff=True),
    ],
    # complete_duplicate_items: one attempt twice in one complete_many
    "complete_many_duplicate_item": [Enqueue(1), Claim("w1"), Complete(0, dup=True)],
    # any_isolation_level: a REPEATABLE READ caller transaction across a rotation and a prune
    "repeatable_read_enqueue_across_prune": [
        Enqueue(1),
        Claim("w1"),
        Complete(0),
        EnqueueBegin("p1", isolation="repeatable read"),
        Rotate("queue"),
        Prune("queue"),
        EnqueueEnd("p1"),
    ],
    # cancel_race_unique_violation: two cancels of one queued job at once
    "two_cancels_at_once": [
        Enqueue(1),
        CancelRace(0),
        Enqueue(1),
        CancelRace(1),
        Enqueue(1),
        CancelRace(2),
    ],
    # doctor_split_dlq_evidence (a): rescued into the DLQ, queue slot pruned, retried, claimed
    "rescue_dlq_prune_retry_claim": [
        Enqueue(1),
        Claim("w1"),
        Tick(31.0),
        Rescue(),
        Claim("w1"),
        Tick(31.0),
        Rescue(),
        Rotate("queue"),
        Prune("queue"),
        DlqRetry(0),
        Claim("w1"),
    ],
    # (b): dead-lettered, purged, claim slot pruned
    "dlq_purge_then_claim_prune": [
        Enqueue(1),
        Claim("w1"),
        Fail(0, dead_letter=True),
        DlqPurge(0),
        Rotate("claim"),
        Prune("claim"),
    ],
    # dlq_retry_ignores_dedup: J1 (key K) dead-lettered, J2 takes K, J1 retried
    "dlq_retry_with_dedup_key_taken": [
        Enqueue(1, key="K"),
        Claim("w1"),
        Fail(0, dead_letter=True),
        Enqueue(1, key="K"),
        DlqRetry(0),
    ],
    # rescue_waits_on_busy_lane: a fail in flight holds lane q; the expired attempt in queue r
    # must still be rescued
    "rescue_beside_a_held_lane": [
        Enqueue(1),
        Enqueue(1, queue="r"),
        Claim("w1", limit=2),
        Tick(31.0),
        Begin("fail", pick=0),
        Rescue(),
        End("fail"),
        Rescue(),
    ],
}


def replay(steps: list[object]) -> None:
    m = StorageMachine()
    try:
        m.sql_invariants_hold()
        for action in steps:
            m.act(action)
            m.sql_invariants_hold()
            m.dedup_keys_unique()
            m.log_invariants_hold()
    finally:
        m.teardown()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(name: str) -> None:
    replay(SCENARIOS[name])
