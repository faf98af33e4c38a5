"""The built-in checker on small specs whose counts are worked out by hand (see each test).

Counting follows TLC: generated = every initial-state derivation + every successor derivation
of every explored state (duplicates included); distinct = states satisfying the constraints
(after VIEW/SYMMETRY); depth = number of BFS levels (initial states = level 1).
"""

from __future__ import annotations

from pathlib import Path

from tlacheck.builtin import Progress, run

DATA = Path(__file__).resolve().parents[2] / "data" / "tla"


def check(spec: str, cfg: str | None = None):  # type: ignore[no-untyped-def]
    return run(DATA / f"{spec}.tla", DATA / f"{cfg or spec}.cfg")


def test_counter_passes_with_liveness() -> None:
    # x: 0 -> 1 -> 2 -> 3 -> 0. 4 distinct; 1 initial + 4 successors (one per state) = 5
    # generated; levels {0},{1},{2},{3} -> depth 4. WF_x(Next) makes []<>(x=0), <>(x=3)
    # and (x=1) ~> (x=0) hold.
    r = check("Counter")
    assert (r.outcome, r.distinct_states, r.states_generated, r.depth) == ("ok", 4, 5, 4)


def test_invariant_violation_has_shortest_trace() -> None:
    # Small == x < 2 fails first at x = 2, reached by 0 -> 1 -> 2. TLC stops there:
    # generated 1 (init) + 1 (from 0) + 1 (from 1) = 3, distinct 3.
    r = check("Counter", "CounterInv")
    assert r.outcome == "invariant_violated"
    assert r.violated == "Small"
    assert [s.state["x"] for s in r.trace] == ["0", "1", "2"]
    assert r.trace[0].action == "Initial predicate"
    assert (r.distinct_states, r.states_generated) == (3, 3)
    assert r.exit_code == 12


def test_action_property_violation() -> None:
    # [][x' > x]_x is broken by the step 3 -> 0.
    r = check("Counter", "CounterAction")
    assert r.outcome == "action_property_violated"
    assert r.violated == "Increasing"
    assert [s.state["x"] for s in r.trace] == ["0", "1", "2", "3", "0"]


def test_liveness_violation_without_fairness_is_a_stuttering_lasso() -> None:
    # Without WF the behaviour may stop in a state where x # 0 forever.
    r = check("Counter", "CounterNoFair")
    assert r.outcome == "property_violated"
    assert r.violated == "Infinitely0"
    assert r.trace[-1].lasso_back_to == -1
    assert r.trace[-1].state["x"] != "0"
    assert r.exit_code == 13


def test_eventually_violated_by_stuttering() -> None:
    r = check("Unfair")
    assert r.outcome == "property_violated"
    assert r.violated == "Reaches3"
    assert all(s.state["x"] != "3" for s in r.trace)
    assert r.trace[-1].lasso_back_to == -1


def test_deadlock() -> None:
    # 0 -> 1 -> 2 and x = 2 has no successor: 3 distinct, 3 generated.
    r = check("Stop")
    assert r.outcome == "deadlock"
    assert [s.state["x"] for s in r.trace] == ["0", "1", "2"]
    assert (r.distinct_states, r.states_generated) == (3, 3)


def test_check_deadlock_false() -> None:
    r = check("Stop", "StopNoDeadlock")
    assert (r.outcome, r.distinct_states, r.states_generated, r.depth) == ("ok", 3, 3, 3)


def test_duplicates_count_as_generated() -> None:
    # Init: 2 derivations (x = 0, x = 1), both distinct. From each state: 3 witnesses of \E,
    # x' = x, and UNCHANGED x: 5 derivations. generated = 2 + 2 * 5 = 12; every successor is
    # already known, so depth 1. UNCHANGED x is a successor, so no deadlock.
    r = check("Dups")
    assert (r.outcome, r.distinct_states, r.states_generated, r.depth) == ("ok", 2, 12, 1)


def test_constraint_and_model_values() -> None:
    # Proc = {p1, p2}, Limit = 2: a state is determined by log (flag = parities), logs of
    # length 0..2 are in the model: 1 + 2 + 4 = 7 distinct. Each of the 7 is explored with
    # 2 successors: 1 + 14 = 15 generated (length-3 successors are generated, not kept).
    r = check("Procs")
    assert (r.outcome, r.distinct_states, r.states_generated, r.depth) == ("ok", 7, 15, 3)


def test_symmetry_reduces_to_orbits() -> None:
    # Swapping p1/p2: orbits <<>>, {<<p1>>,<<p2>>}, {<<p1,p1>>,<<p2,p2>>}, {<<p1,p2>>,<<p2,p1>>}
    # = 4 distinct; 4 explored * 2 + 1 = 9 generated.
    r = check("Procs", "ProcsSym")
    assert (r.outcome, r.distinct_states, r.states_generated, r.depth) == ("ok", 4, 9, 3)


def test_view_fingerprints_by_view_value() -> None:
    # VIEW flag: FF; then TF, FT; then TT (FF seen again). 4 distinct, 1 + 4 * 2 = 9 generated.
    r = check("Procs", "ProcsView")
    assert (r.outcome, r.distinct_states, r.states_generated, r.depth) == ("ok", 4, 9, 3)


def test_instance_with_substitution_and_cfg_operator_substitution() -> None:
    # Max <- MyMax (2), Cap = 3, Inner's v <- n: n moves by +1 or +2 mod 3. States 0, 1, 2
    # (1 and 2 both at level 2): 3 distinct, 1 + 3 * 2 = 7 generated, depth 2.
    r = check("Outer")
    assert (r.outcome, r.distinct_states, r.states_generated, r.depth) == ("ok", 3, 7, 2)


def test_assumption_failure() -> None:
    r = check("BadAssume")
    assert r.outcome == "assumption_failed"
    assert r.violated == "KPositive"
    assert r.exit_code == 10


def test_parse_error() -> None:
    r = check("Broken")
    assert r.outcome == "error"
    assert r.error_kind == "parse"
    assert "Broken.tla:3:" in r.message


def test_config_error() -> None:
    r = check("Procs", "ProcsBadCfg")
    assert (r.outcome, r.error_kind) == ("error", "config")


def test_unsupported_construct_is_reported_with_location() -> None:
    r = check("Unsup")
    assert (r.outcome, r.error_kind) == ("error", "unsupported")
    assert "unbounded CHOOSE" in r.message
    assert "Unsup.tla:5:14" in r.message


def test_max_states_stops_early() -> None:
    r = run(DATA / "Procs.tla", DATA / "Procs.cfg", max_states=3)
    assert r.outcome == "error"
    assert r.error_kind == "max_states"
    assert r.distinct_states == 3


def test_progress_callback_receives_counts() -> None:
    seen: list[Progress] = []
    r = run(DATA / "Counter.tla", DATA / "Counter.cfg", progress=seen.append)
    assert r.outcome == "ok"
    assert all(p.distinct <= 4 for p in seen)


def test_runtime_error_names_the_source_location(tmp_path: Path) -> None:
    spec = tmp_path / "Bad.tla"
    spec.write_text(
        "---- MODULE Bad ----\nEXTENDS Sequences\nVARIABLE x\nInit == x = 0\nNext == x' = Head(<<>>)\n====\n"
    )
    (tmp_path / "Bad.cfg").write_text("INIT Init\nNEXT Next\n")
    r = run(spec)
    assert (r.outcome, r.error_kind) == ("error", "runtime")
    assert "Head" in r.message
    assert "Bad.tla:5:14" in r.message
