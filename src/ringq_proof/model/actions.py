"""SegmentedStorage's actions, one function per TLA+ action (same names, snake_case).

Each function yields `(action, params, next_state)` for every successor the action allows
from `s`. A transaction is one atomic step, as in the spec; crashes before commit are the
step not happening, `crash` is the worker losing its memory after a commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ringq_proof.model.config import Config
from ringq_proof.model.derived import View, job_index
from ringq_proof.model.state import (
    Att,
    Cancel,
    Claim,
    Closure,
    Done,
    JobAttempt,
    Ready,
    StagedSeq,
    State,
    Step,
)

Succ = tuple[str, dict[str, Any], State]
Action = Callable[[Config, State, View], Iterator[Succ]]


def _set(t: tuple[Any, ...], i: int, v: Any) -> tuple[Any, ...]:
    return (*t[:i], v, *t[i + 1 :])


def _new_ready(s: State, job: str, attempt: int) -> Ready:
    return Ready(job, s.lanes.next_seq, s.ring_state.queue, attempt)


def _closure(c: Claim, outcome: str, by: int) -> Closure:
    return Closure(c.job, c.lease, outcome, c.slot, by)


def enqueue(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    """Enqueue(j): ringq's own transaction, EnqueueBegin(j) immediately followed by EnqueueCommit(j)."""
    for j in cfg.jobs:
        if j in s.enqueued or j in s.staged:
            continue
        yield (
            "Enqueue",
            {"j": j},
            s._replace(
                ready=s.ready | {_new_ready(s, j, 1)},
                lanes=s.lanes._replace(next_seq=s.lanes.next_seq + 1),
                enqueued=s.enqueued | {j},
            ),
        )


def enqueue_begin(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    """EnqueueBegin(j): the staged insert in the caller's transaction; no lane, no ring lock."""
    seq_at_begin = cfg.bug("BugSeqAtBegin")
    for j in cfg.jobs:
        if j in s.enqueued or j in s.staged:
            continue
        n = s._replace(staged=s.staged | {j})
        if seq_at_begin:
            n = n._replace(
                staged_seq=s.staged_seq | {StagedSeq(j, s.lanes.next_seq)},
                lanes=s.lanes._replace(next_seq=s.lanes.next_seq + 1),
            )
        yield ("EnqueueBegin", {"j": j}, n)


def enqueue_commit(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    """EnqueueCommit(j): the commit-time trigger, exactly Enqueue's effect (lane_seq at commit)."""
    for j in sorted(s.staged):
        n = s._replace(staged=s.staged - {j}, enqueued=s.enqueued | {j})
        if cfg.bug("BugSeqAtBegin"):
            x = next(x for x in s.staged_seq if x.job == j)
            n = n._replace(
                ready=s.ready | {Ready(j, x.seq, s.ring_state.queue, 1)},
                staged_seq=s.staged_seq - {x},
            )
        else:
            n = n._replace(
                ready=s.ready | {_new_ready(s, j, 1)},
                lanes=s.lanes._replace(next_seq=s.lanes.next_seq + 1),
            )
        yield ("EnqueueCommit", {"j": j}, n)


def enqueue_abort(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    """EnqueueAbort(j): rollback, or the backend killed (enqueue.before_commit): the staged row goes."""
    for j in sorted(s.staged):
        yield (
            "EnqueueAbort",
            {"j": j},
            s._replace(
                staged=s.staged - {j},
                staged_seq=frozenset(x for x in s.staged_seq if x.job != j),
            ),
        )


def claim_at(cfg: Config, s: State, v: View, wi: int, cs: int) -> State | None:
    """ClaimAt(w, cs): the claim transaction writing its claim row into claim slot `cs`."""
    if s.held[wi] or s.post[wi]:
        return None
    w = cfg.workers[wi]
    if v.queued:
        r = min(v.queued, key=lambda x: x.seq)
        lease = s.next_lease
        ji = job_index(cfg, r.job)
        n = s._replace(
            claims=s.claims | {Claim(r.job, lease, r.seq, r.slot, r.attempt, w, cs)},
            next_lease=lease + 1,
            held=_set(s.held, wi, frozenset({Att(r.job, lease)})),
            tries=_set(s.tries, ji, s.tries[ji] + 1),
        )
        if cfg.bug("BugCursorAfterCommit"):
            return n._replace(post=_set(s.post, wi, frozenset({Step("advance", r.job, lease, r.seq)})))
        return n._replace(lanes=s.lanes._replace(claim_seq=r.seq + 1))
    if s.lanes.claim_seq < s.lanes.next_seq:
        # only cancelled (or already claimed) rows are left: move the cursor over them
        return s._replace(lanes=s.lanes._replace(claim_seq=s.lanes.next_seq))
    return None


def claim(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    for wi, w in enumerate(cfg.workers):
        n = claim_at(cfg, s, v, wi, s.ring_state.claim)
        if n is not None:
            yield ("Claim", {"w": w}, n)


def advance_cursor(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    for wi, w in enumerate(cfg.workers):
        for p in s.post[wi]:
            if p.op != "advance":
                continue
            cur = s.lanes.claim_seq
            yield (
                "AdvanceCursor",
                {"w": w},
                s._replace(
                    lanes=s.lanes._replace(claim_seq=cur if cur > p.seq else p.seq + 1),
                    post=_set(s.post, wi, s.post[wi] - {p}),
                ),
            )


def complete(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    no_fence = cfg.bug("BugNoFence")
    result_later = cfg.bug("BugResultAfterClosure")
    for wi, w in enumerate(cfg.workers):
        for a in s.held[wi]:
            target = [c for c in v.open_claims if c.job == a.job and (no_fence or c.lease == a.lease)]
            if not target:  # LeaseLost: the stale worker drops the attempt
                yield ("Complete", {"w": w}, s._replace(held=_set(s.held, wi, frozenset())))
                continue
            # at most one open attempt per job (SingleOpenAttempt), so CHOOSE is deterministic
            c = min(target)
            ji = job_index(cfg, c.job)
            post = s.post
            if result_later:
                post = _set(post, wi, post[wi] | {Step("result", c.job, c.lease, c.seq)})
            yield (
                "Complete",
                {"w": w},
                s._replace(
                    closures=s.closures | {_closure(c, "completed", a.lease)},
                    done=s.done | {Done(c.job, c.lease, "completed", c.rslot, not result_later)},
                    expired=s.expired - {Att(c.job, c.lease)},
                    held=_set(s.held, wi, frozenset()),
                    post=post,
                    completed=_set(s.completed, ji, s.completed[ji] | {c.lease}),
                    terminal=s.terminal | {c.job},
                ),
            )


def write_result(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    for wi, w in enumerate(cfg.workers):
        for p in s.post[wi]:
            if p.op != "result":
                continue
            done = frozenset(
                d._replace(result=True)
                if (d.job == p.job and d.lease == p.lease and d.outcome == "completed")
                else d
                for d in s.done
            )
            yield ("WriteResult", {"w": w}, s._replace(done=done, post=_set(s.post, wi, s.post[wi] - {p})))


def fail(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    for wi, w in enumerate(cfg.workers):
        for a in s.held[wi]:
            for c in v.open_claims:
                if c.job != a.job or c.lease != a.lease:
                    continue
                n = s._replace(held=_set(s.held, wi, frozenset()), expired=s.expired - {a})
                if c.attempt < cfg.max_attempts:
                    n = n._replace(
                        closures=s.closures | {_closure(c, "retried", a.lease)},
                        deferred=s.deferred | {JobAttempt(c.job, c.attempt + 1)},
                    )
                else:
                    n = n._replace(
                        closures=s.closures | {_closure(c, "dlq", a.lease)},
                        dlq=s.dlq | {JobAttempt(c.job, c.attempt)},
                        done=s.done | {Done(c.job, c.lease, "dlq", c.rslot, True)},
                        terminal=s.terminal | {c.job},
                    )
                yield ("Fail", {"w": w}, n)


def heartbeat(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    for wi, w in enumerate(cfg.workers):
        for a in s.held[wi]:
            if a in s.expired:
                yield ("Heartbeat", {"w": w}, s._replace(expired=s.expired - {a}))


def tick(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    for a in sorted(v.open_atts - s.expired):
        yield ("Tick", {"job": a.job, "lease": a.lease}, s._replace(expired=s.expired | {a}))


def rescue(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    for a in sorted(s.expired):
        c = v.claim_by_att[a]
        nxt = c.attempt if cfg.bug("BugRetryNotPersisted") else c.attempt + 1
        n = s._replace(closures=s.closures | {_closure(c, "rescued", 0)}, expired=s.expired - {a})
        if nxt <= cfg.max_attempts:
            n = n._replace(
                ready=s.ready | {_new_ready(s, c.job, nxt)},
                lanes=s.lanes._replace(next_seq=s.lanes.next_seq + 1),
            )
        else:
            n = n._replace(
                dlq=s.dlq | {JobAttempt(c.job, c.attempt)},
                done=s.done | {Done(c.job, c.lease, "dlq", c.rslot, True)},
                terminal=s.terminal | {c.job},
            )
        yield ("Rescue", {"job": a.job, "lease": a.lease}, n)


def cancel(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    for j in cfg.jobs:
        for r in v.queued:
            if r.job == j:
                yield (
                    "Cancel",
                    {"j": j},
                    s._replace(
                        cancels=s.cancels | {Cancel(j, r.slot)},
                        done=s.done | {Done(j, 0, "cancelled", r.slot, True)},
                        terminal=s.terminal | {j},
                    ),
                )
        for c in v.open_claims:
            if c.job == j:
                yield (
                    "Cancel",
                    {"j": j},
                    s._replace(
                        closures=s.closures | {_closure(c, "cancelled", 0)},
                        done=s.done | {Done(j, c.lease, "cancelled", c.rslot, True)},
                        expired=s.expired - {Att(c.job, c.lease)},
                        terminal=s.terminal | {j},
                    ),
                )
        for d in s.deferred:
            if d.job == j:
                yield (
                    "Cancel",
                    {"j": j},
                    s._replace(
                        deferred=s.deferred - {d},
                        done=s.done | {Done(j, 0, "cancelled", s.ring_state.queue, True)},
                        terminal=s.terminal | {j},
                    ),
                )


def promote(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    for d in sorted(s.deferred):
        yield (
            "Promote",
            {"job": d.job},
            s._replace(
                deferred=s.deferred - {d},
                ready=s.ready | {_new_ready(s, d.job, d.attempt)},
                lanes=s.lanes._replace(next_seq=s.lanes.next_seq + 1),
            ),
        )


def rotate_queue(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    cur = s.ring_state.queue
    nx = (cur + 1) % cfg.qslots
    holds_row = any(r.slot == cur for r in s.ready) or any(d.slot == cur for d in s.done)
    if s.slots.queue[nx] == "pruned" and holds_row:
        q = _set(_set(s.slots.queue, cur, "sealed"), nx, "open")
        yield (
            "RotateQueue",
            {},
            s._replace(slots=s.slots._replace(queue=q), ring_state=s.ring_state._replace(queue=nx)),
        )


def rotate_claim(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    cur = s.ring_state.claim
    nx = (cur + 1) % cfg.cslots
    if s.slots.claim[nx] == "pruned" and any(c.slot == cur for c in s.claims):
        c = _set(_set(s.slots.claim, cur, "sealed"), nx, "open")
        yield (
            "RotateClaim",
            {},
            s._replace(slots=s.slots._replace(claim=c), ring_state=s.ring_state._replace(claim=nx)),
        )


def prune_queue(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    for k in range(cfg.qslots):
        if s.slots.queue[k] != "sealed":
            continue
        if not (cfg.bug("BugPruneNoGuard") or v.prune_queue_guard(k)):
            continue
        yield (
            "PruneQueue",
            {"k": k},
            s._replace(
                ready=frozenset(r for r in s.ready if r.slot != k),
                done=frozenset(d for d in s.done if d.slot != k),
                cancels=frozenset(x for x in s.cancels if x.slot != k),
                slots=s.slots._replace(queue=_set(s.slots.queue, k, "pruned")),
                pruned_live=s.pruned_live or v.queue_slot_live(k),
            ),
        )


def prune_claim_act(cfg: Config, s: State, v: View, k: int) -> State:
    """PruneClaimAct(k): truncate claim slot k (no guard; callers check it)."""
    return s._replace(
        claims=frozenset(c for c in s.claims if c.slot != k),
        closures=frozenset(x for x in s.closures if x.slot != k),
        expired=frozenset(a for a in s.expired if v.claim_by_att[a].slot != k),
        slots=s.slots._replace(claim=_set(s.slots.claim, k, "pruned")),
        pruned_live=s.pruned_live or v.claim_slot_live(k),
    )


def prune_claim(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    for k in range(cfg.cslots):
        if s.slots.claim[k] != "sealed":
            continue
        if not (cfg.bug("BugPruneNoGuard") or not v.claim_slot_live(k)):
            continue
        yield ("PruneClaim", {"k": k}, prune_claim_act(cfg, s, v, k))


def dlq_retry(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    for d in sorted(s.dlq):
        ji = job_index(cfg, d.job)
        if s.dlq_retries[ji] >= cfg.max_dlq_retries:
            continue
        yield (
            "DlqRetry",
            {"j": d.job},
            s._replace(
                dlq=s.dlq - {d},
                ready=s.ready | {_new_ready(s, d.job, 1)},
                lanes=s.lanes._replace(next_seq=s.lanes.next_seq + 1),
                terminal=s.terminal - {d.job},
                tries=_set(s.tries, ji, 0),
                dlq_retries=_set(s.dlq_retries, ji, s.dlq_retries[ji] + 1),
            ),
        )


def crash(cfg: Config, s: State, v: View) -> Iterator[Succ]:
    for wi, w in enumerate(cfg.workers):
        if s.held[wi] or s.post[wi]:
            yield (
                "Crash",
                {"w": w},
                s._replace(held=_set(s.held, wi, frozenset()), post=_set(s.post, wi, frozenset())),
            )


# Next, in the spec's disjunct order.
BASE_ACTIONS: tuple[Action, ...] = (
    enqueue,
    enqueue_begin,
    enqueue_commit,
    enqueue_abort,
    cancel,
    dlq_retry,
    claim,
    complete,
    fail,
    heartbeat,
    crash,
    advance_cursor,
    write_result,
    tick,
    rescue,
    promote,
    rotate_queue,
    rotate_claim,
    prune_queue,
    prune_claim,
)
