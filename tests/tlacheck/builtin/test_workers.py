"""`workers > 1`: forked worker processes give exactly the one-process results (counts,
depth, verdict, trace, states left at max_states); liveness falls back to one process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tlacheck.builtin import run
from tlacheck.result import CheckResult

DATA = Path(__file__).resolve().parents[2] / "data" / "tla"


def signature(r: CheckResult) -> tuple[object, ...]:
    return (
        r.outcome,
        r.violated,
        r.distinct_states,
        r.states_generated,
        r.depth,
        r.states_left_on_queue,
        r.error_kind,
        [(s.state, s.action, s.lasso_back_to) for s in r.trace],
    )


@pytest.mark.parametrize(
    ("spec", "cfg", "max_states"),
    [
        ("Grid", "Grid", None),  # 125 distinct, 376 generated, depth 13
        ("Grid", "Grid", 50),  # stopped mid-level: same generated count and queue
        ("Counter", "CounterInv", None),  # invariant violation and its trace
        ("Counter", "CounterAction", None),  # action property violation
        ("Stop", "Stop", None),  # deadlock
        ("Procs", "ProcsSym", None),  # SYMMETRY
        ("Procs", "ProcsView", None),  # VIEW
        ("Dups", "Dups", None),  # duplicate derivations counted as generated
    ],
)
def test_workers_match_one_process_exactly(spec: str, cfg: str, max_states: int | None) -> None:
    check_same(spec, cfg, max_states, 2)


def test_three_workers_rebalance_and_match() -> None:
    check_same("Grid", "Grid", None, 3)
    check_same("Grid", "Grid", 100, 3)


def check_same(spec: str, cfg: str, max_states: int | None, workers: int) -> None:
    one = run(DATA / f"{spec}.tla", DATA / f"{cfg}.cfg", max_states=max_states)
    many = run(DATA / f"{spec}.tla", DATA / f"{cfg}.cfg", workers=workers, max_states=max_states)
    assert one.workers == 1
    assert many.workers == workers
    assert signature(many) == signature(one)


def test_grid_counts_with_workers() -> None:
    r = run(DATA / "Grid.tla", DATA / "Grid.cfg", workers=2)
    assert (r.outcome, r.distinct_states, r.states_generated, r.depth) == ("ok", 125, 376, 13)


def test_liveness_falls_back_to_one_worker_with_a_warning() -> None:
    r = run(DATA / "Counter.tla", DATA / "Counter.cfg", workers=2)
    assert (r.outcome, r.distinct_states, r.states_generated, r.depth) == ("ok", 4, 5, 4)
    assert r.workers == 1
    assert "Warning: 2 workers requested, but liveness checking" in r.message
