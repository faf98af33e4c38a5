"""The mutant catalogue under exhaustive replay: no hand-written witness, no random search.

For each mutant (and the baseline, which must stay clean), the cfgs of `CFGS` are replayed in
order until one diverges; the first divergence (lowest path number: deterministic) names the
path, the step, the kind (Refinement: the abstraction after a step is not the model's next
state; Stutter: a transaction killed before COMMIT left something behind; Refusal: the database
did what the model forbids there) and the variables that differ.

Some mutants are outside what the model can express; they are still replayed, and `OUT_OF_REACH`
says why they cannot be caught this way (and what catches them instead).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ringq_proof.exhaustive.replay import Report, run_exhaustive
from ringq_proof.mutants import MUTANTS, get

# tried in this order; the first that diverges catches the mutant
CFGS: tuple[str, ...] = ("SegmentedStorage_dlq", "SegmentedStorage_retry", "SegmentedStorage_single")

OUT_OF_REACH: dict[str, str] = {
    "lock_order_reversed": "NoDeadlock needs two transactions waiting on each other; the model's "
    "steps are atomic and replay is sequential (the LockOrder spec and the lock-order probe catch it)",
    "enqueue_not_atomic": "batches are not modelled (one job per Enqueue): a one-job batch is the same "
    "in one transaction or per job (BatchAtomic in the stateful machine catches it)",
    "counter_key_drift": "the model has one lane; the drift needs a second lane of the same queue "
    "(CountersMatch in the stateful machine and its witness catch it)",
    "prune_check_then_act": "the shipped design's prune is one atomic step in the model; the mutant "
    "needs a second maintenance leader between its check and its act (the Races spec's "
    "BugPruneCheckThenAct and the slow-leader witness catch it)",
    "rescue_horizon_late_claim": "needs a claim whose clock was read before a rescue that commits "
    "first (an in-flight claim); the model's Claim is atomic and replay is sequential (the stateful "
    "machine's in-flight steps and its witness catch it)",
    "backoff_overflow": "backoff parameters are not modelled (a retry is 'the deferred row became due'); "
    "the replay uses explicit delays (the stateful machine's huge-factor backoff catches it)",
    "complete_duplicate_items": "batches are not modelled: one attempt per Complete, never listed twice "
    "(the stateful machine's duplicate complete_many items catch it)",
    "any_isolation_level": "isolation levels are not a model parameter: the replay's transactions run at "
    "READ COMMITTED (the stateful machine's EnqueueBegin at each level catches it)",
    "cancel_race_unique_violation": "two cancels racing each other: steps are atomic and sequential "
    "(the stateful machine's CancelRace catches it)",
    "doctor_split_dlq_evidence": "a mutant of the doctor, not of the SQL: refinement does not read the "
    "doctor, and with doctor checks on (replay_path(doctor=True)) the shipped doctor itself fails on a "
    "legal _dlq state (replay.DOCTOR_FINDING), so the two cannot be told apart (its witness catches it)",
    "dlq_retry_ignores_dedup": "dedup keys are not modelled (DedupUnique in the stateful machine catches it)",
    "rescue_waits_on_busy_lane": "a lane held by another open transaction: steps are atomic and "
    "sequential, and the model has one lane (the stateful machine's in-flight steps catch it)",
}


@dataclass
class ExhaustiveMutantResult:
    mutant: str  # "(none)" for the baseline
    number: int
    caught: bool
    cfg: str | None  # the cfg that caught it
    kind: str | None
    step: str | None
    path_steps: int | None
    message: str
    seconds: float
    reason: str | None = None  # why it is out of the model's reach
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def expected_clean(self) -> bool:
        return self.mutant == "(none)"

    @property
    def ok(self) -> bool:
        if self.expected_clean:
            return not self.caught
        return self.caught or self.reason is not None

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["ok"] = self.ok
        return d


def _variables(message: str) -> str:
    """The differing variables of a Refinement/Stutter message ('done, lanes')."""
    names = [ln.strip().split(":")[0] for ln in message.splitlines()[1:] if ":" in ln]
    return ", ".join(names) or message.splitlines()[0][:80]


def run_one(
    name: str | None,
    database_url: str,
    cfgs: Sequence[str] = CFGS,
    *,
    workers: int = 2,
    run: Callable[..., Report] = run_exhaustive,
) -> ExhaustiveMutantResult:
    started = time.monotonic()
    number = 0 if name is None else get(name).number
    runs: list[dict[str, Any]] = []
    reason = OUT_OF_REACH.get(name or "")
    for cfg in cfgs[:1] if reason else cfgs:  # out of reach: shown on the first cfg only
        report = run(cfg, database_url, mutant=name, workers=workers)
        runs.append(
            {"cfg": cfg, "summary": report.summary().splitlines()[0], "seconds": round(report.elapsed_s, 1)}
        )
        f = report.failure
        if f is not None:
            return ExhaustiveMutantResult(
                name or "(none)",
                number,
                True,
                cfg,
                f.kind,
                f.action,
                len(f.trace),
                f"{_variables(f.message)} — path: {' ; '.join(f.trace)}",
                time.monotonic() - started,
                OUT_OF_REACH.get(name or ""),
                runs,
            )
    return ExhaustiveMutantResult(
        name or "(none)",
        number,
        False,
        None,
        None,
        None,
        None,
        "every transition replayed, no divergence",
        time.monotonic() - started,
        OUT_OF_REACH.get(name or ""),
        runs,
    )


def run_mutants_exhaustive(
    names: Sequence[str] | None,
    database_url: str,
    *,
    cfgs: Sequence[str] = CFGS,
    include_baseline: bool = True,
    workers: int = 2,
    on_result: Callable[[ExhaustiveMutantResult], None] | None = None,
) -> list[ExhaustiveMutantResult]:
    chosen: list[str | None] = [*(names or [m.name for m in MUTANTS])]
    if include_baseline:
        chosen.insert(0, None)
    out = []
    for n in chosen:
        r = run_one(n, database_url, cfgs, workers=workers)
        out.append(r)
        if on_result is not None:
            on_result(r)
    return out
