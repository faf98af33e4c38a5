"""SegmentedStorage's invariants, same names as the spec (each returns True when it holds)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from ringq_proof.model.config import Config
from ringq_proof.model.derived import View
from ringq_proof.model.state import NO_LOCK, NOT_CLAIMING, NOT_PRUNING, State

SLOT_STATES = {"open", "sealed", "pruned"}
DONE_OUTCOMES = {"completed", "cancelled", "dlq"}
CLOSURE_OUTCOMES = {"completed", "retried", "cancelled", "rescued", "dlq"}


def TypeOK(cfg: Config, s: State, v: View) -> bool:
    q, c = range(cfg.qslots), range(cfg.cslots)
    atts = range(1, cfg.max_attempts + 1)
    jobs, workers = set(cfg.jobs), set(cfg.workers)
    return (
        s.ring_state.queue in q
        and s.ring_state.claim in c
        and len(s.slots.queue) == cfg.qslots
        and len(s.slots.claim) == cfg.cslots
        and set(s.slots.queue) | set(s.slots.claim) <= SLOT_STATES
        and s.slots.queue[s.ring_state.queue] == "open"
        and s.slots.claim[s.ring_state.claim] == "open"
        and s.lanes.next_seq >= 0
        and s.lanes.claim_seq >= 0
        and all(r.job in jobs and r.seq >= 0 and r.slot in q and r.attempt in atts for r in s.ready)
        and all(d.job in jobs and d.lease >= 0 and d.outcome in DONE_OUTCOMES and d.slot in q for d in s.done)
        and all(
            x.job in jobs
            and x.lease >= 0
            and x.seq >= 0
            and x.rslot in q
            and x.attempt in atts
            and x.worker in workers
            and x.slot in c
            for x in s.claims
        )
        and all(
            x.job in jobs and x.lease >= 0 and x.outcome in CLOSURE_OUTCOMES and x.slot in c and x.by >= 0
            for x in s.closures
        )
        and all(a.job in jobs and a.lease >= 0 for a in s.expired)
        and all(x.job in jobs and x.slot in q for x in s.cancels)
        and all(d.job in jobs and d.attempt in atts for d in s.deferred | s.dlq)
        and s.next_lease >= 0
        and all(len(h) <= 1 and all(a.job in jobs and a.lease >= 0 for a in h) for h in s.held)
        and all(
            p.op in ("advance", "result") and p.job in jobs and p.lease >= 0 and p.seq >= 0
            for ps in s.post
            for p in ps
        )
        and s.enqueued <= jobs
        and s.terminal <= s.enqueued
        and all(x >= 0 for xs in s.completed for x in xs)
        and all(x >= 0 for x in s.tries + s.dlq_retries)
        and isinstance(s.pruned_live, bool)
        and s.staged <= jobs - s.enqueued
        and all(x.job in s.staged and x.seq >= 0 for x in s.staged_seq)
    )


def RTypeOK(cfg: Config, s: State, v: View) -> bool:
    return TypeOK(cfg, s, v) and _races_type_ok(cfg, s)


def _races_type_ok(cfg: Config, s: State) -> bool:
    return (
        (s.lane_lock == NO_LOCK or s.lane_lock in cfg.workers)
        and len(s.claiming) == len(cfg.workers)
        and all(x == NOT_CLAIMING or 0 <= x < cfg.cslots for x in s.claiming)
        and (s.pruning == NOT_PRUNING or 0 <= s.pruning < cfg.cslots)
    )


def _live_places(s: State, v: View, j: str) -> int:
    return (
        sum(1 for r in v.queued if r.job == j)
        + sum(1 for c in v.open_claims if c.job == j)
        + sum(1 for d in s.deferred if d.job == j)
    )


def NoLostJob(cfg: Config, s: State, v: View) -> bool:
    return all(j in s.terminal or _live_places(s, v, j) == 1 for j in s.enqueued)


def NoDuplicateCompletion(cfg: Config, s: State, v: View) -> bool:
    for ji, j in enumerate(cfg.jobs):
        done = s.completed[ji]
        if len(done) > 1:
            return False
        if done and any(c.job == j and c.lease > min(done) for c in s.claims):
            return False
    return True


def SingleOpenAttempt(cfg: Config, s: State, v: View) -> bool:
    jobs = [c.job for c in v.open_claims]
    return len(jobs) == len(set(jobs))


def FencedFinalize(cfg: Config, s: State, v: View) -> bool:
    keys = [(x.job, x.lease) for x in s.closures]
    claim_slots = {(c.job, c.lease, c.slot) for c in s.claims}
    return (
        all(x.by in (0, x.lease) for x in s.closures)
        and len(keys) == len(set(keys))
        and all((x.job, x.lease, x.slot) in claim_slots for x in s.closures)
    )


def PruneSafety(cfg: Config, s: State, v: View) -> bool:
    q, c = s.slots.queue, s.slots.claim
    return (
        not s.pruned_live
        and all(q[r.slot] != "pruned" for r in s.ready)
        and all(q[d.slot] != "pruned" for d in s.done)
        and all(c[x.slot] != "pruned" for x in s.claims)
        and all(c[x.slot] != "pruned" for x in s.closures)
        and all(q[x.rslot] != "pruned" for x in v.open_claims)
    )


def ClaimOrder(cfg: Config, s: State, v: View) -> bool:
    by_lease = sorted(s.claims, key=lambda x: x.lease)
    return all(a.seq < b.seq for a, b in itertools.pairwise(by_lease))


def CountersMatch(cfg: Config, s: State, v: View) -> bool:
    cur, nxt = s.lanes.claim_seq, s.lanes.next_seq
    return cur <= nxt and sum(1 for r in s.ready if r.seq >= cur) == nxt - cur


def AttemptLimitRespected(cfg: Config, s: State, v: View) -> bool:
    return all(t <= cfg.max_attempts for t in s.tries)


def TerminalHasResult(cfg: Config, s: State, v: View) -> bool:
    pending = {(p.job, p.lease) for ps in s.post for p in ps if p.op == "result"}
    return all(d.result or (d.job, d.lease) in pending for d in s.done)


Invariant = Callable[[Config, State, View], bool]

INVARIANTS: dict[str, Invariant] = {
    "TypeOK": TypeOK,
    "RTypeOK": RTypeOK,
    "NoLostJob": NoLostJob,
    "NoDuplicateCompletion": NoDuplicateCompletion,
    "SingleOpenAttempt": SingleOpenAttempt,
    "FencedFinalize": FencedFinalize,
    "PruneSafety": PruneSafety,
    "ClaimOrder": ClaimOrder,
    "CountersMatch": CountersMatch,
    "AttemptLimitRespected": AttemptLimitRespected,
    "TerminalHasResult": TerminalHasResult,
}

# Temporal properties the model checks by exploration (see explore.check_eventually_terminal).
PROPERTIES = ("EventuallyTerminal",)
