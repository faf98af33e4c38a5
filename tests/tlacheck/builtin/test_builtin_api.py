"""explore(), parse_module() and the canonical value encoding."""

from __future__ import annotations

from pathlib import Path

from tlacheck.builtin import explore, parse_module
from tlacheck.canonical import canon_state, fn, mv, rec, seq, to_tla

DATA = Path(__file__).resolve().parents[2] / "data" / "tla"


def test_explore_returns_canonical_states_and_edges() -> None:
    space = explore(DATA / "Procs.tla", DATA / "Procs.cfg")
    p1, p2 = mv("p1"), mv("p2")
    init = canon_state({"flag": fn({p1: False, p2: False}), "log": seq()})
    assert space.init == [init]
    assert len(space.states) == 7
    assert init in space.states.values()
    one = canon_state({"flag": fn({p1: True, p2: False}), "log": seq(p1)})
    fp = {s: k for k, s in space.states.items()}
    assert (fp[init], fp[one], "Toggle") in space.edges
    # length-3 logs are outside the CONSTRAINT: not states, so no edges to them
    assert all(a in space.states and b in space.states for a, b, _ in space.edges)


def test_parse_module_names() -> None:
    info = parse_module(DATA / "Procs.tla")
    assert info.name == "Procs"
    assert info.variables == ["flag", "log"]
    assert info.constants == ["Proc", "Limit"]
    assert {"Init", "Toggle", "Next", "Spec", "TypeOK"} <= set(info.definitions)
    assert "Sequences" in info.extends
    outer = parse_module(DATA / "Outer.tla")
    assert outer.instances == ["Inner"]


def test_canonical_values_follow_tlc_equality() -> None:
    assert rec(a=1, b=2) == fn({"b": 2, "a": 1})
    assert seq() == fn({})
    assert seq(1, 2) == fn({1: 1, 2: 2})
    assert fn({1: True}) != fn({1: 1})  # booleans are not integers
    assert canon_state({"x": True}) != canon_state({"x": 1})
    assert hash(seq(1, 2)) == hash(fn({2: 2, 1: 1}))


def test_to_tla_renders_like_tlc() -> None:
    assert to_tla(rec(b=2, a=1)) == "[a |-> 1, b |-> 2]"
    assert to_tla(seq(1, "s")) == '<<1, "s">>'
    assert to_tla(frozenset({3, 1})) == "{1, 3}"
    assert to_tla(fn({1: 2, 3: 4})) == "(1 :> 2 @@ 3 :> 4)"
    assert to_tla(seq()) == "<<>>"
    assert to_tla(mv("p1")) == "p1"
    assert to_tla(True) == "TRUE"
