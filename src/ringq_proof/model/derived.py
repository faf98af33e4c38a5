"""Derived views of a state (the spec's helper operators), computed once per state."""

from __future__ import annotations

from ringq_proof.model.config import Config
from ringq_proof.model.state import Att, Claim, Ready, State


class View:
    """OpenClaims, Queued, CancelledJobs, ... of one state (SegmentedStorage's LET-free helpers)."""

    __slots__ = ("cancelled_jobs", "claim_by_att", "open_atts", "open_claims", "queued", "s")

    def __init__(self, s: State) -> None:
        self.s = s
        closed = {(x.job, x.lease) for x in s.closures}
        self.claim_by_att: dict[Att, Claim] = {Att(c.job, c.lease): c for c in s.claims}
        self.open_claims: tuple[Claim, ...] = tuple(c for c in s.claims if (c.job, c.lease) not in closed)
        self.open_atts = frozenset(Att(c.job, c.lease) for c in self.open_claims)
        self.cancelled_jobs = frozenset(x.job for x in s.cancels)
        claimed_rows = {(c.job, c.seq) for c in s.claims}
        cursor = s.lanes.claim_seq
        self.queued: tuple[Ready, ...] = tuple(
            r
            for r in s.ready
            if r.seq >= cursor and r.job not in self.cancelled_jobs and (r.job, r.seq) not in claimed_rows
        )

    def queue_slot_live(self, k: int) -> bool:
        return any(r.slot == k for r in self.queued) or any(c.rslot == k for c in self.open_claims)

    def claim_slot_live(self, k: int) -> bool:
        return any(c.slot == k for c in self.open_claims)

    def prune_queue_guard(self, k: int) -> bool:
        cursor = self.s.lanes.claim_seq
        return all(r.seq < cursor for r in self.s.ready if r.slot == k) and not any(
            c.rslot == k for c in self.open_claims
        )


def job_index(cfg: Config, job: str) -> int:
    return cfg.jobs.index(job)
