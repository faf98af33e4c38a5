"""Run the stateful suite once per mutant (`scripts/mutants.py`, `ringq verify`) and report
whether, and by which invariant, each was caught."""

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

from ringq_proof.checkout import checkout
from ringq_proof.mutants.catalogue import ENV_MUTANT, ENV_REPORT, MUTANTS, Mutant, get


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
            cmd, cwd=checkout(), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
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
