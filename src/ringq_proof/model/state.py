"""Immutable, hashable model states: the variables of SegmentedStorage(.Races), same names.

Rows are NamedTuples with the spec's record fields; `to_canonical` turns a state into the
canonical TLA+ encoding (tlacheck.canonical) the built-in checker produces, so the two
reachable-state sets can be compared value for value.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ringq_proof.model.config import Config
from tlacheck.canonical import CanonState, Fn, ModelValue, mv, rec


class RingState(NamedTuple):
    queue: int
    claim: int


class Slots(NamedTuple):
    queue: tuple[str, ...]
    claim: tuple[str, ...]


class Lanes(NamedTuple):
    next_seq: int
    claim_seq: int


class Ready(NamedTuple):
    job: str
    seq: int
    slot: int
    attempt: int


class Done(NamedTuple):
    job: str
    lease: int
    outcome: str
    slot: int
    result: bool


class Claim(NamedTuple):
    job: str
    lease: int
    seq: int
    rslot: int
    attempt: int
    worker: str
    slot: int


class Closure(NamedTuple):
    job: str
    lease: int
    outcome: str
    slot: int
    by: int


class Att(NamedTuple):
    job: str
    lease: int


class Cancel(NamedTuple):
    job: str
    slot: int


class JobAttempt(NamedTuple):
    """A `deferred` or `dlq` row."""

    job: str
    attempt: int


class StagedSeq(NamedTuple):
    """BugSeqAtBegin only: the lane_seq a staged job took when its enqueue transaction began."""

    job: str
    seq: int


class Step(NamedTuple):
    """A post-commit step a worker still has to run (only the bug switches have them)."""

    op: str
    job: str
    lease: int
    seq: int


NO_LOCK = "none"
NOT_CLAIMING = -1
NOT_PRUNING = -1


class State(NamedTuple):
    ring_state: RingState
    slots: Slots
    lanes: Lanes
    ready: frozenset[Ready]
    done: frozenset[Done]
    claims: frozenset[Claim]
    closures: frozenset[Closure]
    expired: frozenset[Att]
    cancels: frozenset[Cancel]
    deferred: frozenset[JobAttempt]
    dlq: frozenset[JobAttempt]
    next_lease: int
    held: tuple[frozenset[Att], ...]  # indexed like Config.workers
    post: tuple[frozenset[Step], ...]
    enqueued: frozenset[str]
    terminal: frozenset[str]
    completed: tuple[frozenset[int], ...]  # indexed like Config.jobs
    tries: tuple[int, ...]
    dlq_retries: tuple[int, ...]
    pruned_live: bool
    # enqueue transactions on the caller's connection (EnqueueBegin .. EnqueueCommit/Abort)
    staged: frozenset[str] = frozenset()
    staged_seq: frozenset[StagedSeq] = frozenset()  # BugSeqAtBegin only; always empty otherwise
    # SegmentedStorageRaces only (left at these values by the base spec)
    lane_lock: str = NO_LOCK
    claiming: tuple[int, ...] = ()
    pruning: int = NOT_PRUNING


# The variables the database itself holds (ringq_proof.abstraction maps rows onto exactly these).
# `staged` is a table too, but its rows are visible only to their own (open) transaction, so an
# outside snapshot never sees them: it is not among them.
DB_VARIABLES = (
    "ring_state",
    "slots",
    "lanes",
    "ready",
    "done",
    "claims",
    "closures",
    "expired",
    "cancels",
    "deferred",
    "dlq",
)
BASE_VARIABLES = (
    *DB_VARIABLES,
    "next_lease",
    "held",
    "post",
    "enqueued",
    "terminal",
    "completed",
    "tries",
    "dlq_retries",
    "pruned_live",
    "staged",
    "staged_seq",
)
RACE_VARIABLES = ("lane_lock", "claiming", "pruning")


def variables(cfg: Config) -> tuple[str, ...]:
    return BASE_VARIABLES + (RACE_VARIABLES if cfg.races else ())


def initial_state(cfg: Config) -> State:
    return State(
        ring_state=RingState(0, 0),
        slots=Slots(
            tuple("open" if k == 0 else "pruned" for k in range(cfg.qslots)),
            tuple("open" if k == 0 else "pruned" for k in range(cfg.cslots)),
        ),
        lanes=Lanes(0, 0),
        ready=frozenset(),
        done=frozenset(),
        claims=frozenset(),
        closures=frozenset(),
        expired=frozenset(),
        cancels=frozenset(),
        deferred=frozenset(),
        dlq=frozenset(),
        next_lease=1,
        held=tuple(frozenset() for _ in cfg.workers),
        post=tuple(frozenset() for _ in cfg.workers),
        enqueued=frozenset(),
        terminal=frozenset(),
        completed=tuple(frozenset() for _ in cfg.jobs),
        tries=tuple(0 for _ in cfg.jobs),
        dlq_retries=tuple(0 for _ in cfg.jobs),
        pruned_live=False,
        claiming=tuple(NOT_CLAIMING for _ in cfg.workers) if cfg.races else (),
    )


# --- canonical TLA+ encoding ------------------------------------------------------------

_MV_FIELDS = {"job", "worker"}


def _row(row: NamedTuple) -> Fn:
    return rec(**{k: (mv(v) if k in _MV_FIELDS else v) for k, v in row._asdict().items()})


def _rows(rows: frozenset[Any]) -> frozenset[Fn]:
    return frozenset(_row(r) for r in rows)


def to_canonical(s: State, cfg: Config) -> CanonState:
    """The state as the built-in checker encodes it (records = Fn, model values = ModelValue)."""
    w = [mv(x) for x in cfg.workers]
    j = [mv(x) for x in cfg.jobs]
    out: dict[str, Any] = {
        "ring_state": rec(queue=s.ring_state.queue, claim=s.ring_state.claim),
        "slots": rec(
            queue=Fn(enumerate(s.slots.queue)),
            claim=Fn(enumerate(s.slots.claim)),
        ),
        "lanes": rec(next_seq=s.lanes.next_seq, claim_seq=s.lanes.claim_seq),
        "ready": _rows(s.ready),
        "done": _rows(s.done),
        "claims": _rows(s.claims),
        "closures": _rows(s.closures),
        "expired": _rows(s.expired),
        "cancels": _rows(s.cancels),
        "deferred": _rows(s.deferred),
        "dlq": _rows(s.dlq),
        "next_lease": s.next_lease,
        "held": Fn(zip(w, (_rows(h) for h in s.held), strict=True)),
        "post": Fn(zip(w, (_rows(p) for p in s.post), strict=True)),
        "enqueued": frozenset(mv(x) for x in s.enqueued),
        "terminal": frozenset(mv(x) for x in s.terminal),
        "completed": Fn(zip(j, s.completed, strict=True)),
        "tries": Fn(zip(j, s.tries, strict=True)),
        "dlq_retries": Fn(zip(j, s.dlq_retries, strict=True)),
        "pruned_live": s.pruned_live,
        "staged": frozenset(mv(x) for x in s.staged),
        "staged_seq": _rows(s.staged_seq),
    }
    if cfg.races:
        out["lane_lock"] = mv(s.lane_lock) if s.lane_lock != NO_LOCK else NO_LOCK
        out["claiming"] = Fn(zip(w, s.claiming, strict=True))
        out["pruning"] = s.pruning
    return CanonState(out)


def model_value_name(v: Any) -> str:
    return v.name if isinstance(v, ModelValue) else str(v)
