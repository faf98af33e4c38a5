"""Named, switchable bug injections ("mutants") in the real implementation — off by default.

A mutant is the shipped SQL of one or more transactions with a textual patch applied, installed
with CREATE OR REPLACE FUNCTION into one test schema only (`install_mutant`), plus — where the
bug lives in the caller — a client flag the stateful harness consults (`Mutant.client`). Every
patch names an anchor that must occur in the shipped text exactly `count` times
(`MutantAnchorMissing` otherwise), so a refactor of the SQL cannot silently disable a mutant.
Nothing here runs unless a test asks for it: the shipped code paths have zero cost.

`scripts/mutants.py` (and `run_mutants`, for `ringq verify`) runs the stateful suite once per
mutant and reports whether, and by which invariant, it was caught.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ringq.sqlfiles import load, placeholders

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
            Patch("complete.sql", "CASE WHEN t.run_lease = ANY (v_won)", "CASE WHEN t.job_id = ANY (v_won)"),
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
                "WHERE NOT EXISTS (SELECT 1 FROM {schema}.closures x",
                "WHERE EXISTS (SELECT 1 UNION ALL SELECT 1 FROM {schema}.closures x",
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
        "a batch enqueue locks its lanes in descending lane_id order (against the global lock "
        "order): with a concurrent fail/rescue/promote on the same lanes the two can deadlock.",
        patches=(
            Patch(
                "enqueue.sql",
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
        "a retry's lane_seq is allocated from the counter of the queue's first lane (keyed by "
        "queue only) while the row is written under its own (queue, priority) lane.",
        patches=(
            Patch(
                "common.sql",
                "UPDATE {schema}.lanes SET next_seq = next_seq + 1 WHERE lane_id = p_lane",
                "UPDATE {schema}.lanes SET next_seq = next_seq + 1 WHERE lane_id = "
                "(SELECT min(l2.lane_id) FROM {schema}.lanes l2 WHERE l2.queue = p_queue)",
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


def _patch(text: str, anchor: str, replacement: str, count: int, where: str) -> str:
    found = text.count(anchor)
    if found != count:
        raise MutantAnchorMissing(
            f"{where}: anchor {anchor!r} occurs {found} time(s) in the shipped SQL, expected {count}"
        )
    return text.replace(anchor, replacement)


def _or_replace(text: str) -> str:
    return text.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")


def mutant_sql(mutant: Mutant) -> list[str]:
    """The SQL templates ({schema} placeholders) that install `mutant`; raises if an anchor is gone."""
    out: list[str] = []
    files: dict[str, str] = {}
    for p in mutant.patches:
        text = files.get(p.file, load(p.file))
        files[p.file] = _patch(text, p.anchor, p.replacement, p.count, f"{mutant.name} / {p.file}")
    out.extend(_or_replace(t) for t in files.values())
    for d in mutant.derived:
        text = _patch(
            load(d.file),
            f"CREATE FUNCTION {{schema}}.{d.old_name}(",
            f"CREATE FUNCTION {{schema}}.{d.new_name}(",
            1,
            f"{mutant.name} / {d.file}",
        )
        for anchor, repl, count in d.patches:
            text = _patch(text, anchor, repl, count, f"{mutant.name} / {d.file} -> {d.new_name}")
        out.append(_or_replace(text))
    out.extend(mutant.extra_sql)
    return out


def install_mutant(conn: psycopg.Connection, schema: str, mutant: Mutant) -> None:
    """Replace the schema's functions by the mutant's (test schemas only!), in one transaction."""
    ph = placeholders(schema)
    with conn.transaction():
        for template in mutant_sql(mutant):
            conn.execute(sql.SQL(template).format(**ph))


# -- running the suite once per mutant ------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]


@dataclass
class RunOutcome:
    """One pytest run against one mutant (or none)."""

    suite: str
    failed: bool  # a test failed with a reported invariant violation
    invariant: str | None
    steps: int | None
    seconds: float
    detail: str
    report: dict[str, Any] = field(default_factory=dict)
    timed_out: bool = False


@dataclass
class MutantResult:
    mutant: str  # "(none)" for the clean baseline run
    number: int
    tla_switch: str | None
    search: RunOutcome | None  # the Hypothesis state machine, bounded by time
    witness: RunOutcome | None  # replayed scenarios / lock-order probe / chaos run
    expected_clean: bool = False

    @property
    def caught(self) -> bool:
        return any(r is not None and r.failed for r in (self.search, self.witness))

    @property
    def first(self) -> RunOutcome | None:
        for r in (self.search, self.witness):
            if r is not None and r.failed:
                return r
        return None

    @property
    def invariant(self) -> str | None:
        return self.first.invariant if self.first else None

    @property
    def ok(self) -> bool:
        if self.expected_clean:
            return not self.caught and not any(
                r is not None and r.detail.startswith("suite error") for r in (self.search, self.witness)
            )
        return self.caught

    def as_dict(self) -> dict[str, Any]:
        def run(r: RunOutcome | None) -> dict[str, Any] | None:
            if r is None:
                return None
            return {
                "suite": r.suite,
                "caught": r.failed,
                "invariant": r.invariant,
                "steps": r.steps,
                "seconds": round(r.seconds, 1),
                "timed_out": r.timed_out,
                "detail": r.detail[:300],
                "trace": r.report.get("trace"),
            }

        return {
            "mutant": self.mutant,
            "number": self.number,
            "tla_switch": self.tla_switch,
            "caught": self.caught,
            "ok": self.ok,
            "invariant": self.invariant,
            "search": run(self.search),
            "witness": run(self.witness),
        }


# suite -> test files (run from the repository root)
SUITE_TESTS: dict[str, list[str]] = {
    "search": ["tests/stateful/test_storage_machine.py"],
    # the refinement machine: every real step must be the model's step (catches wrong-but-
    # invariant-preserving behaviour, e.g. a stale completion accepted)
    "search_model": ["tests/stateful/test_model_conformance.py::TestConformanceMachine"],
    "stateful": ["tests/stateful/test_scenarios.py"],
    "lockorder": ["tests/stateful/test_lock_order.py"],
    "concurrent": ["tests/stateful/test_concurrent.py"],
}


def run_suite(
    suite: str,
    mutant: Mutant | None,
    *,
    database_url: str | None = None,
    profile: str = "mutants",
    timeout: float = 600.0,
    python: str = sys.executable,
) -> RunOutcome:
    """Run one suite in a subprocess with RINGQ_MUTANT set; read the violation it reports.

    On timeout the run is stopped: a violation already reported (e.g. Hypothesis was still
    shrinking) still counts, with the shortest counterexample reached so far.
    """
    with tempfile.TemporaryDirectory(prefix="ringq-mutant-") as tmp:
        report_path = Path(tmp) / "report.json"
        env = dict(os.environ)
        env[ENV_MUTANT] = mutant.name if mutant else ""
        env[ENV_REPORT] = str(report_path)
        env["RINGQ_STATEFUL_PROFILE"] = profile
        if database_url:
            env["RINGQ_DATABASE_URL"] = database_url
        cmd = [
            python,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "-m",
            "stateful",
            "--hypothesis-seed=0",
            *SUITE_TESTS[suite],
        ]
        start = time.monotonic()
        timed_out = False
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            out, _ = proc.communicate(timeout=timeout)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            code, timed_out = -1, True
        seconds = time.monotonic() - start
        report: dict[str, Any] = {}
        if report_path.exists():
            try:
                report = json.loads(report_path.read_text())
            except ValueError:
                report = {}
    failed = bool(report) and (code == 1 or timed_out)
    if failed:
        detail = str(report.get("message", ""))
    elif timed_out:
        detail = f"not caught within {timeout:.0f}s"
    elif code == 0:
        detail = "suite passed"
    else:
        detail = "suite error: " + _last_lines(out)
    return RunOutcome(
        suite=suite,
        failed=failed,
        invariant=report.get("invariant"),
        steps=report.get("steps"),
        seconds=seconds,
        detail=detail,
        report=report,
        timed_out=timed_out,
    )


def _last_lines(text: str, n: int = 3) -> str:
    lines = [x for x in text.strip().splitlines() if x.strip()]
    return " | ".join(lines[-n:])[:400]


def run_one(
    mutant: Mutant | None,
    *,
    database_url: str | None = None,
    search_seconds: float = 120.0,
    search: bool = True,
) -> MutantResult:
    """The bounded Hypothesis search (stateful mutants) and the mutant's witness suite.

    The search budget goes two thirds to the storage machine (invariants) and, if that found
    nothing, one third to the refinement machine (real steps against the model)."""
    suite = mutant.suite if mutant else "stateful"
    found = None
    if search and suite == "stateful":
        found = run_suite("search", mutant, database_url=database_url, timeout=search_seconds * 2 / 3)
        if not found.failed and not found.detail.startswith("suite error"):
            spent = found.seconds
            found = run_suite("search_model", mutant, database_url=database_url, timeout=search_seconds / 3)
            found.seconds += spent
    witness = run_suite(suite, mutant, database_url=database_url)
    return MutantResult(
        mutant=mutant.name if mutant else "(none)",
        number=mutant.number if mutant else 0,
        tla_switch=mutant.tla_switch if mutant else None,
        search=found,
        witness=witness,
        expected_clean=mutant is None,
    )


def run_mutants(
    names: Sequence[str] | None = None,
    *,
    database_url: str | None = None,
    search_seconds: float = 120.0,
    search: bool = True,
    include_baseline: bool = True,
    on_result: Callable[[MutantResult], None] | None = None,
) -> list[MutantResult]:
    """The baseline (no mutant: must be clean) and then every mutant (each must be caught).

    `ringq verify` can call this; it needs the repository's tests/ (a source checkout).
    """
    chosen = [get(n) for n in names] if names else list(MUTANTS)
    results = []
    if include_baseline:
        results.append(run_one(None, database_url=database_url, search_seconds=search_seconds, search=search))
    for m in chosen:
        results.append(run_one(m, database_url=database_url, search_seconds=search_seconds, search=search))
    return results


def write_report(report: dict[str, Any]) -> None:
    """Called by the suites when an invariant fails: the last call wins (the shrunk example)."""
    path = os.environ.get(ENV_REPORT)
    if path:
        Path(path).write_text(json.dumps(report, default=str))
