"""The correctness suite (correctness/suite.toml) runs as part of the default tests.

One test per entry, so a failure names the spec and cfg. Each entry must produce its recorded
outcome and, when recorded, the same state counts. Entries marked `slow` in suite.toml carry the
`slow` marker and are skipped (with the reason shown) unless `-m slow` or RINGQ_SLOW=1 is given;
`./correctness/run-tlc.sh` always runs them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tlacheck.suite import SuiteEntry, compare, default_checker, load_suite

CORRECTNESS = Path(__file__).resolve().parents[2] / "correctness"
ENTRIES = load_suite(CORRECTNESS)


def _param(e: SuiteEntry) -> object:
    marks = [pytest.mark.slow] if e.slow else []
    return pytest.param(e, id=e.name, marks=marks)


@pytest.mark.parametrize("entry", [_param(e) for e in ENTRIES])
def test_entry_matches_suite(entry: SuiteEntry, request: pytest.FixtureRequest) -> None:
    wants_slow = "slow" in (request.config.getoption("markexpr") or "") or os.environ.get("RINGQ_SLOW") == "1"
    if entry.slow and not wants_slow:
        pytest.skip("slow entry: run with -m slow or RINGQ_SLOW=1, or ./correctness/run-tlc.sh")
    result = default_checker("builtin")(CORRECTNESS / entry.spec, CORRECTNESS / entry.cfg)
    problems = compare(entry, result)
    assert not problems, f"{entry.name}: " + "; ".join(problems)


def test_every_spec_in_the_tree_is_in_the_suite() -> None:
    listed = {(CORRECTNESS / e.cfg).resolve() for e in ENTRIES}
    cfgs = {p.resolve() for p in CORRECTNESS.rglob("*.cfg")}
    missing = sorted(str(p.relative_to(CORRECTNESS)) for p in cfgs - listed)
    assert not missing, f"cfgs not listed in correctness/suite.toml: {missing}"


def test_every_violation_entry_names_what_it_violates() -> None:
    for e in ENTRIES:
        assert e.expect == "pass" or e.violated, e.name
