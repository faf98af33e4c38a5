"""`ringq verify` steps that need a source checkout: the TLA+ suite and the stateful tests.

They run what `make test` runs, from the repository the installed package lives in, so that the
main job and the test suite cannot drift apart.
"""

from __future__ import annotations

import os
import subprocess
import sys

from ringq_proof.checkout import checkout, correctness_dir
from ringq_proof.verify import StepOutcome, VerifyContext, step
from tlacheck.suite import as_rows, run_suite


@step(
    "specs",
    "TLA+ suite (correctness/suite.toml): every entry gives its recorded outcome and counts",
    order=10,
)
def verify_specs(ctx: VerifyContext) -> StepOutcome:
    results = run_suite(correctness_dir(), include_slow=False)
    bad = [r.entry.name for r in results if not r.ok]
    rows = as_rows(results)
    if bad:
        return StepOutcome(
            False, f"{len(bad)} of {len(results)} entries differ: {', '.join(bad)}", {"entries": rows}
        )
    backend = results[0].result.backend if results else "none"
    return StepOutcome(True, f"{len(results)} entries as recorded ({backend} checker)", {"entries": rows})


@step("stateful", "Hypothesis stateful tests (ci profile) against the real database", order=60)
def verify_stateful(ctx: VerifyContext) -> StepOutcome:
    root = checkout()
    tests = root / "tests" / "stateful"
    if not tests.is_dir():
        return StepOutcome(False, f"needs a source checkout: {tests} not found")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "stateful", "-p", "no:cacheprovider", str(tests)],
        cwd=root,
        env={**os.environ, "RINGQ_DATABASE_URL": ctx.database_url},
        capture_output=True,
        text=True,
        check=False,
    )
    tail = [ln for ln in proc.stdout.splitlines() if ln.strip()][-1:] or ["(no output)"]
    return StepOutcome(proc.returncode == 0, tail[0], {"returncode": proc.returncode})


@step(
    "mutants",
    "every injected bug (ringq_proof.mutants) is caught by its witness; the baseline is clean",
    order=70,
)
def verify_mutants(ctx: VerifyContext) -> StepOutcome:
    from ringq_proof.mutants.runner import run_mutants

    results = run_mutants(database_url=ctx.database_url, search=False)
    wrong = [r.mutant for r in results if not r.ok]
    mutants = [r for r in results if not r.expected_clean]
    caught = sum(1 for r in mutants if r.caught)
    summary = f"{caught}/{len(mutants)} mutants caught, baseline {'clean' if results[0].ok else 'NOT clean'}"
    if wrong:
        summary += f"; wrong: {', '.join(wrong)}"
    return StepOutcome(not wrong, summary, {"mutants": [r.as_dict() for r in results]})


@step(
    "tracecheck",
    "trace validation: traces of the real implementation (replayed paths of SegmentedStorage_dlq, "
    "stutters included) are behaviours of SegmentedStorage.tla, checked by tlacheck",
    order=62,
)
def verify_tracecheck(ctx: VerifyContext) -> StepOutcome:
    from ringq_proof.tracecheck import validate_replay

    v = validate_replay("SegmentedStorage_dlq", ctx.database_url, max_paths=40)
    return StepOutcome(
        v.ok,
        v.summary(),
        {
            "traces": v.traces,
            "accepted": v.accepted,
            "states": v.states,
            "rejected": [p for p, _, _ in v.rejected],
        },
    )
