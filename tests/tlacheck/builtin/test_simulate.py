"""tlacheck's random simulation engine (TLC's -simulate) on SimWalk.tla, whose behaviours
are worked out by hand: x goes 0 -> ... -> Max = 6 in steps of 1 or 2, then deadlocks."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tlacheck.builtin.simulate import simulate

DATA = Path(__file__).resolve().parents[2] / "data" / "tla"
SPEC = DATA / "SimWalk.tla"


def test_no_violation_counts_every_state_on_walks() -> None:
    r = simulate(SPEC, DATA / "SimWalk.cfg", depth=20, num=50, seed=7)
    assert r.outcome == "ok", r.message
    # every walk ends in the deadlock state x = 6 (CHECK_DEADLOCK FALSE); 50 walks meet all 7 values
    assert r.distinct_states == 7
    assert r.depth <= 7 and r.depth >= 4  # k <= x <= 2k: 4 to 7 states per walk
    assert "seed 7" in r.message


def test_depth_bounds_each_behaviour() -> None:
    r = simulate(SPEC, DATA / "SimWalk.cfg", depth=3, num=50, seed=1)
    assert r.outcome == "ok"
    assert r.depth == 3
    # three states reach at most x = 4; 50 random walks meet every value 0..4
    assert r.distinct_states == 5


def test_invariant_violation_trace_is_the_walk_and_is_seeded() -> None:
    r1 = simulate(SPEC, DATA / "SimWalkSmall.cfg", depth=20, num=10, seed=3)
    r2 = simulate(SPEC, DATA / "SimWalkSmall.cfg", depth=20, num=10, seed=3)
    assert r1.outcome == "invariant_violated" and r1.violated == "Small"
    xs = [int(s.state["x"]) for s in r1.trace]
    assert xs[0] == 0 and xs[-1] >= 5 and all(v < 5 for v in xs[:-1])
    assert all(0 < b - a <= 2 for a, b in itertools.pairwise(xs))
    assert r1.trace[0].action == "Initial predicate"
    assert all(s.action == "Next" for s in r1.trace[1:])
    assert [s.state for s in r1.trace] == [s.state for s in r2.trace]
    assert (r1.states_generated, r1.distinct_states) == (r2.states_generated, r2.distinct_states)


def test_deadlock_is_reported_with_the_walk() -> None:
    r = simulate(SPEC, DATA / "SimWalkDeadlock.cfg", depth=20, num=5, seed=0)
    assert r.outcome == "deadlock"
    assert r.trace[-1].state["x"] == "6"


def test_one_state_behaviours() -> None:
    r = simulate(SPEC, DATA / "SimWalkDeadlock.cfg", depth=1, num=3, seed=0)
    assert r.outcome == "ok" and r.depth == 1 and r.distinct_states == 1


def test_action_property_violation_on_the_first_step() -> None:
    r = simulate(SPEC, DATA / "SimWalkAction.cfg", depth=20, num=3, seed=0)
    assert r.outcome == "action_property_violated" and r.violated == "Shrinks"
    assert len(r.trace) == 2 and r.trace[0].state["x"] == "0"


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        simulate(SPEC, DATA / "SimWalk.cfg", depth=0)
    with pytest.raises(ValueError):
        simulate(SPEC, DATA / "SimWalk.cfg", num=None)


def test_errors_come_back_as_results(tmp_path: Path) -> None:
    r = simulate(SPEC, tmp_path / "missing.cfg", num=1, seed=0)
    assert r.outcome == "error"
