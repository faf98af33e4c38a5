"""Breadth-first exploration of the model with TLC-style counts and shortest counterexamples."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ringq_proof.model.core import Model
from ringq_proof.model.state import State

Progress = Callable[[int, int, int, float], None]  # distinct, generated, depth, elapsed


@dataclass
class TraceStep:
    action: str  # "Initial predicate" for the first state
    params: dict[str, Any]
    state: State


@dataclass
class Exploration:
    """Result of `explore`: counts as TLC reports them, and the graph when asked for."""

    distinct: int = 0
    generated: int = 0
    depth: int = 0
    elapsed_s: float = 0.0
    violated: str | None = None
    trace: list[TraceStep] = field(default_factory=list)
    states: list[State] = field(default_factory=list)
    # edges[i] = [(action, params, j)], kept only when keep_graph is set
    edges: list[list[tuple[str, dict[str, Any], int]]] = field(default_factory=list)
    liveness: dict[str, str | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.violated is None and all(v is None for v in self.liveness.values())


def explore(
    model: Model,
    *,
    check: bool = True,
    keep_graph: bool = False,
    max_states: int | None = None,
    progress: Progress | None = None,
    progress_every: float = 2.0,
) -> Exploration:
    """BFS over the reachable states. Stops at the first invariant violation (like TLC) and
    returns the shortest trace to it. `generated` counts every successor computed, plus the
    initial state (TLC's "states generated"); `depth` is the longest shortest path + 1."""
    t0 = time.perf_counter()
    out = Exploration()
    init = model.init()
    index: dict[State, int] = {init: 0}
    states = [init]
    parent: list[tuple[int, str, dict[str, Any]]] = [(-1, "Initial predicate", {})]
    level = [1]
    out.generated = 1
    if check and (bad := model.violated(init)):
        out.violated = bad
        out.trace = [TraceStep("Initial predicate", {}, init)]
    queue: deque[int] = deque([0]) if out.violated is None else deque()
    last = t0
    edges: list[list[tuple[str, dict[str, Any], int]]] = [[]] if keep_graph else []
    while queue:
        i = queue.popleft()
        s = states[i]
        for action, params, n in model.successors(s):
            out.generated += 1
            j = index.get(n)
            if j is None:
                j = len(states)
                index[n] = j
                states.append(n)
                parent.append((i, action, params))
                level.append(level[i] + 1)
                if keep_graph:
                    edges.append([])
                if check and (bad := model.violated(n)):
                    out.violated = bad
                    out.trace = _trace(states, parent, j)
                    queue.clear()
                    if keep_graph:
                        edges[i].append((action, params, j))
                    break
                queue.append(j)
            if keep_graph:
                edges[i].append((action, params, j))
        if max_states is not None and len(states) >= max_states:
            break
        if progress is not None and time.perf_counter() - last >= progress_every:
            last = time.perf_counter()
            progress(len(states), out.generated, max(level), last - t0)
    out.distinct = len(states)
    out.depth = max(level)
    out.elapsed_s = time.perf_counter() - t0
    if keep_graph:
        out.states = states
        out.edges = edges
    return out


def _trace(states: list[State], parent: list[tuple[int, str, dict[str, Any]]], j: int) -> list[TraceStep]:
    steps: list[TraceStep] = []
    while j >= 0:
        p, action, params = parent[j]
        steps.append(TraceStep(action, params, states[j]))
        j = p
    return steps[::-1]


def reachable(model: Model) -> tuple[dict[State, int], list[State], list[tuple[int, str, dict[str, Any]]]]:
    """Every reachable state (no invariant checks), with BFS parents for path reconstruction."""
    init = model.init()
    index: dict[State, int] = {init: 0}
    states = [init]
    parent: list[tuple[int, str, dict[str, Any]]] = [(-1, "Initial predicate", {})]
    queue: deque[int] = deque([0])
    while queue:
        i = queue.popleft()
        for action, params, n in model.successors(states[i]):
            if n not in index:
                index[n] = len(states)
                states.append(n)
                parent.append((i, action, params))
                queue.append(index[n])
    return index, states, parent


def path_to(states: list[State], parent: list[tuple[int, str, dict[str, Any]]], j: int) -> list[TraceStep]:
    return _trace(states, parent, j)
