"""Temporal property forms that reduce to supported ones ([](P ~> Q), [][]P, <><>P); counts
worked out by hand in tests/data/tla/TemporalForms.tla."""

from __future__ import annotations

from pathlib import Path

import tlacheck

DATA = Path(__file__).resolve().parents[2] / "data" / "tla"
SPEC = DATA / "TemporalForms.tla"


def test_forms_that_hold() -> None:
    r = tlacheck.check(SPEC, config=DATA / "TemporalForms.cfg", backend="builtin")
    assert r.outcome == "ok", r.message
    assert (r.distinct_states, r.states_generated, r.depth) == (3, 4, 3)


def test_always_leads_to_violated_with_a_lasso() -> None:
    r = tlacheck.check(SPEC, config=DATA / "TemporalFormsBad.cfg", backend="builtin")
    assert r.outcome == "property_violated" and r.violated == "Never3"
    assert [s.state["x"] for s in r.trace] == ["0", "1", "2"]
    assert r.trace[-1].lasso_back_to == 1
