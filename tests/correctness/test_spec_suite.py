"""The suite runner's own behaviour, with a stand-in checker (no model checking here)."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from tlacheck.result import CheckResult, TraceStep
from tlacheck.suite import (
    SuiteEntry,
    as_rows,
    compare,
    dump_suite,
    load_suite,
    main,
    render_counts,
    run_suite,
)

PASSING = SuiteEntry("a/Spec.tla", "a/Spec.cfg", "pass", distinct=10, generated=20, depth=3)
VIOLATING = SuiteEntry("a/Spec.tla", "a/Broken.cfg", "invariant_violated", violated="Safe", trace_length=2)


def ok(distinct: int = 10, generated: int = 20, depth: int = 3) -> CheckResult:
    return CheckResult(outcome="ok", distinct_states=distinct, states_generated=generated, depth=depth)


def violation(name: str = "Safe", steps: int = 2) -> CheckResult:
    trace = [TraceStep(state={"x": str(i)}, action="Next") for i in range(steps)]
    return CheckResult(outcome="invariant_violated", violated=name, trace=trace)


def test_matching_counts_and_outcome_are_ok() -> None:
    assert compare(PASSING, ok()) == []
    assert compare(VIOLATING, violation()) == []


def test_a_changed_count_fails_and_says_how_to_rerecord() -> None:
    [problem] = compare(PASSING, ok(distinct=11))
    assert "distinct changed: recorded 10, got 11" in problem
    assert "--record" in problem


def test_a_wrong_outcome_or_name_fails() -> None:
    assert compare(PASSING, violation())[0].startswith("outcome: expected pass")
    assert compare(VIOLATING, ok())[0].startswith("outcome:")
    assert compare(VIOLATING, violation("Other"))[0] == "violated: expected Safe, got Other"


def test_a_longer_counterexample_fails() -> None:
    assert "trace_length changed" in compare(VIOLATING, violation(steps=3))[0]


def test_checker_errors_fail_with_the_message() -> None:
    err = CheckResult(outcome="error", error_kind="parse", message="unexpected token")
    assert compare(PASSING, err) == ["checker error (parse): unexpected token"]


def test_dump_and_load_round_trip(tmp_path: Path) -> None:
    entries = [PASSING, VIOLATING, SuiteEntry("b/X.tla", "b/X.cfg", "pass", slow=True, note='say "hi"')]
    (tmp_path / "suite.toml").write_text(dump_suite(entries))
    assert load_suite(tmp_path) == entries


def _suite_dir(tmp_path: Path, entries: list[SuiteEntry]) -> Path:
    (tmp_path / "suite.toml").write_text(dump_suite(entries))
    return tmp_path


def test_run_suite_records_counts_but_never_outcomes(tmp_path: Path) -> None:
    unrecorded = SuiteEntry("a/Spec.tla", "a/Spec.cfg", "pass")
    wrong = SuiteEntry("a/Spec.tla", "a/Broken.cfg", "pass")
    cdir = _suite_dir(tmp_path, [unrecorded, wrong])
    answers = {"Spec.cfg": ok(7, 9, 2), "Broken.cfg": violation()}

    def checker(spec: Path, cfg: Path) -> CheckResult:
        return answers[cfg.name]

    quiet = Console(file=io.StringIO())
    results = run_suite(cdir, record=True, checker=checker, console=quiet)
    assert [r.ok for r in results] == [True, False]
    recorded = load_suite(cdir)
    assert (recorded[0].distinct, recorded[0].generated, recorded[0].depth) == (7, 9, 2)
    assert recorded[1] == wrong  # an outcome mismatch is never written back


def test_run_suite_selects_entries_and_leaves_out_slow_ones(tmp_path: Path) -> None:
    slow = SuiteEntry("a/Slow.tla", "a/Slow.cfg", "pass", distinct=1, generated=1, depth=0, slow=True)
    cdir = _suite_dir(tmp_path, [PASSING, slow])
    seen: list[str] = []

    def checker(spec: Path, cfg: Path) -> CheckResult:
        seen.append(cfg.name)
        return ok(1, 1, 0) if cfg.name == "Slow.cfg" else ok()

    quiet = Console(file=io.StringIO())
    run_suite(cdir, include_slow=False, checker=checker, console=quiet)
    assert seen == ["Spec.cfg"]
    seen.clear()
    run_suite(cdir, only=["Slow"], checker=checker, console=quiet)
    assert seen == ["Slow.cfg"]


def test_main_runs_one_spec_and_returns_its_exit_code(tmp_path: Path) -> None:
    spec = tmp_path / "Tiny.tla"
    spec.write_text(
        "---- MODULE Tiny ----\nEXTENDS Naturals\nVARIABLE x\nInit == x = 0\n"
        "Next == x < 2 /\\ x' = x + 1\nSmall == x < 2\n====\n"
    )
    (tmp_path / "Tiny.cfg").write_text("INIT Init\nNEXT Next\nINVARIANT Small\n")
    assert main([str(spec), "--backend", "builtin"]) == 12  # TLC's exit code for a violated invariant


def test_rows_for_machine_readers_carry_outcome_and_counts(tmp_path: Path) -> None:
    cdir = _suite_dir(tmp_path, [PASSING, VIOLATING])

    def checker(spec: Path, cfg: Path) -> CheckResult:
        return ok() if cfg.name == "Spec.cfg" else violation(steps=3)

    rows = as_rows(run_suite(cdir, checker=checker, console=Console(file=io.StringIO())))
    assert [(r["got"], r["ok"]) for r in rows] == [("pass", True), ("invariant Safe", False)]
    assert rows[0]["distinct"] == 10 and rows[1]["trace_length"] == 3
    assert "trace_length changed" in rows[1]["problems"][0]


def test_render_counts_shows_the_recorded_counts_and_outcomes() -> None:
    text = render_counts([PASSING, VIOLATING])
    assert "| `Spec` | 10 | 20 | 3 |  |" in text
    assert "| `Broken` | `invariant_violated` | `Safe` | 2 |  |" in text
    assert text.index("Passing") < text.index("Violating")
    assert "Violating" not in render_counts([PASSING]) and "Passing" not in render_counts([VIOLATING])


def test_expected_segmented_md_counts_are_rendered_from_suite_toml() -> None:
    """correctness/storage/EXPECTED-segmented.md shows suite.toml's counts, never its own copy."""
    from ringq_proof.mapping import GENERATED, REGENERATE

    root = Path(__file__).resolve().parents[2]
    [expected] = [g for g in GENERATED if g.target.name == "EXPECTED-segmented.md"]
    assert expected.is_current(root), f"EXPECTED-segmented.md is not suite.toml's rendering: {REGENERATE}"
