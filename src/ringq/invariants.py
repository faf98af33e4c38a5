"""The storage invariants of DESIGN.md as read-only SQL checks over one ringq schema.

Each `Check` is one SELECT that returns the offending rows (none when the invariant holds), so
a failure always prints what broke. Checks only read; `run_checks` runs them all in one
READ ONLY, REPEATABLE READ transaction, so they see one consistent snapshot and are safe on a
production database (`ringq doctor`).

What the database can prove and what it cannot: the rows of a ringq schema are the *current*
state; prune deliberately forgets history. Invariants about history (a job completed twice
across a pruned slot, a completion acknowledged to a stale worker, a result lost after the
closure) are checked against the execution log in tests (`ringq_proof.execlog`). `DB_CHECKABLE` and
`LOG_CHECKABLE` say which invariant is checked where; most are checked in both, each layer for
the part it can see.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from ringq.sqlfiles import closure_of
from ringq.validation import check_schema


@dataclass(frozen=True)
class Check:
    """One SQL check of one invariant: `query` returns the rows that violate it."""

    invariant: str
    name: str
    description: str
    query: str  # template: {s} is the schema identifier


@dataclass(frozen=True)
class CheckResult:
    check: Check
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rows

    def as_dict(self) -> dict[str, Any]:
        return {
            "invariant": self.check.invariant,
            "check": self.check.name,
            "description": self.check.description,
            "ok": self.ok,
            "rows": [{k: _jsonable(v) for k, v in r.items()} for r in self.rows],
        }


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return str(v)


# Shared fragments -----------------------------------------------------------------------------

_OPEN = f"NOT EXISTS ({closure_of('c', 's')})"  # attempt `c` is open (sqlfiles.closure_of)
_QUEUED = """r.lane_seq >= l.claim_seq
             AND NOT EXISTS (SELECT 1 FROM {s}.cancels k WHERE k.job_id = r.job_id)"""


def ended_in_dlq(c: str) -> str:
    """SQL: attempt `c` (a claims row alias) ended in the DLQ. THE one place this evidence is read
    (issue 13): it is split across rings that are pruned independently — the closure ('dlq' from
    fail, 'rescued' from rescue) lives in the claim ring, the 'dlq' terminal row in the queue
    slot of the row the attempt claimed. A rescued attempt went to the DLQ exactly when its
    attempt number had reached the job's max_attempts (fixed for the job's whole life; read from
    any row of the job that carries it)."""
    return f"""(EXISTS (SELECT 1 FROM {{s}}.closures x WHERE x.job_id = {c}.job_id
                     AND x.run_lease = {c}.run_lease AND x.slot = {c}.slot
                     AND (x.outcome = 'dlq'
                          OR (x.outcome = 'rescued' AND {c}.attempt >= (
                              SELECT m.max_attempts FROM (
                                  SELECT r.max_attempts FROM {{s}}.ready r WHERE r.job_id = {c}.job_id
                                  UNION ALL SELECT d.max_attempts FROM {{s}}.deferred d
                                  WHERE d.job_id = {c}.job_id
                                  UNION ALL SELECT q.max_attempts FROM {{s}}.dlq q
                                  WHERE q.job_id = {c}.job_id) m LIMIT 1))))
         OR EXISTS (SELECT 1 FROM {{s}}.done d WHERE d.job_id = {c}.job_id
                    AND d.run_lease = {c}.run_lease AND d.outcome = 'dlq'))"""


def job_ended_in_dlq(j: str) -> str:
    """SQL: job `j` (a job_id expression) was last seen ending in the DLQ: its latest attempt on
    record did (`ended_in_dlq`), or — its claim rows pruned — a 'dlq' terminal row lies in the
    queue slot of its latest ready row (a DLQ retry appends a later row; the attempt that
    claimed a row writes its terminal row in that row's slot)."""
    return f"""(EXISTS (SELECT 1 FROM (SELECT c.* FROM {{s}}.claims c WHERE c.job_id = {j}
                                ORDER BY c.run_lease DESC LIMIT 1) c WHERE {ended_in_dlq("c")})
         OR (NOT EXISTS (SELECT 1 FROM {{s}}.claims c WHERE c.job_id = {j})
             AND EXISTS (SELECT 1 FROM {{s}}.done d WHERE d.job_id = {j} AND d.outcome = 'dlq'
                         AND d.slot = (SELECT r.slot FROM {{s}}.ready r WHERE r.job_id = {j}
                                       ORDER BY r.lane_seq DESC LIMIT 1))))"""


_LIVE_PLACES = f"""
    WITH jobs AS (
        SELECT job_id FROM {{s}}.ready UNION SELECT job_id FROM {{s}}.claims
        UNION SELECT job_id FROM {{s}}.deferred UNION SELECT job_id FROM {{s}}.dlq
        UNION SELECT job_id FROM {{s}}.done UNION SELECT job_id FROM {{s}}.cancels
    ), places AS (
        SELECT j.job_id,
               (SELECT count(*) FROM {{s}}.ready r JOIN {{s}}.lanes l ON l.lane_id = r.lane_id
                WHERE r.job_id = j.job_id AND {_QUEUED}) AS queued,
               (SELECT count(*) FROM {{s}}.claims c WHERE c.job_id = j.job_id AND {_OPEN}) AS running,
               (SELECT count(*) FROM {{s}}.deferred d WHERE d.job_id = j.job_id) AS deferred
        FROM jobs j
    )"""

CHECKS: tuple[Check, ...] = (
    # -- TypeOK: the ring bookkeeping itself ----------------------------------------------------
    Check(
        "TypeOK",
        "ring_current_slot_open",
        "each ring has exactly one open slot and it is ring_state.current_slot",
        """SELECT rs.ring, rs.current_slot,
                  (SELECT array_agg(s.slot ORDER BY s.slot) FROM {s}.slots s
                   WHERE s.ring = rs.ring AND s.state = 'open') AS open_slots
           FROM {s}.ring_state rs
           WHERE (SELECT array_agg(s.slot) FROM {s}.slots s
                  WHERE s.ring = rs.ring AND s.state = 'open') IS DISTINCT FROM ARRAY[rs.current_slot]""",
    ),
    # -- NoLostJob ------------------------------------------------------------------------------
    Check(
        "NoLostJob",
        "job_in_several_live_places",
        "a job is in at most one live place (queued ready row, open attempt, deferred row)",
        _LIVE_PLACES
        + """
        SELECT job_id, queued, running, deferred FROM places
        WHERE queued + running + deferred > 1 ORDER BY job_id""",
    ),
    Check(
        "NoLostJob",
        "job_nowhere",
        "a job with rows left is live somewhere or has terminal evidence (done/dlq/cancel/closure)",
        _LIVE_PLACES
        + """
        SELECT p.job_id,
               (SELECT array_agg(c.run_lease || ':' || coalesce(x.outcome, 'open') ORDER BY c.run_lease)
                FROM {s}.claims c LEFT JOIN {s}.closures x
                  ON x.job_id = c.job_id AND x.run_lease = c.run_lease AND x.slot = c.slot
                WHERE c.job_id = p.job_id) AS attempts,
               (SELECT array_agg(r.slot || '/' || r.lane_seq || '@' || r.attempt ORDER BY r.lane_seq)
                FROM {s}.ready r WHERE r.job_id = p.job_id) AS ready_rows
        FROM places p
        WHERE p.queued + p.running + p.deferred = 0
          AND NOT EXISTS (SELECT 1 FROM {s}.dlq q WHERE q.job_id = p.job_id)
          AND NOT EXISTS (SELECT 1 FROM {s}.cancels k WHERE k.job_id = p.job_id)
          AND NOT EXISTS (SELECT 1 FROM {s}.done d WHERE d.job_id = p.job_id
                          AND (d.outcome IN ('completed', 'cancelled') OR d.run_lease IS NULL))
          AND NOT EXISTS (SELECT 1 FROM {s}.closures x WHERE x.job_id = p.job_id
                          AND x.outcome IN ('completed', 'cancelled'))
          -- it went to the DLQ (then purged: a DLQ'd job still there was checked above)
          AND NOT """
        + job_ended_in_dlq("p.job_id")
        + """
          -- the latest attempt still on record explains the silence:
          AND NOT EXISTS (
              SELECT 1 FROM (SELECT c.* FROM {s}.claims c WHERE c.job_id = p.job_id
                             ORDER BY c.run_lease DESC LIMIT 1) c
                 -- it is closed and the queue slot of the row it claimed is pruned. Its successor
                 -- (retry/rescue) was appended later, so it sat in that slot or a newer one, and
                 -- prune takes slots oldest first: a cancelled successor whose terminal row was
                 -- pruned looks like a lost one here. A lost successor still queued is caught by
                 -- PruneSafety/CountersMatch (lane cursor); the rest by the execution log.
              WHERE (EXISTS (SELECT 1 FROM {s}.closures x WHERE x.job_id = c.job_id
                             AND x.run_lease = c.run_lease AND x.slot = c.slot)
                     AND NOT EXISTS (SELECT 1 FROM {s}.ready r WHERE r.lane_id = c.lane_id
                                     AND r.lane_seq = c.lane_seq AND r.slot = c.ready_slot)))
          -- no attempt on record and a dead-letter terminal row: DLQ'd, history pruned
          AND NOT (NOT EXISTS (SELECT 1 FROM {s}.claims c WHERE c.job_id = p.job_id)
                   AND NOT EXISTS (SELECT 1 FROM {s}.ready r WHERE r.job_id = p.job_id)
                   AND EXISTS (SELECT 1 FROM {s}.done d WHERE d.job_id = p.job_id))
        ORDER BY p.job_id""",
    ),
    Check(
        "NoLostJob",
        "finished_job_live",
        "a job that completed or was cancelled is not live again (queued, running or deferred)",
        _LIVE_PLACES
        + """
        SELECT p.job_id, p.queued, p.running, p.deferred,
               (SELECT array_agg(DISTINCT d.outcome) FROM {s}.done d WHERE d.job_id = p.job_id
                AND d.outcome IN ('completed', 'cancelled')) AS finished_as
        FROM places p
        WHERE p.queued + p.running + p.deferred > 0
          AND (EXISTS (SELECT 1 FROM {s}.done d WHERE d.job_id = p.job_id
                       AND d.outcome IN ('completed', 'cancelled'))
               OR EXISTS (SELECT 1 FROM {s}.closures x WHERE x.job_id = p.job_id
                          AND x.outcome IN ('completed', 'cancelled')))
        ORDER BY p.job_id""",
    ),
    # -- NoDuplicateCompletion ------------------------------------------------------------------
    Check(
        "NoDuplicateCompletion",
        "completed_twice",
        "a job has at most one 'completed' closure and one 'completed' terminal row",
        """SELECT job_id, 'closures' AS kind, array_agg(run_lease ORDER BY run_lease) AS leases
           FROM {s}.closures WHERE outcome = 'completed' GROUP BY job_id HAVING count(*) > 1
           UNION ALL
           SELECT job_id, 'done', array_agg(run_lease ORDER BY run_lease)
           FROM {s}.done WHERE outcome = 'completed' GROUP BY job_id HAVING count(*) > 1
           ORDER BY 1, 2""",
    ),
    Check(
        "NoDuplicateCompletion",
        "claimed_after_completion",
        "a completed job is never claimed (executed) again",
        """WITH fin AS (
               SELECT job_id, min(run_lease) AS lease FROM (
                   SELECT job_id, run_lease FROM {s}.closures WHERE outcome = 'completed'
                   UNION ALL
                   SELECT job_id, run_lease FROM {s}.done WHERE outcome = 'completed') t
               GROUP BY job_id)
           SELECT c.job_id, fin.lease AS completed_lease, c.run_lease AS later_lease, c.worker
           FROM {s}.claims c JOIN fin ON fin.job_id = c.job_id AND c.run_lease > fin.lease
           ORDER BY c.job_id, c.run_lease""",
    ),
    # -- SingleOpenAttempt ----------------------------------------------------------------------
    Check(
        "SingleOpenAttempt",
        "several_open_attempts",
        "a job has at most one open attempt (claim row without closure)",
        """SELECT c.job_id, array_agg(c.run_lease ORDER BY c.run_lease) AS open_leases,
                  array_agg(c.worker ORDER BY c.run_lease) AS workers
           FROM {s}.claims c WHERE """
        + _OPEN
        + """
           GROUP BY c.job_id HAVING count(*) > 1 ORDER BY c.job_id""",
    ),
    # -- FencedFinalize -------------------------------------------------------------------------
    Check(
        "FencedFinalize",
        "closure_without_claim",
        "every closure closes an attempt whose claim row is in the same claim slot",
        """SELECT x.slot, x.job_id, x.run_lease, x.outcome FROM {s}.closures x
           WHERE NOT EXISTS (SELECT 1 FROM {s}.claims c WHERE c.job_id = x.job_id
                             AND c.run_lease = x.run_lease AND c.slot = x.slot)
           ORDER BY x.job_id, x.run_lease""",
    ),
    Check(
        "FencedFinalize",
        "attempt_closed_twice",
        "exactly one closer wins: at most one closure per attempt (job_id, run_lease)",
        """SELECT job_id, run_lease, array_agg(outcome ORDER BY slot) AS outcomes
           FROM {s}.closures GROUP BY job_id, run_lease HAVING count(*) > 1
           ORDER BY job_id, run_lease""",
    ),
    Check(
        "FencedFinalize",
        "terminal_row_disagrees_with_closure",
        "a terminal row of an attempt on record matches that attempt's closure",
        """SELECT d.job_id, d.run_lease, d.outcome AS done_outcome, x.outcome AS closure_outcome
           FROM {s}.done d
           JOIN {s}.claims c ON c.job_id = d.job_id AND c.run_lease = d.run_lease
           LEFT JOIN {s}.closures x
             ON x.job_id = c.job_id AND x.run_lease = c.run_lease AND x.slot = c.slot
           WHERE x.outcome IS NULL
              OR NOT (d.outcome = x.outcome OR (d.outcome = 'dlq' AND x.outcome = 'rescued'))
           ORDER BY d.job_id, d.run_lease""",
    ),
    Check(
        "FencedFinalize",
        "closed_without_terminal_row",
        "a 'completed' / 'cancelled' / 'dlq' closure has its terminal row (while its ready row exists)",
        """SELECT x.job_id, x.run_lease, x.outcome FROM {s}.closures x
           JOIN {s}.claims c ON c.job_id = x.job_id AND c.run_lease = x.run_lease AND c.slot = x.slot
           JOIN {s}.ready r ON r.slot = c.ready_slot AND r.lane_id = c.lane_id AND r.lane_seq = c.lane_seq
           WHERE x.outcome IN ('completed', 'cancelled', 'dlq')
             AND NOT EXISTS (SELECT 1 FROM {s}.done d WHERE d.job_id = x.job_id
                             AND d.run_lease = x.run_lease AND d.outcome = x.outcome)
           ORDER BY x.job_id, x.run_lease""",
    ),
    # -- PruneSafety ----------------------------------------------------------------------------
    Check(
        "PruneSafety",
        "rows_in_pruned_slot",
        "a pruned slot holds no rows",
        """SELECT 'ready' AS tbl, r.slot, count(*) AS n FROM {s}.ready r
             JOIN {s}.slots s ON s.ring = 'queue' AND s.slot = r.slot AND s.state = 'pruned' GROUP BY r.slot
           UNION ALL
           SELECT 'done', d.slot, count(*) FROM {s}.done d
             JOIN {s}.slots s ON s.ring = 'queue' AND s.slot = d.slot AND s.state = 'pruned' GROUP BY d.slot
           UNION ALL
           SELECT 'claims', c.slot, count(*) FROM {s}.claims c
             JOIN {s}.slots s ON s.ring = 'claim' AND s.slot = c.slot AND s.state = 'pruned' GROUP BY c.slot
           UNION ALL
           SELECT 'closures', x.slot, count(*) FROM {s}.closures x
             JOIN {s}.slots s ON s.ring = 'claim' AND s.slot = x.slot AND s.state = 'pruned' GROUP BY x.slot
           UNION ALL
           SELECT 'cancels', k.slot, count(*) FROM {s}.cancels k
             JOIN {s}.slots s ON s.ring = 'queue' AND s.slot = k.slot AND s.state = 'pruned' GROUP BY k.slot
           ORDER BY 1, 2""",
    ),
    Check(
        "PruneSafety",
        "open_attempt_lost_ready_row",
        "an open attempt's ready row (its payload, in its queue slot) still exists",
        """SELECT c.job_id, c.run_lease, c.ready_slot, c.lane_id, c.lane_seq FROM {s}.claims c
           WHERE """
        + _OPEN
        + """
             AND NOT EXISTS (SELECT 1 FROM {s}.ready r WHERE r.slot = c.ready_slot
                             AND r.lane_id = c.lane_id AND r.lane_seq = c.lane_seq)
           ORDER BY c.job_id""",
    ),
    Check(
        "PruneSafety",
        "queued_row_missing",
        "every lane_seq in [claim_seq, next_seq) still has its ready row (nothing queued was pruned)",
        """SELECT l.lane_id, l.queue, l.priority, seq AS missing_lane_seq
           FROM {s}.lanes l, generate_series(l.claim_seq, l.next_seq - 1) AS seq
           WHERE NOT EXISTS (SELECT 1 FROM {s}.ready r WHERE r.lane_id = l.lane_id AND r.lane_seq = seq)
           ORDER BY l.lane_id, seq LIMIT 1000""",
    ),
    # -- ClaimOrder -----------------------------------------------------------------------------
    Check(
        "ClaimOrder",
        "claims_out_of_lane_order",
        "within a lane, later claims (higher run_lease) take strictly higher lane_seq (no row twice)",
        """SELECT lane_id, prev_lease, prev_seq, run_lease, lane_seq, job_id FROM (
               SELECT c.*, lag(c.run_lease) OVER w AS prev_lease, lag(c.lane_seq) OVER w AS prev_seq
               FROM {s}.claims c WINDOW w AS (PARTITION BY c.lane_id ORDER BY c.run_lease)) t
           WHERE prev_seq IS NOT NULL AND lane_seq <= prev_seq ORDER BY lane_id, run_lease""",
    ),
    Check(
        "ClaimOrder",
        "claimed_beyond_cursor",
        "a claimed row lies below its lane's claim cursor",
        """SELECT c.job_id, c.run_lease, c.lane_id, c.lane_seq, l.claim_seq FROM {s}.claims c
           JOIN {s}.lanes l ON l.lane_id = c.lane_id WHERE c.lane_seq >= l.claim_seq
           ORDER BY c.job_id, c.run_lease""",
    ),
    Check(
        "ClaimOrder",
        "cancelled_row_claimed",
        "a ready row cancelled before its claim is never claimed",
        """SELECT c.job_id, c.run_lease, c.lane_id, c.lane_seq FROM {s}.claims c
           JOIN {s}.cancels k ON k.job_id = c.job_id AND k.lane_id = c.lane_id AND k.lane_seq = c.lane_seq
           ORDER BY c.job_id""",
    ),
    # -- CountersMatch --------------------------------------------------------------------------
    Check(
        "CountersMatch",
        "lane_counters_match_rows",
        "a lane's next_seq - claim_seq equals its ready rows at or past the cursor; none past next_seq",
        """SELECT l.lane_id, l.queue, l.priority, l.claim_seq, l.next_seq,
                  (SELECT count(*) FROM {s}.ready r WHERE r.lane_id = l.lane_id
                   AND r.lane_seq >= l.claim_seq) AS rows_past_cursor,
                  (SELECT max(r.lane_seq) FROM {s}.ready r WHERE r.lane_id = l.lane_id) AS max_lane_seq
           FROM {s}.lanes l
           WHERE l.claim_seq > l.next_seq
              OR (SELECT count(*) FROM {s}.ready r WHERE r.lane_id = l.lane_id
                  AND r.lane_seq >= l.claim_seq) <> l.next_seq - l.claim_seq
              OR EXISTS (SELECT 1 FROM {s}.ready r WHERE r.lane_id = l.lane_id AND r.lane_seq >= l.next_seq)
           ORDER BY l.lane_id""",
    ),
    Check(
        "CountersMatch",
        "row_in_foreign_lane",
        "a ready row's (queue, priority) is its lane's key",
        """SELECT r.job_id, r.slot, r.lane_id, r.lane_seq, r.queue, r.priority,
                  l.queue AS lane_queue, l.priority AS lane_priority
           FROM {s}.ready r JOIN {s}.lanes l ON l.lane_id = r.lane_id
           WHERE (r.queue, r.priority) IS DISTINCT FROM (l.queue, l.priority)
           ORDER BY r.job_id""",
    ),
    # -- AttemptLimitRespected ------------------------------------------------------------------
    Check(
        "AttemptLimitRespected",
        "attempt_over_limit",
        "no row carries an attempt number above its job's max_attempts",
        """SELECT 'ready' AS tbl, job_id, attempt, max_attempts FROM {s}.ready WHERE attempt > max_attempts
           UNION ALL
           SELECT 'deferred', job_id, attempt, max_attempts FROM {s}.deferred WHERE attempt > max_attempts
           UNION ALL
           SELECT 'claims', c.job_id, c.attempt, r.max_attempts FROM {s}.claims c
             JOIN {s}.ready r ON r.slot = c.ready_slot AND r.lane_id = c.lane_id AND r.lane_seq = c.lane_seq
             WHERE c.attempt > r.max_attempts OR c.attempt <> r.attempt
           ORDER BY 2""",
    ),
    Check(
        "AttemptLimitRespected",
        "attempt_not_counted",
        "each new attempt of a job counts up by one (reset to 1 only by a DLQ retry)",
        """SELECT job_id, prev_lease, prev_attempt, prev_outcome, run_lease, attempt FROM (
               SELECT c.job_id, c.run_lease, c.attempt,
                      lag(c.run_lease) OVER w AS prev_lease, lag(c.attempt) OVER w AS prev_attempt,
                      lag(x.outcome) OVER w AS prev_outcome,
                      lag("""
        + ended_in_dlq("c")
        + """) OVER w AS prev_dlq
               FROM {s}.claims c
               LEFT JOIN {s}.closures x
                 ON x.job_id = c.job_id AND x.run_lease = c.run_lease AND x.slot = c.slot
               WINDOW w AS (PARTITION BY c.job_id ORDER BY c.run_lease)) t
           WHERE prev_lease IS NOT NULL AND attempt <> prev_attempt + 1
             AND NOT (attempt = 1 AND prev_dlq)
           ORDER BY job_id, run_lease""",
    ),
)

# Invariants and where they are checked ---------------------------------------------------------

# Invariant -> what the SQL checks of it can see in the rows (`ringq doctor`).
DB_CHECKABLE: dict[str, str] = {
    "TypeOK": "ring bookkeeping: one open slot per ring, the current one",
    "NoLostJob": "every job with rows left is in exactly one live place or terminal",
    "NoDuplicateCompletion": "no job completed twice / claimed after completion among rows on record",
    "SingleOpenAttempt": "at most one open attempt per job",
    "FencedFinalize": "closures match claims one-to-one; terminal rows match closures",
    "PruneSafety": "pruned slots empty; no open attempt or queued row lost its ready row",
    "ClaimOrder": "claims follow lane_seq order per lane, below the cursor, never a cancelled row",
    "CountersMatch": "lane next_seq/claim_seq match the ready rows they count",
    "AttemptLimitRespected": "attempt numbers within max_attempts and counted up per attempt",
}

# Invariant -> the part only the execution log (tests) can check: history prune removed, or
# facts the database never records (who was told what).
LOG_CHECKABLE: dict[str, str] = {
    "NoLostJob": "every acknowledged enqueue ends executed-and-completed, dead-lettered or cancelled",
    "NoDuplicateCompletion": "no attempt executed after an acknowledged completion, across pruned slots",
    "FencedFinalize": "an acknowledged completion's own attempt is the one closed 'completed'",
    "TerminalHasResult": "the result of an acknowledged completion is stored with its terminal row",
    "AttemptLimitRespected": "no job executed more than max_attempts times per life",
    "BatchAtomic": "a batch enqueue is visible entirely or not at all",
    "NoDeadlock": "no transaction aborted with deadlock_detected (40P01) under concurrency",
    "LockGraphAcyclic": "lock-order probe: every multi-lane transaction takes lane rows in lane_id order",
}

# Not checkable on a live database at all (checked by the spec / model only).
MODEL_ONLY: dict[str, str] = {
    "EventuallyTerminal": "liveness under fairness: the concurrency test drains and checks it empirically",
    "RTypeOK": "the Races spec's type invariant (model variables the database does not have)",
    "LockCompatibility": "enforced by PostgreSQL's lock manager itself; nothing in the rows to check",
    "ClosureSourceNotPruned": "alternative design (ADR 0010, deferred materialisation), not shipped",
    "ReaderProjectionConsistent": "alternative design (ADR 0010, deferred materialisation), not shipped",
    "TerminalRowInLiveSlot": "alternative design (ADR 0010); shipped design: PruneSafety/rows_in_pruned_slot",
    "EventuallyMaterialised": "alternative design (ADR 0010, deferred materialisation), not shipped",
}


def checks_for(invariant: str) -> list[Check]:
    return [c for c in CHECKS if c.invariant == invariant]


def _compose(check: Check, schema: str) -> sql.Composed:
    return sql.SQL(check.query).format(s=sql.Identifier(schema))


def run_check(conn: psycopg.Connection, schema: str, check: Check) -> CheckResult:
    cur = conn.execute(_compose(check, check_schema(schema)))
    names = [d.name for d in cur.description or ()]
    return CheckResult(check, [dict(zip(names, row, strict=True)) for row in cur.fetchall()])


def run_checks(
    conn: psycopg.Connection, schema: str, invariants: Sequence[str] | None = None
) -> list[CheckResult]:
    """Every check (or those of `invariants`) in one READ ONLY snapshot; nothing is written.

    `conn` must be idle (no transaction open); it is left idle.
    """
    check_schema(schema)
    chosen = [c for c in CHECKS if invariants is None or c.invariant in invariants]
    if not chosen:
        return []
    # One statement, one round trip: every check's rows as (check index, row as jsonb).
    parts = [
        sql.SQL("(SELECT {i}::int AS i, to_jsonb(q.*) AS row FROM ({body}) q)").format(
            i=sql.Literal(i), body=_compose(c, schema)
        )
        for i, c in enumerate(chosen)
    ]
    query = sql.SQL(" UNION ALL ").join(parts)
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        rows = conn.execute(query).fetchall()
    found: list[list[dict[str, Any]]] = [[] for _ in chosen]
    for i, row in rows:
        found[i].append(row)
    return [CheckResult(c, found[i]) for i, c in enumerate(chosen)]


def violations(conn: psycopg.Connection, schema: str) -> list[CheckResult]:
    return [r for r in run_checks(conn, schema) if not r.ok]


def format_violations(results: Sequence[CheckResult], limit: int = 5) -> str:
    lines = []
    for r in results:
        if r.ok:
            continue
        lines.append(f"{r.check.invariant} violated ({r.check.name}: {r.check.description}):")
        for row in r.rows[:limit]:
            lines.append("    " + ", ".join(f"{k}={v}" for k, v in row.items()))
        if len(r.rows) > limit:
            lines.append(f"    ... {len(r.rows) - limit} more")
    return "\n".join(lines)


class InvariantViolation(AssertionError):
    def __init__(self, results: Sequence[CheckResult]) -> None:
        self.results = list(results)
        self.invariants = sorted({r.check.invariant for r in results})
        super().__init__(format_violations(results))


def assert_invariants(conn: psycopg.Connection, schema: str) -> None:
    """Raise `InvariantViolation` (an AssertionError naming the invariants and rows) on any violation."""
    bad = violations(conn, schema)
    if bad:
        raise InvariantViolation(bad)


# One Python check function per invariant: `check_<Invariant>`, the `sql` column of
# spec/invariants.toml. Made on access for each invariant that has SQL checks (CHECKS), so the
# names are not written a second time here.


@functools.cache
def _by_invariant(name: str) -> Callable[[psycopg.Connection, str], list[CheckResult]]:
    def check(conn: psycopg.Connection, schema: str) -> list[CheckResult]:
        return [r for r in run_checks(conn, schema, [name]) if not r.ok]

    check.__name__ = f"check_{name}"
    check.__doc__ = f"The SQL checks of {name}: {DB_CHECKABLE[name]}. Returns the violated checks."
    return check


def __getattr__(attr: str) -> Callable[[psycopg.Connection, str], list[CheckResult]]:
    name = attr.removeprefix("check_")
    if name != attr and name in DB_CHECKABLE and checks_for(name):
        return _by_invariant(name)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
