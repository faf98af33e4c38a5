"""The correctness suite (correctness/suite.toml) runs as part of the default tests.

One test per entry, so a failure names the spec and cfg. Each entry must produce its recorded
outcome and, when recorded, the same state counts; entries marked `slow` carry the `slow` marker.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ringq.spec_suite import SuiteEntry, compare, default_checker, load_suite

CORRECTNESS = Path(__file__).resolve().parents[2] / "correctness"
ENTRIES = load_suite(CORRECTNESS)


def _param(e: SuiteEntry) -> object:
    marks = [pytest.mark.slow] if e.slow else []
    return pytest.param(e, id=e.name, marks=marks)


@pytest.mark.parametrize("entry", [_param(e) for e in ENTRIES])
def test_entry_matches_suite(entry: SuiteEntry) -> None:
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
