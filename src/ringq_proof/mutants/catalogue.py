"""The mutant catalogue: named, switchable bug injections in the real implementation (data only).

A mutant is the shipped SQL of one or more transactions with a textual patch applied
(`ringq_proof.mutants.patch` installs it into one test schema), plus, where the bug lives in the
caller, a client flag the stateful harness consults (`Mutant.client`). Every patch names an anchor
that must occur in the shipped text exactly `count` times, so a refactor of the SQL cannot
silently disable a mutant. Nothing here runs unless a test asks for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ENV_MUTANT = "RINGQ_MUTANT"
ENV_REPORT = "RINGQ_MUTANT_REPORT"


class MutantAnchorMissing(RuntimeError):
    """A mutant's anchor is not in the shipped SQL (the SQL changed): update the mutant."""


@dataclass(frozen=True)
class Patch:
    """Replace `anchor` (which must occur exactly `count` times) by `replacement` in `file`."""

    file: str
    anchor: str
    replacement: str
    count: int = 1


@dataclass(frozen=True)
class Derived:
    """A new function made from a shipped file: rename `CREATE FUNCTION {schema}.<old>(`, then patch."""

    file: str
    old_name: str
    new_name: str
    patches: tuple[tuple[str, str, int], ...] = ()  # (anchor, replacement, count)


@dataclass(frozen=True)
class Mutant:
    name: str
    number: int
    description: str
    patches: tuple[Patch, ...] = ()
    derived: tuple[Derived, ...] = ()
    extra_sql: tuple[str, ...] = ()  # new helper functions (templates with {schema})
    client: frozenset[str] = frozenset()  # harness-side behaviour switches
    tla_switch: str | None = None  # the matching CONSTANT of correctness/storage/*.tla
    suite: str = "stateful"  # which test catches it: stateful | lockorder | concurrent
    expected: tuple[str, ...] = ()  # invariants expected to catch it


_OPEN_X = (
    "NOT EXISTS (SELECT 1 FROM {schema}.closures x0 WHERE x0.job_id = c.job_id "
    "AND x0.run_lease = c.run_lease AND x0.slot = c.slot)"
)

MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "cursor_after_commit",
        1,
        "claim commits its claim rows but advances the lane cursor in a separate, later "
        "transaction; claim keeps trusting the cursor alone (no closure/claim evidence consulted). "
        "A crash between the two (claim.after_commit) hands the same ready row out again.",
        patches=(
            Patch(
                "claim.sql",
                "UPDATE {schema}.lanes l SET claim_seq = v_end WHERE l.lane_id = lane.lane_id;",
                "NULL;  -- MUTANT cursor_after_commit: the caller advances the cursor later",
            ),
        ),
        extra_sql=(
            """CREATE OR REPLACE FUNCTION {schema}._mutant_advance(p_job_ids bigint[], p_run_leases bigint[])
RETURNS void LANGUAGE sql AS $$
    UPDATE {schema}.lanes l SET claim_seq = greatest(l.claim_seq, t.m + 1)
    FROM (SELECT c.lane_id, max(c.lane_seq) AS m FROM {schema}.claims c
          JOIN unnest(p_job_ids, p_run_leases) AS u(j, r) ON c.job_id = u.j AND c.run_lease = u.r
          GROUP BY c.lane_id) t
    WHERE l.lane_id = t.lane_id
$$""",
        ),
        client=frozenset({"advance_after_commit"}),
        tla_switch="BugCursorAfterCommit",
        expected=("ClaimOrder", "SingleOpenAttempt", "NoDuplicateCompletion"),
    ),
    Mutant(
        "prune_no_attempt_guard",
        2,
        "prune truncates a slot without checking for open attempts whose claim row (claim ring) "
        "or ready row (queue ring) lives there.",
        patches=(
            Patch("prune.sql", "WHERE c.ready_slot = v_slot", "WHERE false AND c.ready_slot = v_slot"),
            Patch("prune.sql", "WHERE c.slot = v_slot\n", "WHERE false AND c.slot = v_slot\n"),
        ),
        tla_switch="BugPruneNoGuard",
        expected=("NoLostJob", "PruneSafety"),
    ),
    Mutant(
        "prune_check_then_act",
        3,
        "prune evaluates its guard in one transaction (prune_guard) and truncates the ring's "
        "oldest sealed slot in a later one (prune_unguarded), without re-checking under the lock: "
        "a slow maintenance leader truncates a slot that was sealed after its check.",
        derived=(
            Derived(
                "prune.sql",
                "prune",
                "prune_unguarded",
                (("IF v_blocker IS NOT NULL THEN", "IF false THEN  -- MUTANT: no re-check", 2),),
            ),
        ),
        extra_sql=(
            # The check half: run the real prune, keep its verdict, roll its effect back.
            """CREATE OR REPLACE FUNCTION {schema}.prune_guard(p_ring text, p_lock_timeout_ms integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_slot integer;
BEGIN
    BEGIN
        v_slot := {schema}.prune(p_ring, p_lock_timeout_ms);
        RAISE EXCEPTION USING ERRCODE = 'RQ999', MESSAGE = coalesce(v_slot::text, '');
    EXCEPTION WHEN SQLSTATE 'RQ999' THEN
        RETURN nullif(SQLERRM, '')::integer;
    END;
END
$$""",
        ),
        client=frozenset({"prune_check_then_act"}),
        tla_switch="Races: BugPruneCheckThenAct",
        expected=("NoLostJob", "PruneSafety"),
    ),
    Mutant(
        "finalize_no_fence",
        4,
        "complete matches the job's open attempt by job_id only, not (job_id, run_lease): a stale "
        "worker's late completion closes the current holder's attempt and is acknowledged.",
        patches=(
            Patch(
                "complete.sql",
                "SELECT i.job_id, i.run_lease, i.result, c.slot, c.ready_slot, c.lane_id",
                "SELECT i.job_id, c.run_lease, i.result, c.slot, c.ready_slot, c.lane_id",
            ),
            Patch(
                "complete.sql",
                "SELECT c.slot, c.ready_slot, c.lane_id FROM {schema}.claims c\n"
                "            WHERE c.job_id = i.job_id AND c.run_lease = i.run_lease LIMIT 1) c",
                "SELECT c.slot, c.ready_slot, c.lane_id, c.run_lease FROM {schema}.claims c\n"
                "            WHERE c.job_id = i.job_id AND " + _OPEN_X + " LIMIT 1) c",
            ),
            Patch(
                "complete.sql",
                "SELECT coalesce(array_agg(w.run_lease), ARRAY[]::bigint[]) INTO v_won",
                "SELECT coalesce(array_agg(w.job_id), ARRAY[]::bigint[]) INTO v_won",
            ),
            Patch("complete.sql", "WHEN t.run_lease = ANY (v_won)", "WHEN t.job_id = ANY (v_won)"),
        ),
        tla_switch="BugNoFence",
        expected=("FencedFinalize",),
    ),
    Mutant(
        "rescue_ignores_closure",
        5,
        "rescue picks expired attempts without checking for a closure and treats a lost closure "
        "race as won: an attempt already completed is closed again and its job re-enqueued.",
        patches=(
            Patch(
                "rescue.sql",
                "WHERE NOT EXISTS ({closure_of_e})",
                "WHERE EXISTS (SELECT 1 UNION ALL {closure_of_e})",
            ),
            Patch("common.sql", "IF v_won = 0 THEN", "IF v_won = 0 AND NOT p_rescue THEN"),
        ),
        expected=("NoLostJob", "NoDuplicateCompletion"),
    ),
    Mutant(
        "attempt_not_persisted",
        6,
        "the attempt counter of a crashed worker's attempt is not persisted: rescue re-enqueues "
        "the job with the same attempt number, so a job that keeps crashing its worker is never "
        "dead-lettered (attempt limit exceeded).",
        patches=(
            Patch(
                "common.sql",
                "c.attempt + 1",
                "c.attempt + CASE WHEN p_rescue THEN 0 ELSE 1 END",
                count=2,
            ),
        ),
        tla_switch="BugRetryNotPersisted",
        expected=("AttemptLimitRespected",),
    ),
    Mutant(
        "result_after_closure",
        7,
        "complete writes the closure and terminal row without the result; the caller writes the "
        "result in a separate transaction afterwards, which a crash (complete.after_commit) loses.",
        patches=(
            Patch(
                "complete.sql",
                "o.run_lease, 'completed', o.result::jsonb, p_now",
                "o.run_lease, 'completed', NULL::jsonb, p_now",
            ),
        ),
        extra_sql=(
            """CREATE OR REPLACE FUNCTION {schema}._mutant_write_result(
    p_job_ids bigint[], p_run_leases bigint[], p_results text[])
RETURNS void LANGUAGE sql AS $$
    UPDATE {schema}.done d SET result = u.res::jsonb
    FROM unnest(p_job_ids, p_run_leases, p_results) AS u(j, r, res)
    WHERE d.job_id = u.j AND d.run_lease = u.r AND d.outcome = 'completed'
$$""",
        ),
        client=frozenset({"result_after_closure"}),
        tla_switch="BugResultAfterClosure",
        expected=("TerminalHasResult",),
    ),
    Mutant(
        "enqueue_not_atomic",
        8,
        "a batch enqueue runs one transaction per job: a failure part-way leaves a partial batch.",
        client=frozenset({"enqueue_per_job"}),
        expected=("BatchAtomic",),
    ),
    Mutant(
        "lock_order_reversed",
        9,
        "a batch enqueue (every caller of _lock_lanes) locks its lanes in descending lane_id "
        "order, against the global lock order: with a concurrent fail/rescue on the same lanes "
        "the two can deadlock.",
        patches=(
            Patch(
                "common.sql",
                "ORDER BY l.lane_id FOR UPDATE;",
                "ORDER BY l.lane_id DESC FOR UPDATE;",
            ),
        ),
        tla_switch="LockOrder: ReversedEnqueue",
        suite="lockorder",
        expected=("NoDeadlock",),
    ),
    Mutant(
        "counter_key_drift",
        10,
        "a ready row's lane_seq is allocated from the counter of its queue's first lane (keyed by "
        "queue only) while the row is written under its own (queue, priority) lane.",
        patches=(
            Patch(
                "common.sql",
                "JOIN {schema}.lanes l ON l.queue = t.queue AND l.priority = t.priority",
                "JOIN {schema}.lanes l ON l.lane_id = "
                "(SELECT min(l2.lane_id) FROM {schema}.lanes l2 WHERE l2.queue = t.queue)",
            ),
            Patch(
                "common.sql",
                "SELECT v_slot, i.job_id, i.lane_id, alloc.base + i.rn - 1,",
                "SELECT v_slot, i.job_id, (SELECT l3.lane_id FROM {schema}.lanes l3 WHERE "
                "l3.queue = i.queue AND l3.priority = i.priority), alloc.base + i.rn - 1,",
            ),
        ),
        expected=("CountersMatch",),
    ),
    Mutant(
        "cancel_skips_live_rows",
        11,
        "cancelling a queued job moves its lane's claim cursor past the cancelled row — and past "
        "every live row queued before it, which is then never claimed.",
        patches=(
            Patch(
                "cancel.sql",
                "RETURN 'cancelled_queued';",
                "UPDATE {schema}.lanes SET claim_seq = greatest(claim_seq, r.lane_seq + 1) "
                "WHERE lane_id = r.lane_id;\n                RETURN 'cancelled_queued';",
            ),
        ),
        expected=("NoLostJob",),
    ),
    Mutant(
        "seq_at_begin",
        12,
        "the naive design ADR 0001 and 0011 argue against: an enqueue in a caller's transaction "
        "takes its lane_seq from a sequence at once and writes the ready row then; its commit only "
        "raises the lane's next_seq. A claim that runs while it is open passes over it, and the "
        "cursor strands the job when it commits.",
        patches=(
            Patch(
                "enqueue.sql",
                "    IF p_staged THEN\n        INSERT INTO {schema}.staged",
                "    IF p_staged THEN\n"
                "        INSERT INTO {schema}.ready (slot, job_id, lane_id, lane_seq, queue, priority, task,\n"
                "                                    payload, attempt, max_attempts, enqueued_at, dedup_key)\n"
                "        SELECT (SELECT current_slot FROM {schema}.ring_state WHERE ring = 'queue'), t.id,\n"
                "               l.lane_id, nextval({job_id_seq}), t.q, t.p, t.task, t.payload::jsonb, 1,\n"
                "               t.max_attempts, p_now, t.k\n"
                "        FROM unnest(v_ids, p_tasks, p_queues, p_priorities, p_payloads, p_max_attempts,\n"
                "                    p_run_ats, p_dedup_keys, v_new) AS t(id, task, q, p, payload, max_attempts, ra, k, nw)\n"
                "        JOIN {schema}.lanes l ON l.queue = t.q AND l.priority = t.p\n"
                "        WHERE t.nw AND (t.ra IS NULL OR t.ra <= p_now);\n"
                "        INSERT INTO {schema}.staged",
            ),
            Patch(
                "enqueue_commit.sql",
                "    PERFORM {schema}._append_ready_rows(m.enqueued_at, m.ids, m.queues, m.priorities, m.tasks,\n"
                "                                        m.payloads, m.attempts, m.max_attempts, m.keys);",
                "    UPDATE {schema}.lanes l SET next_seq = greatest(l.next_seq, x.top + 1)\n"
                "    FROM (SELECT r.lane_id, max(r.lane_seq) AS top FROM {schema}.ready r\n"
                "          WHERE r.job_id = ANY (m.ids) GROUP BY r.lane_id) x\n"
                "    WHERE l.lane_id = x.lane_id;",
            ),
        ),
        tla_switch="SegmentedStorage: BugSeqAtBegin",
        expected=("CountersMatch", "NoLostJob", "PruneSafety"),
    ),
    # -- issue 13: the eight bugs of the adversarial review, each re-introduced ----------------
    Mutant(
        "rescue_horizon_late_claim",
        13,
        "rescue does not exclude in-flight claims and a claim's deadline is now + lease even when "
        "a rescue already moved its horizon past it: a claim that commits late (clock read before "
        "its transaction, or open across the rescue) is below every later scan and never rescued.",
        patches=(
            Patch(
                "claim.sql",
                "SELECT greatest(p_now + make_interval(secs => p_lease), h.horizon) INTO v_deadline",
                "SELECT p_now + make_interval(secs => p_lease) INTO v_deadline",
            ),
            Patch(
                "rescue.sql",
                "PERFORM pg_advisory_xact_lock(hashtext({schema_name}), {schema}._ring_key('claim'));",
                "NULL;  -- MUTANT rescue_horizon_late_claim: claims may be in flight",
            ),
        ),
        expected=("EventuallyTerminal",),
    ),
    Mutant(
        "backoff_overflow",
        14,
        "backoff_delay computes base * factor^(attempt-1) before capping it: a large factor or "
        "attempt number overflows float8 (22003) and fail()/rescue() error on every call.",
        patches=(
            Patch(
                "common.sql",
                "    SELECT CASE\n"
                "               WHEN p_backoff[1] <= 0 OR p_backoff[3] <= 0 THEN 0::float8\n",
                "    SELECT CASE\n               WHEN false THEN 0::float8\n",
            ),
            Patch(
                "common.sql",
                "               WHEN p_backoff[2] <= 1 THEN least(p_backoff[3], p_backoff[1])\n"
                "               WHEN greatest(p_attempt - 1, 0) * ln(p_backoff[2]) >= ln(p_backoff[3] / p_backoff[1])\n"
                "                   THEN p_backoff[3]\n",
                "",
            ),
        ),
        expected=("EventuallyTerminal",),
    ),
    Mutant(
        "complete_duplicate_items",
        15,
        "complete_many does not de-duplicate its items: one attempt listed twice wins the closure "
        "once but writes two 'completed' terminal rows (and answers None twice).",
        patches=(
            Patch(
                "complete.sql",
                "SELECT DISTINCT ON (t.job_id, t.run_lease) t.job_id, t.run_lease, t.result",
                "SELECT t.job_id, t.run_lease, t.result",
            ),
            Patch(
                "complete.sql",
                "CASE WHEN t.o > min(t.o) OVER (PARTITION BY t.job_id, t.run_lease) THEN 'duplicate'\n"
                "                WHEN t.run_lease",
                "CASE WHEN t.run_lease",
            ),
        ),
        expected=("NoDuplicateCompletion", "TerminalHasResult"),
    ),
    Mutant(
        "any_isolation_level",
        16,
        "ringq's functions run at whatever isolation level the caller's transaction has: a "
        "REPEATABLE READ enqueue transaction sequences its jobs at commit into the queue slot its "
        "old snapshot calls current, although that slot was sealed and pruned meanwhile.",
        patches=(
            Patch(
                "common.sql",
                "    IF current_setting('transaction_isolation') <> 'read committed' THEN\n"
                "        RAISE EXCEPTION USING ERRCODE = 'RQ005',\n"
                "            MESSAGE = 'ringq ' || p_what",
                "    IF false THEN\n        RAISE EXCEPTION USING ERRCODE = 'RQ005',\n"
                "            MESSAGE = 'ringq ' || p_what",
            ),
            Patch(
                "enqueue.sql",
                "    IF current_setting('transaction_isolation') <> 'read committed' THEN",
                "    IF false THEN  -- MUTANT any_isolation_level",
            ),
        ),
        expected=("PruneSafety", "CountersMatch"),
    ),
    Mutant(
        "cancel_race_unique_violation",
        17,
        "two cancels of one queued job: the loser, which waited on the winner's lane lock, inserts "
        "a second terminal row and then the cancel marker: a raw unique violation (cancels_pkey) "
        "instead of JobAlreadyTerminal.",
        patches=(
            Patch(
                "cancel.sql",
                "                INSERT INTO {schema}.cancels (job_id, slot, lane_id, lane_seq, cancelled_at)\n"
                "                VALUES (p_job_id, r.slot, r.lane_id, r.lane_seq, p_now)\n"
                "                ON CONFLICT DO NOTHING;\n"
                "                GET DIAGNOSTICS v_won = ROW_COUNT;\n"
                "                CONTINUE WHEN v_won = 0;\n"
                "                INSERT INTO {schema}.done (slot, job_id, queue, run_lease, outcome, finished_at)\n"
                "                VALUES (r.slot, p_job_id, r.queue, NULL, 'cancelled', p_now);\n",
                "                INSERT INTO {schema}.done (slot, job_id, queue, run_lease, outcome, finished_at)\n"
                "                VALUES (r.slot, p_job_id, r.queue, NULL, 'cancelled', p_now);\n"
                "                PERFORM pg_sleep(0.05);  -- MUTANT: widen the window\n"
                "                INSERT INTO {schema}.cancels (job_id, slot, lane_id, lane_seq, cancelled_at)\n"
                "                VALUES (p_job_id, r.slot, r.lane_id, r.lane_seq, p_now);\n",
            ),
        ),
        expected=("TypedErrors",),
    ),
    Mutant(
        "doctor_split_dlq_evidence",
        18,
        "the doctor reads 'this job ended in the DLQ' from hand-kept copies in each check instead "
        "of one helper: false alarms (AttemptLimitRespected after rescue->DLQ, queue prune, "
        "dlq_retry and a claim; NoLostJob after dlq_purge and a claim prune) on legal histories.",
        client=frozenset({"split_dlq_evidence"}),
        expected=("AttemptLimitRespected", "NoLostJob"),
    ),
    Mutant(
        "dlq_retry_ignores_dedup",
        19,
        "dlq_retry ignores dedup keys: a dead-lettered job whose key another live job took since "
        "is retried anyway, and two live jobs carry one key.",
        patches=(
            Patch(
                "dlq_retry.sql",
                "AND d.job_id <> q.job_id AND {schema}._job_live(d.job_id)));",
                "AND false));  -- MUTANT dlq_retry_ignores_dedup",
            ),
        ),
        expected=("DedupUnique",),
    ),
    Mutant(
        "rescue_waits_on_busy_lane",
        20,
        "rescue locks the lanes of every expired attempt FOR UPDATE (no SKIP LOCKED): one lane held "
        "by another transaction stops (or, without a lock timeout, stalls) the rescue of every "
        "other queue.",
        patches=(
            Patch(
                "rescue.sql",
                "ORDER BY l.lane_id FOR UPDATE SKIP LOCKED);",
                "ORDER BY l.lane_id FOR UPDATE);",
            ),
        ),
        expected=("EventuallyTerminal",),
    ),
)

BY_NAME: dict[str, Mutant] = {m.name: m for m in MUTANTS}


def get(name: str) -> Mutant:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown mutant {name!r} (known: {', '.join(BY_NAME)})") from None


def from_env() -> Mutant | None:
    """The mutant named by $RINGQ_MUTANT (unset or empty: none)."""
    name = os.environ.get(ENV_MUTANT, "").strip()
    return get(name) if name else None
