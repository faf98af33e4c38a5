"""Membership in infinite sets is tested lazily, as TLC does (counts worked out by hand in
tests/data/tla/LazyMembership.tla)."""

from __future__ import annotations

from pathlib import Path

import tlacheck

DATA = Path(__file__).resolve().parents[2] / "data" / "tla"
SPEC = DATA / "LazyMembership.tla"


def test_invariants_over_infinite_sets_hold() -> None:
    r = tlacheck.check(SPEC, config=DATA / "LazyMembership.cfg", backend="builtin")
    assert r.outcome == "ok", r.message
    assert (r.distinct_states, r.states_generated, r.depth) == (4, 4, 4)


def test_lazy_intersection_can_be_false() -> None:
    r = tlacheck.check(SPEC, config=DATA / "LazyMembershipBad.cfg", backend="builtin")
    assert r.outcome == "invariant_violated" and r.violated == "InRange"
    assert (r.distinct_states, r.states_generated) == (3, 3)
    assert [s.state["n"] for s in r.trace] == ["0", "1", "2"]


def test_definitions_that_read_variables_later_are_not_constants() -> None:
    spec = DATA / "DeferredState.tla"
    r = tlacheck.check(spec, config=DATA / "DeferredState.cfg", backend="builtin")
    assert r.outcome == "ok", r.message
    assert (r.distinct_states, r.states_generated, r.depth) == (4, 4, 4)
    r = tlacheck.check(spec, config=DATA / "DeferredStateFar.cfg", backend="builtin")
    assert r.outcome == "invariant_violated" and r.violated == "Far"
    assert (r.distinct_states, r.states_generated) == (4, 4)
    assert r.trace[-1].state["y"] == "5"
