"""Exhaustive replay (ringq_proof.exhaustive): the planner covers every transition, the driver
follows the model on real PostgreSQL, and a divergence is reported with its path.

The default suite replays a prefix of SegmentedStorage_dlq's paths in-process (seconds); the
whole graphs run behind the `exhaustive` marker (`-m exhaustive` or RINGQ_EXHAUSTIVE=1).
"""

from __future__ import annotations

import itertools
import os
import uuid

import pytest

from ringq_proof.exhaustive.driver import RingqSystem, realizable
from ringq_proof.exhaustive.plan import build_graph, cover
from ringq_proof.exhaustive.replay import plan, replay_path, run_exhaustive
from ringq_proof.model import Model, load_config


def _wants_exhaustive(request: pytest.FixtureRequest) -> bool:
    return (
        "exhaustive" in (request.config.getoption("markexpr") or "")
        or os.environ.get("RINGQ_EXHAUSTIVE") == "1"
    )


def test_cover_takes_every_edge_from_the_initial_state() -> None:
    graph = build_graph(Model(load_config("SegmentedStorage_dlq")), realizable)
    paths = cover(graph, max_len=40)
    taken = {e for p in paths for e in p}
    assert taken == set(range(len(graph.edges)))
    for p in paths:  # each path is a walk from state 0
        assert graph.edges[p[0]].src == 0
        assert all(graph.edges[a].dst == graph.edges[b].src for a, b in itertools.pairwise(p))


def test_rescue_out_of_run_lease_order_is_reported_not_replayed() -> None:
    graph = build_graph(Model(load_config("SegmentedStorage_single")), realizable)
    assert set(graph.unrealizable) == {
        "Rescue of a later lease first: rescue.sql takes expired attempts in run_lease order"
    }
    assert graph.total == len(graph.edges) + sum(graph.unrealizable.values())


def test_a_prefix_of_the_dlq_paths_replays_with_crashes_and_refusals(db_url: str) -> None:
    cfg = load_config("SegmentedStorage_dlq")
    _, paths, first = plan(cfg)
    system = RingqSystem(db_url, f"x_{uuid.uuid4().hex[:10]}", cfg)
    model = Model(cfg)
    probed: set = set()
    try:
        for k in range(10):
            out = replay_path(system, model, k, paths[k], crash_before_commit=first[k], probed=probed)
            assert out.failure is None, out.failure
            assert out.steps == len(paths[k])
    finally:
        system.close()


def test_a_mutant_diverges_on_the_first_path_that_reaches_it(db_url: str) -> None:
    from ringq_proof import mutants

    cfg = load_config("SegmentedStorage_dlq")
    _, paths, _ = plan(cfg)
    system = RingqSystem(db_url, f"x_{uuid.uuid4().hex[:10]}", cfg, mutants.get("result_after_closure"))
    try:
        failures = [
            f
            for k in range(40)
            if (
                f := replay_path(
                    system, Model(cfg), k, paths[k], crash_before_commit=False, probed=set()
                ).failure
            )
        ]
    finally:
        system.close()
    assert failures
    assert failures[0].kind == "Refinement"
    assert "done" in failures[0].message and failures[0].action == "Complete(w='w1')"


@pytest.mark.exhaustive
@pytest.mark.parametrize("cfg", ["SegmentedStorage_dlq", "SegmentedStorage_single", "SegmentedStorage_retry"])
def test_every_transition_replays(cfg: str, db_url: str, request: pytest.FixtureRequest) -> None:
    if not _wants_exhaustive(request):
        pytest.skip("exhaustive replay of a whole graph: run with -m exhaustive or RINGQ_EXHAUSTIVE=1")
    report = run_exhaustive(cfg, db_url)
    print(report.summary())
    assert report.ok, report.summary()
