"""Fingerprint-based state storage: the fingerprint respects TLA+ equality, the explorer keeps
fingerprints (not states), spilling the BFS frontier to disk does not change anything."""

from __future__ import annotations

import itertools
from pathlib import Path

from tlacheck.builtin import run
from tlacheck.builtin.cfg import parse_cfg
from tlacheck.builtin.checker import Explorer, Frontier
from tlacheck.builtin.fingerprint import fingerprint, state_fingerprint
from tlacheck.builtin.model import build_model
from tlacheck.builtin.values import FV, mkseq
from tlacheck.canonical import ModelValue

DATA = Path(__file__).resolve().parents[2] / "data" / "tla"


def fresh(v: object) -> object:
    """An equal value built from scratch (no cached fingerprints, no shared sub-values)."""
    if isinstance(v, FV):
        return FV({fresh(k): fresh(x) for k, x in v.d.items()})
    if isinstance(v, frozenset):
        return frozenset(fresh(x) for x in v)
    return v


def test_equal_values_have_equal_fingerprints_whatever_the_construction_order() -> None:
    a = FV({"x": 1, "y": frozenset({1, 2}), "z": mkseq(["a", "b"])})
    b = FV({"z": mkseq(["a", "b"]), "y": frozenset({2, 1}), "x": 1})
    assert fingerprint(a) == fingerprint(b) == fingerprint(fresh(a))


def test_structurally_close_values_differ() -> None:
    distinct = [
        1,
        True,
        0,
        False,
        "1",
        ModelValue("m1"),
        ModelValue("m2"),
        frozenset({1, 4}),
        frozenset({2, 3}),
        frozenset(),
        FV({}),
        mkseq([1, 2]),
        mkseq([2, 1]),
        FV({1: 2, 2: 1, 3: 3}),
        FV({1: 3, 2: 2, 3: 1}),
        FV({"a": 1, "b": 2}),
        FV({"a": 2, "b": 1}),
        frozenset({mkseq([1, 2])}),
        frozenset({frozenset({1, 2})}),
        -1,
        -2,
        2**64 + 5,
    ]
    fps = [fingerprint(v) for v in distinct]
    assert len(set(fps)) == len(fps)
    # swapping values between two keys (a linear pair hash would collide here)
    grid = {FV({p: (i, j)[k] for k, p in enumerate("pq")}) for i in range(30) for j in range(30)}
    assert len({fingerprint(v) for v in grid}) == 900
    # value cycles over keys from the same set (a symmetric bilinear pair sum would collide)
    assert fingerprint(mkseq([2, 4, 2, 3])) != fingerprint(mkseq([2, 3, 4, 2]))
    seqs = [mkseq(t) for t in itertools.product(range(1, 5), repeat=4)]
    assert len({fingerprint(v) for v in seqs}) == 256
    subsets = [frozenset(c) for r in range(9) for c in itertools.combinations(range(1, 9), r)]
    assert len({fingerprint(v) for v in subsets}) == 256
    nested = [frozenset(c) for r in range(4) for c in itertools.combinations(seqs[:40], r)]
    assert len({fingerprint(v) for v in nested}) == len(nested)


def test_except_updates_the_fingerprint_incrementally_and_exactly() -> None:
    from tlacheck.builtin.compiler import _update

    # (functions of more than 6 pairs; smaller ones are cheaper to re-hash when needed)
    base = FV({p: FV({"pc": "idle", "n": 0}) for p in "abcdefgh"})
    fingerprint(base)  # caches the pair sum that EXCEPT starts from
    new = _update(base, ["b", "n"], 0, lambda c, e: e["@"] + 1, None, {})  # type: ignore[arg-type]
    assert new.s is not None  # derived, not recomputed
    assert fingerprint(new) == fingerprint(fresh(new))
    assert fingerprint(new) != fingerprint(base)


def test_state_fingerprint_is_ordered_by_variable() -> None:
    assert state_fingerprint((1, 2)) != state_fingerprint((2, 1))


def explorer(cfg: str, **kw: object) -> Explorer:
    model = build_model(DATA / "Grid.tla", parse_cfg(DATA / f"{cfg}.cfg"))
    return Explorer(model, **kw)  # type: ignore[arg-type]


def test_explorer_stores_fingerprints_not_states() -> None:
    # Grid.cfg: (2 * 2 + 1)^3 = 125 states
    ex = explorer("Grid")
    assert ex.run() is None
    assert len(ex.seen) == len(ex.fps) == len(ex.parents) == 125
    assert all(type(f) is int for f in ex.seen)
    assert ex.graph.states == []  # no liveness: no behaviour graph
    assert ex.parents[0] == -1


def test_frontier_spilled_to_disk_gives_the_same_counts() -> None:
    a = explorer("Grid")
    b = explorer("Grid", spill_limit=7)
    assert a.run() is None and b.run() is None
    assert (len(a.seen), a.generated, a.depth) == (len(b.seen), b.generated, b.depth) == (125, 376, 13)


def test_frontier_preserves_order_across_chunks() -> None:
    f = Frontier(limit=3)
    for i in range(10):
        f.append((i, (i,)))
    assert len(f) == 10
    assert [i for i, _ in f] == list(range(10))


def test_trace_is_reexecuted_from_parent_fingerprints() -> None:
    # CounterInv: the trace 0 -> 1 -> 2 is rebuilt from the stored fingerprint chain
    r = run(DATA / "Counter.tla", DATA / "CounterInv.cfg")
    assert [s.state["x"] for s in r.trace] == ["0", "1", "2"]
    assert r.trace[0].action == "Initial predicate"
