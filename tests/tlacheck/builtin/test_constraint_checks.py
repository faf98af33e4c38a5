"""TLC checks the invariants of every generated state it has not seen, also of states
outside CONSTRAINT / ACTION_CONSTRAINT (which it does not keep); counts worked out by hand in
tests/data/tla/ConstraintInv.tla. One worker and two give the same results."""

from __future__ import annotations

from pathlib import Path

import pytest

import tlacheck

DATA = Path(__file__).resolve().parents[2] / "data" / "tla"
SPEC = DATA / "ConstraintInv.tla"


@pytest.mark.parametrize("workers", [1, 2])
def test_states_outside_the_constraint_are_generated_not_kept(workers: int) -> None:
    r = tlacheck.check(SPEC, config=DATA / "ConstraintInv.cfg", backend="builtin", workers=workers)
    assert r.outcome == "ok", r.message
    assert (r.distinct_states, r.states_generated, r.depth) == (4, 5, 4)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("cfg", ["ConstraintInvBad", "ConstraintInvAction"])
def test_invariant_checked_in_a_state_outside_the_constraint(cfg: str, workers: int) -> None:
    r = tlacheck.check(SPEC, config=DATA / f"{cfg}.cfg", backend="builtin", workers=workers)
    assert r.outcome == "invariant_violated" and r.violated == "Small"
    assert (r.distinct_states, r.states_generated) == (4, 5)
    assert [s.state["x"] for s in r.trace] == ["0", "1", "2", "3", "4"]


@pytest.mark.parametrize("workers", [1, 2])
def test_initial_state_outside_the_constraint_is_checked(workers: int) -> None:
    r = tlacheck.check(SPEC, config=DATA / "ConstraintInvInit.cfg", backend="builtin", workers=workers)
    assert r.outcome == "invariant_violated" and r.violated == "Five"
    assert (r.distinct_states, r.states_generated) == (1, 2)
    assert [s.state["x"] for s in r.trace] == ["10"]
