"""SegmentedStorageRaces' actions: claim split into ClaimBegin/ClaimCommit, prune check/act.

Mirrors RNext: lane-touching transactions wait while a claim holds the lane row lock
(`lane_lock`); the base actions that touch no lane run as in SegmentedStorage.
"""

from __future__ import annotations

from collections.abc import Iterator

from ringq_proof.model import actions as a
from ringq_proof.model.actions import Succ, _set
from ringq_proof.model.config import Config
from ringq_proof.model.derived import View
from ringq_proof.model.state import NO_LOCK, NOT_CLAIMING, NOT_PRUNING, State


def claim_begin(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    if s.lane_lock != NO_LOCK or s.lanes.claim_seq >= s.lanes.next_seq:
        return
    for wi, w in enumerate(cfg.workers):
        if s.claiming[wi] == NOT_CLAIMING and not s.held[wi] and not s.post[wi]:
            yield (
                "ClaimBegin",
                {"w": w},
                s._replace(lane_lock=w, claiming=_set(s.claiming, wi, s.ring_state.claim)),
            )


def _release(s: State, wi: int) -> State:
    return s._replace(lane_lock=NO_LOCK, claiming=_set(s.claiming, wi, NOT_CLAIMING))


def claim_commit(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    for wi, w in enumerate(cfg.workers):
        cs = s.claiming[wi]
        if cs == NOT_CLAIMING:
            continue
        n = a.claim_at(cfg, s, v, wi, cs)
        if n is not None:
            yield ("ClaimCommit", {"w": w}, _release(n, wi))


def rotate_claim(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    """RotateClaim waits for claims holding the ring lock SHARED (NoClaimInFlight)."""
    if cfg.bug("BugNaiveClaimCommit") or all(x == NOT_CLAIMING for x in s.claiming):
        yield from a.rotate_claim(cfg, s, v)


def prune_claim_check(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    if not cfg.bug("BugPruneCheckThenAct") or s.pruning != NOT_PRUNING:
        return
    for k in range(cfg.cslots):
        if s.slots.claim[k] == "sealed" and not v.claim_slot_live(k):
            yield ("PruneClaimCheck", {"k": k}, s._replace(pruning=k))


def prune_claim_later(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    k = s.pruning
    if k != NOT_PRUNING:
        yield ("PruneClaimLater", {"k": k}, a.prune_claim_act(cfg, s, v, k)._replace(pruning=NOT_PRUNING))


def r_crash(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    for wi, w in enumerate(cfg.workers):
        if s.held[wi] or s.post[wi] or s.claiming[wi] != NOT_CLAIMING:
            yield (
                "RCrash",
                {"w": w},
                s._replace(
                    held=_set(s.held, wi, frozenset()),
                    post=_set(s.post, wi, frozenset()),
                    claiming=_set(s.claiming, wi, NOT_CLAIMING),
                    lane_lock=NO_LOCK if s.lane_lock == w else s.lane_lock,
                ),
            )


def _when_lane_free(action: a.Action) -> a.Action:
    def run(cfg: Config, s: State, v: View) -> Iterator[Succ]:
        if s.lane_lock == NO_LOCK:
            yield from action(cfg, s, v)

    run.__name__ = action.__name__
    return run


# RNext, in its disjunct order.
RACE_ACTIONS: tuple[a.Action, ...] = (
    _when_lane_free(a.enqueue),
    _when_lane_free(a.cancel),
    _when_lane_free(a.dlq_retry),
    claim_begin,
    claim_commit,
    r_crash,
    a.complete,
    a.fail,
    a.heartbeat,
    a.advance_cursor,
    a.write_result,
    a.tick,
    a.rotate_queue,
    a.prune_queue,
    rotate_claim,
    _when_lane_free(a.rescue),
    _when_lane_free(a.promote),
    a.prune_claim,
    prune_claim_check,
    prune_claim_later,
)
