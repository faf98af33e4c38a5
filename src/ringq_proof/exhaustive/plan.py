"""The model's state graph for one cfg, and a set of paths from the initial state that together
take every transition (edge) of it at least once.

`build_graph(model, realizable)` enumerates every reachable state with its labelled edges
(`Model.successors`, the spec's Next); `realizable(state, action, params)` says whether the
implementation can be driven along that edge (the spec resolves some choices freely where the
SQL resolves them one way: e.g. the model may rescue any expired attempt first, the real
`rescue` takes them in run_lease order). Edges it cannot take are reported, with the reason,
not replayed.

`cover(graph, max_len)` is a greedy Chinese-postman approximation: walk from the initial state,
always taking an uncovered edge when the current state has one, otherwise the shortest way
(BFS) to the nearest state that has one; a path ends at `max_len` steps or when no uncovered
edge is reachable, and the next one starts again from the initial state. Every realizable edge
reachable over realizable edges ends up in some path.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

Params = dict[str, Any]
# why an edge cannot be driven, or None when it can
Realizable = Callable[[Any, str, Params], str | None]


class StateMachine(Protocol):
    """What the planner needs of a model: the ringq model and the toolkit's models have it."""

    def init(self) -> Any: ...

    def successors(self, s: Any) -> Any: ...  # iterable of (action, params, next_state)


@dataclass(frozen=True)
class Edge:
    src: int
    action: str
    params: tuple[tuple[str, Any], ...]
    dst: int

    @property
    def label(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.params)
        return f"{self.action}({inner})"


@dataclass
class Graph:
    states: list[Hashable]
    edges: list[Edge]
    out: list[list[int]]  # state index -> indexes of its realizable edges
    unrealizable: dict[str, int] = field(default_factory=dict)  # reason -> edges
    unreachable: int = 0  # realizable edges whose source only unrealizable edges reach

    @property
    def total(self) -> int:
        return len(self.edges) + sum(self.unrealizable.values())


def build_graph(model: StateMachine, realizable: Realizable | None = None) -> Graph:
    init = model.init()
    index: dict[Hashable, int] = {init: 0}
    states: list[Hashable] = [init]
    edges: list[Edge] = []
    out: list[list[int]] = [[]]
    unreal: dict[str, int] = {}
    queue: deque[int] = deque([0])
    seen_edges: set[tuple[int, str, tuple[tuple[str, Any], ...], int]] = set()
    while queue:
        i = queue.popleft()
        s = states[i]
        for action, params, n in model.successors(s):
            j = index.get(n)
            if j is None:
                j = index[n] = len(states)
                states.append(n)
                out.append([])
                queue.append(j)
            key = (i, action, tuple(sorted(params.items())), j)
            if key in seen_edges:
                continue
            seen_edges.add(key)
            why = realizable(s, action, params) if realizable is not None else None
            if why is not None:
                unreal[why] = unreal.get(why, 0) + 1
                continue
            out[i].append(len(edges))
            edges.append(Edge(i, action, key[2], j))
    return Graph(states, edges, out, unreal)


def _reachable(graph: Graph) -> set[int]:
    seen = {0}
    queue: deque[int] = deque([0])
    while queue:
        i = queue.popleft()
        for e in graph.out[i]:
            d = graph.edges[e].dst
            if d not in seen:
                seen.add(d)
                queue.append(d)
    return seen


def _way_to_uncovered(
    graph: Graph, start: int, uncovered: set[int], has_uncovered: list[int]
) -> list[int] | None:
    """Edge indexes of a shortest walk from `start` to a state with an uncovered edge."""
    prev: dict[int, int] = {start: -1}
    queue: deque[int] = deque([start])
    while queue:
        i = queue.popleft()
        if has_uncovered[i]:
            way: list[int] = []
            while i != start:
                e = prev[i]
                way.append(e)
                i = graph.edges[e].src
            return way[::-1]
        for e in graph.out[i]:
            d = graph.edges[e].dst
            if d not in prev:
                prev[d] = e
                queue.append(d)
    return None


def cover(graph: Graph, max_len: int = 40) -> list[list[int]]:
    """Paths (lists of edge indexes, each starting at the initial state) covering every edge
    reachable from the initial state over realizable edges."""
    reach = _reachable(graph)
    uncovered = {e for e, edge in enumerate(graph.edges) if edge.src in reach}
    graph.unreachable = len(graph.edges) - len(uncovered)
    has_uncovered = [0] * len(graph.states)
    for e in uncovered:
        has_uncovered[graph.edges[e].src] += 1
    paths: list[list[int]] = []

    def take(e: int, path: list[int]) -> int:
        path.append(e)
        if e in uncovered:
            uncovered.discard(e)
            has_uncovered[graph.edges[e].src] -= 1
        return graph.edges[e].dst

    while uncovered:
        path: list[int] = []
        cur = 0
        while len(path) < max_len:
            fresh = [e for e in graph.out[cur] if e in uncovered]
            if fresh:
                # prefer an edge that leads on to more uncovered work
                fresh.sort(key=lambda e: -has_uncovered[graph.edges[e].dst])
                cur = take(fresh[0], path)
                continue
            way = _way_to_uncovered(graph, cur, uncovered, has_uncovered)
            if way is None or (path and len(path) + len(way) >= max_len):
                break
            for e in way:
                cur = take(e, path)
        if not path:  # nothing reachable is left uncovered
            break
        paths.append(path)
    return paths
