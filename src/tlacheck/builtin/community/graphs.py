"""Relation, Graphs (directed: edges are pairs <<m, n>>) and UndirectedGraphs (edges are sets
{m, n}). A graph is a record [node |-> N, edge |-> E]."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from tlacheck.builtin.community.base import (
    FV,
    EvalError,
    apply,
    boolean,
    elems,
    field,
    fn,
    fset,
    native,
    pair,
    record,
    render,
    tup,
)
from tlacheck.builtin.runtime import Ctx
from tlacheck.builtin.values import LazySet, PowerSet, RecSet, member

# --- Relation: R is a function over S \X S with Boolean values -------------------------------

R_ = "Relation"


def _r(rel: Any, x: Any, y: Any) -> bool:
    return boolean(apply(rel, pair(x, y)), "a relation")


def _under(c: Ctx, op: Any, s: Any) -> FV:
    xs = elems(s)
    return FV({pair(x, y): op(c, x, y) for x in xs for y in xs})


def is_reflexive(rel: Any, s: Any) -> bool:
    return all(_r(rel, x, x) for x in elems(s))


def is_irreflexive(rel: Any, s: Any) -> bool:
    return all(not _r(rel, x, x) for x in elems(s))


def is_symmetric(rel: Any, s: Any) -> bool:
    xs = elems(s)
    return all(_r(rel, x, y) == _r(rel, y, x) for x in xs for y in xs)


def is_antisymmetric(rel: Any, s: Any) -> bool:
    xs = elems(s)
    return all(not (_r(rel, x, y) and _r(rel, y, x)) or x == y for x in xs for y in xs)


def is_asymmetric(rel: Any, s: Any) -> bool:
    xs = elems(s)
    return all(not (_r(rel, x, y) and _r(rel, y, x)) for x in xs for y in xs)


def is_transitive(rel: Any, s: Any) -> bool:
    xs = elems(s)
    return all(not (_r(rel, x, y) and _r(rel, y, z)) or _r(rel, x, z) for x in xs for y in xs for z in xs)


def is_strict_po(rel: Any, s: Any) -> bool:
    return is_irreflexive(rel, s) and is_antisymmetric(rel, s) and is_transitive(rel, s)


def is_po(rel: Any, s: Any) -> bool:
    return is_reflexive(rel, s) and is_antisymmetric(rel, s) and is_transitive(rel, s)


def is_strict_to(rel: Any, s: Any) -> bool:
    xs = elems(s)
    return is_strict_po(rel, s) and all(x == y or _r(rel, x, y) or _r(rel, y, x) for x in xs for y in xs)


def is_to(rel: Any, s: Any) -> bool:
    xs = elems(s)
    return is_po(rel, s) and all(_r(rel, x, y) or _r(rel, y, x) for x in xs for y in xs)


for _name, _pred in [
    ("IsReflexive", is_reflexive),
    ("IsIrreflexive", is_irreflexive),
    ("IsSymmetric", is_symmetric),
    ("IsAntiSymmetric", is_antisymmetric),
    ("IsAsymmetric", is_asymmetric),
    ("IsTransitive", is_transitive),
    ("IsStrictlyPartiallyOrdered", is_strict_po),
    ("IsPartiallyOrdered", is_po),
    ("IsStrictlyTotallyOrdered", is_strict_to),
    ("IsTotallyOrdered", is_to),
]:
    native(R_, _name, 2)(lambda c, rel, s, p=_pred: p(rel, s))
    native(R_, _name + "Under", 2)(lambda c, op, s, p=_pred: p(_under(c, op, s), s))


def _closure(xs: list[Any], succ: dict[Any, set[Any]]) -> dict[Any, set[Any]]:
    """x -> nodes reachable from x by one or more steps (within xs)."""
    out: dict[Any, set[Any]] = {}
    for x in xs:
        seen: set[Any] = set()
        stack = list(succ.get(x, ()))
        while stack:
            y = stack.pop()
            if y in seen:
                continue
            seen.add(y)
            stack.extend(succ.get(y, ()))
        out[x] = seen
    return out


def transitive_closure(rel: Any, s: Any) -> FV:
    xs = elems(s)
    succ = {x: {y for y in xs if _r(rel, x, y)} for x in xs}
    reach = _closure(xs, succ)
    return FV({pair(x, y): y in reach[x] for x in xs for y in xs})


native(R_, "TransitiveClosure", 2)(lambda c, rel, s: transitive_closure(rel, s))


def reflexive_transitive_closure(rel: Any, s: Any) -> FV:
    t = transitive_closure(rel, s)
    return FV({k: v or k.d[1] == k.d[2] for k, v in t.d.items()})


native(R_, "ReflexiveTransitiveClosure", 2)(lambda c, rel, s: reflexive_transitive_closure(rel, s))
native(R_, "IsConnected", 2)(lambda c, rel, s: all(reflexive_transitive_closure(rel, s).d.values()))

# --- Graphs (directed) ------------------------------------------------------------------------

G_ = "Graphs"


def nodes(g: Any) -> frozenset[Any]:
    return fset(field(g, "node"))


def edges(g: Any) -> frozenset[Any]:
    return fset(field(g, "edge"))


def _ends(e: Any) -> tuple[Any, Any] | None:
    if isinstance(e, FV) and len(e.d) == 2 and 1 in e.d and 2 in e.d:
        return e.d[1], e.d[2]
    return None


def _is_record_graph(g: Any) -> bool:
    nodes(g), edges(g)  # TLC evaluates G.node and G.edge (an error if absent)
    return set(fn(g).d) == {"node", "edge"}


def is_directed_graph(g: Any) -> bool:
    if not _is_record_graph(g):
        return False
    ns = nodes(g)
    for e in edges(g):
        ab = _ends(e)
        if ab is None or ab[0] not in ns or ab[1] not in ns:
            return False
    return True


native(G_, "IsDirectedGraph", 1)(lambda c, g: is_directed_graph(g))


def _succ(g: Any) -> dict[Any, set[Any]]:
    """Successors along edges between nodes of g."""
    ns = nodes(g)
    out: dict[Any, set[Any]] = {n: set() for n in ns}
    for e in edges(g):
        ab = _ends(e)
        if ab is not None and ab[0] in ns and ab[1] in ns:
            out[ab[0]].add(ab[1])
    return out


@native(G_, "DirectedSubgraph", 1)
def directed_subgraph(c: Ctx, g: Any) -> frozenset[Any]:
    ns = elems(nodes(g))
    es = [e for e in elems(edges(g)) if (ab := _ends(e)) is not None and ab[0] in ns and ab[1] in ns]
    out = []
    for k in range(len(ns) + 1):
        for sub in itertools.combinations(ns, k):
            sn = frozenset(sub)
            inside = [e for e in es if e.d[1] in sn and e.d[2] in sn]
            for m in range(len(inside) + 1):
                for se in itertools.combinations(inside, m):
                    out.append(record(node=sn, edge=frozenset(se)))
    return frozenset(out)


def _transpose_edge(e: Any) -> FV:
    ab = _ends(e)
    if ab is None:
        raise EvalError(f"{render(e)} is not an edge <<m, n>>")
    return pair(ab[1], ab[0])


native(G_, "Transpose", 1)(
    lambda c, g: record(edge=frozenset(_transpose_edge(e) for e in edges(g)), node=field(g, "node"))
)


def is_undirected_directed(g: Any) -> bool:
    es = edges(g)
    return is_directed_graph(g) and all(_transpose_edge(e) in es for e in es)


native(G_, "IsUndirectedGraph", 1)(lambda c, g: is_undirected_directed(g))
native(G_, "UndirectedSubgraph", 1)(
    lambda c, g: frozenset(h for h in directed_subgraph(c, g) if is_undirected_directed(h))
)


class PathSet(LazySet):
    """Path(G): the non-empty sequences of nodes along edges (infinite when G has a cycle)."""

    def __init__(self, g: Any, undirected: bool) -> None:
        self.ns = nodes(g)
        self.es = edges(g)
        self.undirected = undirected
        self.finite = not self._cyclic()
        self._elems: frozenset[Any] | None = None

    def step(self, a: Any, b: Any) -> bool:
        return (frozenset({a, b}) if self.undirected else pair(a, b)) in self.es

    def _succ(self) -> dict[Any, list[Any]]:
        ns = sorted_nodes = elems(self.ns)
        return {a: [b for b in sorted_nodes if self.step(a, b)] for a in ns}

    def _cyclic(self) -> bool:
        succ = self._succ()
        reach = _closure(list(succ), {a: set(b) for a, b in succ.items()})
        return any(a in reach[a] for a in succ)

    def contains(self, v: Any) -> bool:
        if not isinstance(v, FV) or not v.d:
            return False
        n = len(v.d)
        if any(i not in v.d for i in range(1, n + 1)):
            return False
        p = [v.d[i] for i in range(1, n + 1)]
        return all(member(x, self.ns) for x in p) and all(self.step(p[i], p[i + 1]) for i in range(n - 1))

    def __iter__(self) -> Iterator[Any]:
        if not self.finite:
            raise EvalError(f"cannot enumerate the infinite set {self!r}")
        succ = self._succ()
        out: list[Any] = []

        def go(path: list[Any]) -> None:
            out.append(tup(path))
            for b in succ[path[-1]]:
                go([*path, b])

        for a in succ:
            go([a])
        return iter(out)

    def elements(self) -> frozenset[Any]:
        if self._elems is None:
            self._elems = frozenset(iter(self))
        return self._elems

    def __repr__(self) -> str:
        return "Path(G)"

    def __hash__(self) -> int:
        return hash(("Path", self.ns, self.es, self.undirected))


def simple_paths(g: Any, undirected: bool) -> frozenset[Any]:
    ps = PathSet(g, undirected)
    succ = ps._succ()
    out: list[Any] = []

    def go(path: list[Any]) -> None:
        out.append(tup(path))
        for b in succ[path[-1]]:
            if b not in path:
                go([*path, b])

    for a in succ:
        go([a])
    return frozenset(out)


def connected(g: Any, m: Any, n: Any, undirected: bool) -> bool:
    ps = PathSet.__new__(PathSet)
    ps.ns, ps.es, ps.undirected = nodes(g), edges(g), undirected
    if m not in ps.ns or n not in ps.ns:
        return False
    if m == n:
        return True
    succ = ps._succ()
    seen = {m}
    stack = [m]
    while stack:
        a = stack.pop()
        for b in succ[a]:
            if b == n:
                return True
            if b not in seen:
                seen.add(b)
                stack.append(b)
    return False


native(G_, "Path", 1)(lambda c, g: PathSet(g, False))
native(G_, "SimplePath", 1)(lambda c, g: simple_paths(g, False))
native(G_, "AreConnectedIn", 3)(lambda c, m, n, g: connected(g, m, n, False))
native(G_, "IsStronglyConnected", 1)(
    lambda c, g: all(connected(g, m, n, False) for m in nodes(g) for n in nodes(g))
)


def connections_in(g: Any) -> FV:
    ns = elems(nodes(g))
    succ = _succ(g)
    reach = _closure(ns, succ)
    return FV({pair(m, n): m == n or n in reach[m] for m in ns for n in ns})


native(G_, "ConnectionsIn", 1)(lambda c, g: connections_in(g))


@native(G_, "IsTreeWithRoot", 2)
def is_tree_with_root(c: Ctx, g: Any, r: Any) -> bool:
    if not is_directed_graph(g) or r not in nodes(g):
        return False
    es = elems(edges(g))
    for e in es:
        if e.d[1] == r:
            return False
        if any(e.d[1] == f.d[1] and e != f for f in es):
            return False
    return all(connected(g, n, r, False) for n in nodes(g))


native(G_, "GraphUnion", 2)(lambda c, g, h: record(node=nodes(g) | nodes(h), edge=edges(g) | edges(h)))


@native(G_, "IsBipartiteWithPartitions", 3)
def is_bipartite(c: Ctx, g: Any, u: Any, v: Any) -> bool:
    uu, vv = fset(u), fset(v)
    if uu & vv or not nodes(g) <= (uu | vv):
        return False
    for e in edges(g):
        ab = _ends(e)
        if ab is None:
            raise EvalError(f"{render(e)} is not an edge <<m, n>>")
        a, b = ab
        if not ((a in uu and b in vv) or (b in uu and a in vv)):
            return False
    return True


def has_cycle(g: Any) -> bool:
    ns = elems(nodes(g))
    es = edges(g)
    if any(pair(n, n) in es for n in ns):
        return True
    reach = _closure(ns, _succ(g))
    return any(m != n and n in reach[m] and m in reach[n] for m in ns for n in ns)


native(G_, "HasCycle", 1)(lambda c, g: has_cycle(g))
native(G_, "IsDag", 1)(lambda c, g: is_directed_graph(g) and not has_cycle(g))


def successors(g: Any, n: Any) -> frozenset[Any]:
    es = edges(g)
    return frozenset(m for m in nodes(g) if pair(n, m) in es)


def predecessors(g: Any, n: Any) -> frozenset[Any]:
    es = edges(g)
    return frozenset(m for m in nodes(g) if pair(m, n) in es)


native(G_, "Successors", 2)(lambda c, g, n: successors(g, n))
native(G_, "Predecessors", 2)(lambda c, g, n: predecessors(g, n))
native(G_, "AllSuccessors", 2)(lambda c, g, s: frozenset().union(*(successors(g, n) for n in elems(s))))
native(G_, "AllPredecessors", 2)(lambda c, g, s: frozenset().union(*(predecessors(g, n) for n in elems(s))))


def _reach_in(g: Any, n: Any, backwards: bool) -> frozenset[Any]:
    ns = elems(nodes(g))
    if n not in nodes(g):
        raise EvalError(f"{render(n)} is not a node of the graph (outside the transitive closure's domain)")
    succ: dict[Any, set[Any]] = {m: set() for m in ns}
    for e in edges(g):
        ab = _ends(e)
        if ab is not None and ab[0] in succ and ab[1] in succ:
            a, b = (ab[1], ab[0]) if backwards else ab
            succ[a].add(b)
    return frozenset(_closure([n], succ)[n])


native(G_, "Ancestors", 2)(lambda c, g, n: _reach_in(g, n, True))
native(G_, "Descendants", 2)(lambda c, g, n: _reach_in(g, n, False))
native(G_, "InDegree", 2)(lambda c, g, n: len(predecessors(g, n)))
native(G_, "OutDegree", 2)(lambda c, g, n: len(successors(g, n)))
native(G_, "Roots", 1)(lambda c, g: frozenset(n for n in nodes(g) if not predecessors(g, n)))
native(G_, "Leaves", 1)(lambda c, g: frozenset(n for n in nodes(g) if not successors(g, n)))
native(G_, "EmptyGraph", 0)(lambda c: record(node=frozenset(), edge=frozenset()))


def _square(s: Any) -> frozenset[Any]:
    xs = elems(s)
    return frozenset(pair(a, b) for a in xs for b in xs)


native(G_, "Graphs", 1)(lambda c, s: RecSet({"node": frozenset({s}), "edge": PowerSet(_square(s))}))

# --- UndirectedGraphs -------------------------------------------------------------------------

U_ = "UndirectedGraphs"


def _is_undirected(g: Any, loop_free: bool) -> bool:
    if not _is_record_graph(g):
        return False
    ns = nodes(g)
    for e in edges(g):
        if not isinstance(e, frozenset) or not 1 <= len(e) <= 2 or not e <= ns:
            return False
        if loop_free and len(e) != 2:
            return False
    return True


native(U_, "IsUndirectedGraph", 1)(lambda c, g: _is_undirected(g, False))
native(U_, "IsLoopFreeUndirectedGraph", 1)(lambda c, g: _is_undirected(g, True))


@native(U_, "UndirectedSubgraph", 1)
def undirected_subgraph(c: Ctx, g: Any) -> frozenset[Any]:
    ns = elems(nodes(g))
    es = elems(edges(g))
    out = []
    for k in range(len(ns) + 1):
        for sub in itertools.combinations(ns, k):
            sn = frozenset(sub)
            inside = [e for e in es if isinstance(e, frozenset) and 1 <= len(e) <= 2 and e <= sn]
            for m in range(len(inside) + 1):
                for se in itertools.combinations(inside, m):
                    out.append(record(node=sn, edge=frozenset(se)))
    return frozenset(out)


native(U_, "Path", 1)(lambda c, g: PathSet(g, True))
native(U_, "SimplePath", 1)(lambda c, g: simple_paths(g, True))
native(U_, "AreConnectedIn", 3)(lambda c, m, n, g: connected(g, m, n, True))


def connected_components(g: Any) -> frozenset[Any]:
    ns = elems(nodes(g))
    left = set(ns)
    out = []
    for n in ns:
        if n not in left:
            continue
        comp = frozenset(m for m in ns if connected(g, n, m, True))
        left -= comp
        out.append(comp)
    return frozenset(out)


native(U_, "ConnectedComponents", 1)(lambda c, g: connected_components(g))
native(U_, "IsStronglyConnected", 1)(lambda c, g: connected_components(g) == frozenset({nodes(g)}))


def _pairs_as_sets(s: Any) -> frozenset[Any]:
    xs = elems(s)
    return frozenset(frozenset({a, b}) for a in xs for b in xs)


native(U_, "UndirectedGraphs", 1)(
    lambda c, s: RecSet({"node": frozenset({s}), "edge": PowerSet(_pairs_as_sets(s))})
)
