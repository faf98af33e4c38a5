"""Trace validation (ringq_proof.tracecheck): traces of the real implementation, checked with
tlacheck against SegmentedStorage.tla itself (not the Python model)."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import invariant

from ringq_proof import mutants
from ringq_proof.exhaustive.driver import RingqSystem
from ringq_proof.exhaustive.replay import plan, replay_path
from ringq_proof.model import Model, load_config
from ringq_proof.model.state import Att
from ringq_proof.tracecheck import check_trace, validate_replay
from stateful.test_model_conformance import SCENARIOS, WORKERS, Conformance, ConformanceMachine


def _replayed(
    db_url: str, cfg_name: str, k: int, mutant: str | None = None
) -> tuple[Any, list[dict[str, Any]]]:
    cfg = load_config(cfg_name)
    _, paths, _ = plan(cfg)
    system = RingqSystem(db_url, f"x_{uuid.uuid4().hex[:10]}", cfg, mutants.get(mutant) if mutant else None)
    try:
        out = replay_path(system, Model(cfg), k, paths[k], probed=set(), record=True, strict=True)
    finally:
        system.close()
    assert out.trace is not None
    return out, out.trace.states


def test_replayed_traces_are_behaviours_of_the_spec(db_url: str) -> None:
    v = validate_replay("SegmentedStorage_dlq", db_url, max_paths=6)
    assert v.ok, v.summary()
    assert v.traces == 6 and v.states > 6


def test_a_reordered_trace_is_rejected_at_the_first_bad_step(db_url: str) -> None:
    _, states = _replayed(db_url, "SegmentedStorage_dlq", 0)
    i = next(i for i in range(1, len(states) - 1) if states[i] != states[i + 1])
    bad = [*states[:i], states[i + 1], states[i], *states[i + 2 :]]
    v = check_trace(load_config("SegmentedStorage_dlq"), bad)
    assert not v.ok
    assert i <= v.matched < len(bad), v
    assert check_trace(load_config("SegmentedStorage_dlq"), states).ok


def test_a_mutants_trace_is_not_a_behaviour_of_the_spec(db_url: str) -> None:
    # the model would stop the replay at the divergence; record without comparing: the spec decides
    cfg = load_config("SegmentedStorage_dlq")
    system = RingqSystem(db_url, f"x_{uuid.uuid4().hex[:10]}", cfg, mutants.get("result_after_closure"))
    model = Model(cfg)
    path = [("Enqueue", {"j": "j1"}), ("Claim", {"w": "w1"}), ("Complete", {"w": "w1"})]
    out = replay_path(system, model, 0, path, probed=set(), record=True, crash_before_commit=False)
    system.close()
    assert out.failure is not None and out.trace is not None  # stopped after Complete: recorded up to it
    trace = out.trace.states
    assert len(trace) == 3  # Init, Enqueue, Claim (the diverging state is not recorded)


def _conformance_trace(name: str) -> tuple[Conformance, list[dict[str, Any]]]:
    c = Conformance()

    def observe() -> dict[str, Any]:
        real = c.real()
        real["held"] = tuple(
            frozenset(Att(c.names.job(j), c.names.lease(r)) for j, r in c.h.workers[w].held) for w in WORKERS
        )
        return real

    trace = [observe()]
    for action, args in SCENARIOS[name]:
        getattr(c, action)(*args)
        trace.append(observe())
    return c, trace


# three scenarios in the default suite (a few seconds each), all of them with RINGQ_EXHAUSTIVE=1
QUICK = ("cancel_running_and_queued", "expire_rescue_stale_worker", "open_enqueue_across_rotation_and_kill")


@pytest.mark.stateful
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_stateful_scenario_traces_are_behaviours_of_the_spec(name: str) -> None:
    if name not in QUICK and os.environ.get("RINGQ_EXHAUSTIVE") != "1":
        pytest.skip("more scenario traces vs the spec: RINGQ_EXHAUSTIVE=1")
    c, trace = _conformance_trace(name)
    try:
        # a commit sequences every staged job of its transaction: up to JOBS spec steps at once
        v = check_trace(c.cfg, trace, silent=3)
    finally:
        c.close()
    assert v.ok, v


class TracedConformance(ConformanceMachine):
    """The random conformance machine, recording what the real schema shows after every step; at
    the end the recorded trace must be a behaviour of the spec (tlacheck, not the Python model)."""

    def __init__(self) -> None:
        super().__init__()
        self.observed: list[dict[str, Any]] = []

    @invariant()
    def record(self) -> None:
        c = self.c
        real = c.real()
        real["held"] = tuple(
            frozenset(Att(c.names.job(j), c.names.lease(r)) for j, r in c.h.workers[w].held) for w in WORKERS
        )
        self.observed.append(real)

    def teardown(self) -> None:
        try:
            v = check_trace(self.c.cfg, self.observed, silent=3)
            assert v.ok, f"{v}\nafter {self.c.trace}"
        finally:
            super().teardown()


# ~25 s per example on 2 loaded cores (tlacheck with silent steps): behind RINGQ_EXHAUSTIVE=1
TestTracedConformance = pytest.mark.exhaustive(
    pytest.mark.skipif(
        os.environ.get("RINGQ_EXHAUSTIVE") != "1", reason="random traces vs the spec: RINGQ_EXHAUSTIVE=1"
    )(TracedConformance.TestCase)
)
TestTracedConformance.settings = settings(
    max_examples=3,
    stateful_step_count=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
