"""The abstraction function: the rows of a ringq schema -> the variables of the storage spec.

`abstract(conn, schema, names, now)` reads one schema (one REPEATABLE READ, READ ONLY snapshot)
and returns the spec's *database* variables (ring_state, slots, lanes, ready, done, claims,
closures, expired, cancels, deferred, dlq) as the model's own row types (ringq_proof.model.state), so
a step of the real system can be compared with a step of the model (`differences`).

What is not in the rows comes from elsewhere:
* identities: the spec's jobs are model values (j1, j2, ...) and its leases count 1, 2, ...;
  the database has sequence numbers with gaps (a rolled-back claim still burns a run_lease).
  `Names` assigns them in order of first appearance, so a lease's model number is its rank;
* `expired` is time: an open attempt is expired when its effective deadline (claim row and
  heartbeats) is before `now` — the spec's Tick is the clock passing a deadline;
* `held` / `post` live in the workers' memory, `next_lease` in the harness, and the history
  variables (enqueued, terminal, completed, tries, dlq_retries, pruned_live) exist only in the
  spec: `differences` compares the database variables only.

The spec models ONE lane (queue x priority); a schema with more lanes has no abstraction
(`AbstractionError`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from ringq.validation import check_schema
from ringq_proof.model.state import (
    DB_VARIABLES,
    Att,
    Cancel,
    Claim,
    Closure,
    Done,
    JobAttempt,
    Lanes,
    Ready,
    RingState,
    Slots,
    State,
)

# closures written by the attempt's holder carry `by = lease`; rescue/cancel write by = 0
_BY_HOLDER = frozenset({"completed", "failed", "retried", "dlq"})


class AbstractionError(ValueError):
    """The schema holds something the spec cannot express (e.g. a second lane)."""


@dataclass
class Names:
    """job_id -> model job name, run_lease -> model lease, assigned in order of appearance."""

    jobs: dict[int, str] = field(default_factory=dict)
    leases: dict[int, int] = field(default_factory=dict)
    job_prefix: str = "j"

    def job(self, job_id: int) -> str:
        if job_id not in self.jobs:
            self.jobs[job_id] = f"{self.job_prefix}{len(self.jobs) + 1}"
        return self.jobs[job_id]

    def lease(self, run_lease: int | None) -> int:
        if run_lease is None:
            return 0
        if run_lease not in self.leases:
            self.leases[run_lease] = len(self.leases) + 1
        return self.leases[run_lease]

    @property
    def next_lease(self) -> int:
        return len(self.leases) + 1


def _rows(conn: psycopg.Connection, schema: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    composed = sql.SQL(query).format(s=sql.Identifier(schema))
    return conn.execute(composed, params or None).fetchall()


def abstract(conn: psycopg.Connection, schema: str, names: Names, now: datetime) -> dict[str, Any]:
    """The spec's database variables of `schema` at time `now`, as model values."""
    check_schema(schema)
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        rs = dict(_rows(conn, schema, "SELECT ring, current_slot FROM {s}.ring_state"))
        slot_rows = _rows(conn, schema, "SELECT ring, slot, state FROM {s}.slots ORDER BY ring, slot")
        lanes = _rows(conn, schema, "SELECT lane_id, next_seq, claim_seq FROM {s}.lanes ORDER BY lane_id")
        # leases are named in run_lease order, jobs in job_id order (both first appearance)
        for (lease,) in _rows(
            conn,
            schema,
            "SELECT run_lease FROM {s}.claims UNION SELECT run_lease FROM {s}.done "
            "WHERE run_lease IS NOT NULL ORDER BY 1",
        ):
            names.lease(lease)
        ready = _rows(conn, schema, "SELECT job_id, lane_seq, slot, attempt FROM {s}.ready ORDER BY job_id")
        done = _rows(
            conn,
            schema,
            "SELECT job_id, run_lease, outcome, slot, (outcome <> 'completed' OR result IS NOT NULL) "
            "FROM {s}.done ORDER BY job_id",
        )
        claims = _rows(
            conn,
            schema,
            "SELECT job_id, run_lease, lane_seq, ready_slot, attempt, worker, slot FROM {s}.claims ORDER BY job_id",
        )
        closures = _rows(
            conn, schema, "SELECT job_id, run_lease, outcome, slot FROM {s}.closures ORDER BY job_id"
        )
        expired = _rows(
            conn,
            schema,
            """SELECT c.job_id, c.run_lease FROM {s}.claims c
               WHERE NOT EXISTS (SELECT 1 FROM {s}.closures x WHERE x.job_id = c.job_id
                                 AND x.run_lease = c.run_lease AND x.slot = c.slot)
                 AND greatest(c.deadline, (SELECT max(h.deadline) FROM {s}.heartbeats h
                                           WHERE h.job_id = c.job_id AND h.run_lease = c.run_lease
                                             AND h.slot = c.slot)) < %s""",
            now,
        )
        cancels = _rows(conn, schema, "SELECT job_id, slot FROM {s}.cancels")
        deferred = _rows(conn, schema, "SELECT job_id, attempt FROM {s}.deferred")
        dlq = _rows(conn, schema, "SELECT job_id, attempt FROM {s}.dlq")
    if len(lanes) > 1:
        raise AbstractionError(f"schema {schema!r} has {len(lanes)} lanes; the spec models one")
    j = names.job
    lease = names.lease
    queue_slots = tuple(state for ring, _, state in slot_rows if ring == "queue")
    claim_slots = tuple(state for ring, _, state in slot_rows if ring == "claim")
    return {
        "ring_state": RingState(queue=rs["queue"], claim=rs["claim"]),
        "slots": Slots(queue=queue_slots, claim=claim_slots),
        "lanes": Lanes(next_seq=lanes[0][1], claim_seq=lanes[0][2]) if lanes else Lanes(0, 0),
        "ready": frozenset(Ready(j(a), seq, slot, att) for a, seq, slot, att in ready),
        "done": frozenset(Done(j(a), lease(r), o, slot, bool(res)) for a, r, o, slot, res in done),
        "claims": frozenset(
            Claim(j(a), lease(r), seq, rslot, att, w, slot) for a, r, seq, rslot, att, w, slot in claims
        ),
        "closures": frozenset(
            Closure(j(a), lease(r), o, slot, lease(r) if o in _BY_HOLDER else 0) for a, r, o, slot in closures
        ),
        "expired": frozenset(Att(j(a), lease(r)) for a, r in expired),
        "cancels": frozenset(Cancel(j(a), slot) for a, slot in cancels),
        "deferred": frozenset(JobAttempt(j(a), att) for a, att in deferred),
        "dlq": frozenset(JobAttempt(j(a), att) for a, att in dlq),
    }


def project(state: State) -> dict[str, Any]:
    """The database variables of a model state (what `abstract` can be compared with)."""
    return {name: getattr(state, name) for name in DB_VARIABLES}


def differences(state: State, real: dict[str, Any]) -> list[str]:
    """Variable-by-variable differences between a model state and an abstracted schema."""
    out = []
    model = project(state)
    for name in DB_VARIABLES:
        a, b = model[name], real[name]
        if a == b:
            continue
        if isinstance(a, frozenset) and isinstance(b, frozenset):
            out.append(f"{name}: model only {sorted(a - b)}, database only {sorted(b - a)}")
        else:
            out.append(f"{name}: model {a}, database {b}")
    return out


def matching_successor(
    candidates: list[tuple[str, dict[str, Any], State]], real: dict[str, Any]
) -> tuple[str, dict[str, Any], State] | None:
    """Where the real system resolved the spec's nondeterminism: the successor it took, if any."""
    for cand in candidates:
        if not differences(cand[2], real):
            return cand
    return None
