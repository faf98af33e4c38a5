"""Invariants are not re-evaluated on a step that leaves every variable they read as it was
(builtin/reads.py); SkipInv.tla's counts are worked out by hand in the spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tlacheck
from tlacheck.builtin import _load
from tlacheck.builtin.checker import Explorer
from tlacheck.builtin.reads import variables_read

DATA = Path(__file__).resolve().parents[2] / "data" / "tla"
SPEC = DATA / "SkipInv.tla"


def test_read_sets_follow_definitions() -> None:
    m = _load(SPEC, DATA / "SkipInv.cfg")
    reads = dict(zip([n for n, _ in m.invariants], m.invariant_reads, strict=True))
    assert reads == {"YOk": frozenset({"y"}), "XViaDef": frozenset({"x"}), "XSmall": frozenset({"x"})}


def test_unknown_reads_are_none(tmp_path: Path) -> None:
    (tmp_path / "R.tla").write_text(
        "---- MODULE R ----\nEXTENDS Naturals, TLC\nVARIABLE x\nInit == x = 0\nNext == x' = x\n"
        "Primed == x' = x\nRand == RandomElement({1, 2}) > 0\nPure == \\A i \\in {1, 2} : i + x > 0\n====\n"
    )
    (tmp_path / "R.cfg").write_text("INIT Init\nNEXT Next\nINVARIANT Primed Rand Pure\n")
    m = _load(tmp_path / "R.tla", tmp_path / "R.cfg")
    from tlacheck.builtin.scope import OpDef

    defs = {n: m.ms.lookup(n) for n in ("Primed", "Rand", "Pure")}
    assert all(isinstance(d, OpDef) for d in defs.values())
    assert variables_read(defs["Primed"]) is None  # type: ignore[arg-type]
    assert variables_read(defs["Rand"]) is None  # type: ignore[arg-type]
    assert variables_read(defs["Pure"]) == frozenset({"x"})  # type: ignore[arg-type]


def test_violation_on_the_only_step_that_changes_the_read_variable() -> None:
    r = tlacheck.check(SPEC, config=DATA / "SkipInv.cfg", backend="builtin")
    assert r.outcome == "invariant_violated" and r.violated == "XViaDef"
    assert (r.distinct_states, r.states_generated) == (5, 5)
    assert [s.state["x"] for s in r.trace] == ["0", "0", "0", "0", "1"]
    for w in (2,):
        r2 = tlacheck.check(SPEC, config=DATA / "SkipInv.cfg", backend="builtin", workers=w)
        assert (r2.outcome, r2.violated, r2.distinct_states, r2.states_generated) == (
            r.outcome,
            r.violated,
            r.distinct_states,
            r.states_generated,
        )


def test_skipped_evaluations() -> None:
    m = _load(SPEC, DATA / "SkipInvOk.cfg")
    calls: list[int] = []

    def counting(f: Any) -> Any:
        def g(c: Any, e: Any) -> Any:
            calls.append(1)
            return f(c, e)

        return g

    m.invariants = [(n, counting(f)) for n, f in m.invariants]
    ex = Explorer(m)
    assert ex.run() is None
    assert (len(ex.seen), ex.generated) == (5, 5)
    # YOk reads y: evaluated in the initial state and after the three steps that change y,
    # not after the step that only changes x
    assert len(calls) == 4
