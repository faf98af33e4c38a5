"""The model equals the spec: same reachable states for every passing cfg, same violation for
every broken cfg (same invariant, counterexample of the same length), as computed by
tlacheck's built-in checker on correctness/storage/SegmentedStorage(.Races).tla."""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

import pytest

from ringq_proof.model import Model, available_configs, explore, load_config, to_canonical
from ringq_proof.model.explore import path_to, reachable
from ringq_proof.model.liveness import PROPERTIES
from tlacheck import builtin
from tlacheck.canonical import CanonState, to_tla

CONFIGS = available_configs()
PASSING = sorted(n for n in CONFIGS if not load_config(n).bugs)
BROKEN = sorted(n for n in CONFIGS if load_config(n).bugs)


def spec_of(name: str) -> Path:
    cfg = load_config(name)
    return CONFIGS[name].parent / f"{cfg.spec}.tla"


def _render(state: CanonState) -> str:
    return "\n".join(f"      {k} = {to_tla(v)}" for k, v in sorted(state.items()))


def _spec_path(space: builtin.StateSpace, target: int) -> list[int]:
    """Shortest path (fingerprints) from an initial state to `target` in the spec's graph."""
    succ: dict[int, list[int]] = {}
    for a, b, _ in space.edges:
        succ.setdefault(a, []).append(b)
    starts = [hash(s) for s in space.init]
    parent: dict[int, int | None] = {s: None for s in starts}
    queue = deque(starts)
    while queue:
        x = queue.popleft()
        if x == target:
            break
        for y in succ.get(x, []):
            if y not in parent:
                parent[y] = x
                queue.append(y)
    path: list[int] = []
    cur: int | None = target
    while cur is not None:
        path.append(cur)
        cur = parent.get(cur)
    return path[::-1]


def _explain_mismatch(name: str, model_states: dict[CanonState, int], model_tr: Any, space: Any) -> str:
    spec_states = set(space.states.values())
    only_model = [s for s in model_states if s not in spec_states]
    only_spec = [s for s in spec_states if s not in model_states]
    lines = [
        f"{name}: model has {len(model_states)} states, spec has {len(spec_states)}; "
        f"{len(only_model)} only in the model, {len(only_spec)} only in the spec"
    ]
    if only_model:
        _index, states, parent = model_tr
        first = min(only_model, key=lambda s: model_states[s])
        lines.append("  first state only in the MODEL, reached by:")
        for step in path_to(states, parent, model_states[first]):
            lines.append(f"    {step.action}({step.params})")
        lines.append(_render(first))
    if only_spec:
        first_spec = only_spec[0]
        fp = hash(first_spec)
        lines.append("  a state only in the SPEC, reached through:")
        for x in _spec_path(space, fp):
            lines.append("    ->")
            lines.append(_render(space.states[x]))
    return "\n".join(lines)


@pytest.mark.parametrize("name", PASSING)
def test_reachable_states_equal_the_specs(name: str) -> None:
    cfg = load_config(name)
    model = Model(cfg)
    tr = reachable(model)
    _index, states, _ = tr
    model_states = {to_canonical(s, cfg): i for i, s in enumerate(states)}
    assert len(model_states) == len(states), "two model states map to the same TLA+ state"
    space = builtin.explore(spec_of(name), CONFIGS[name])
    spec_states = set(space.states.values())
    if set(model_states) != spec_states:
        pytest.fail(_explain_mismatch(name, model_states, tr, space))
    # and the correct design holds every invariant its cfg lists, in both
    r = explore(model)
    assert r.violated is None, f"model violates {r.violated}"
    if cfg.properties:  # the liveness cfg: both sides check EventuallyTerminal under Fairness
        for prop in cfg.properties:
            assert PROPERTIES[prop](model) is None, f"model: {prop} violated"
        checked = builtin.run(spec_of(name), CONFIGS[name])
        assert checked.outcome == "ok", f"spec: {checked.outcome} {checked.violated} {checked.message}"


@pytest.mark.parametrize("name", BROKEN)
def test_broken_cfg_violates_the_same_invariant_with_a_trace_of_the_same_length(name: str) -> None:
    cfg = load_config(name)
    mine = explore(Model(cfg))
    theirs = builtin.run(spec_of(name), CONFIGS[name])
    assert theirs.outcome == "invariant_violated", theirs.message
    assert mine.violated is not None, "the model found no violation"
    assert (mine.violated, len(mine.trace)) == (theirs.violated, len(theirs.trace))
    # both traces start in the initial state (BFS may pick different shortest paths after it)
    first = to_canonical(mine.trace[0].state, cfg)
    assert {k: to_tla(v) for k, v in first.items()} == theirs.trace[0].state


def test_without_fairness_both_find_eventually_terminal_violated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ringq_proof.model import liveness

    live = CONFIGS["SegmentedStorage_live"]
    unfair = tmp_path / "unfair.cfg"
    unfair.write_text(live.read_text().replace("SPECIFICATION LiveSpec", "SPECIFICATION Spec"))
    theirs = builtin.run(spec_of("SegmentedStorage_live"), unfair)
    assert (theirs.outcome, theirs.violated) == ("property_violated", "EventuallyTerminal")
    monkeypatch.setattr(liveness, "WORKER_FAIR", ())
    monkeypatch.setattr(liveness, "GLOBAL_FAIR", ())
    assert liveness.EventuallyTerminal(Model(load_config("SegmentedStorage_live"))) is not None
