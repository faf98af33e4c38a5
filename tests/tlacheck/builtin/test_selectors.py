"""Subexpression selectors (Op!i!j, Op(args)!i, Def!label) and ASSUMEs that name an
assumption or a theorem; counts worked out by hand in tests/data/tla/Selectors.tla."""

from __future__ import annotations

from pathlib import Path

import pytest

import tlacheck

DATA = Path(__file__).resolve().parents[2] / "data" / "tla"
SPEC = DATA / "Selectors.tla"


def test_selected_parts_that_hold() -> None:
    r = tlacheck.check(SPEC, config=DATA / "Selectors.cfg", backend="builtin")
    assert r.outcome == "ok", r.message
    assert (r.distinct_states, r.states_generated, r.depth) == (5, 6, 5)


@pytest.mark.parametrize(
    ("cfg", "name", "states", "x"),
    [
        ("SelectorsS1", "S1", 4, "3"),  # Inv!2: x < 3
        ("SelectorsS2", "S2", 3, "2"),  # Lab!hi: x # 2
        ("SelectorsS3", "S3", 2, "1"),  # Par(x)!2: x # 1
        ("SelectorsS4", "S4", 5, "4"),  # IfE!3: the ELSE branch, x < 4
        ("SelectorsS5", "S5", 5, "4"),  # Deep!2: x # 4
    ],
)
def test_selected_parts_that_fail(cfg: str, name: str, states: int, x: str) -> None:
    r = tlacheck.check(SPEC, config=DATA / f"{cfg}.cfg", backend="builtin")
    assert r.outcome == "invariant_violated" and r.violated == name
    assert (r.distinct_states, r.states_generated) == (states, states)
    assert r.trace[-1].state["x"] == x


def test_assume_naming_a_false_assumption() -> None:
    r = tlacheck.check(DATA / "NamedAssume.tla", backend="builtin")
    assert r.outcome == "assumption_failed"
