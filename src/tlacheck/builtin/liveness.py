"""Liveness checking on the explored behaviour graph (TLC's `-lncheck final` behaviour).

Every state has an implicit stuttering self-loop. A counterexample is a reachable strongly
connected set of states that satisfies every WF/SF fairness condition (Emerson-Lei style:
SF conditions prune the states where the action is enabled and re-split the rest) and that
violates the property (restricted subgraph / required state depending on the property form).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

from tlacheck.builtin.checker import Explorer, Violation
from tlacheck.builtin.compiler import Found, _truth
from tlacheck.builtin.model import Fairness, Liveness
from tlacheck.builtin.runtime import Ctx, EnabledDict, PDict
from tlacheck.builtin.temporal import Conj, Pred
from tlacheck.result import TraceStep


def sccs(nodes: set[int], succ: list[set[int]]) -> list[set[int]]:
    """Tarjan's algorithm (iterative) on the subgraph induced by `nodes`."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on: set[int] = set()
    stack: list[int] = []
    out: list[set[int]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[int, Any]] = [(root, None)]
        while work:
            v, it = work[-1]
            if it is None:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on.add(v)
                it = iter([w for w in succ[v] if w in nodes])
                work[-1] = (v, it)
            pushed = False
            for w in it:
                if w not in index:
                    work.append((w, None))
                    pushed = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if pushed:
                continue
            work.pop()
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
            if low[v] == index[v]:
                comp = set()
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.add(w)
                    if w == v:
                        break
                out.append(comp)
    return out


class LivenessChecker:
    def __init__(self, ex: Explorer) -> None:
        self.ex = ex
        self.g = ex.graph
        self.m = ex.m
        self._dicts: dict[int, dict[str, Any]] = {}
        self._en: dict[tuple[int, int], bool] = {}
        self._taken: dict[tuple[int, int, int], bool] = {}
        self._cache: dict[Any, bool] = {}

    def sd(self, i: int) -> dict[str, Any]:
        d = self._dicts.get(i)
        if d is None:
            d = self._dicts[i] = self.ex.sdict(self.g.states[i])
        return d

    def pred(self, f: Any, i: int) -> bool:
        return _truth(f(Ctx(self.sd(i)), {}), "temporal property predicate")

    # ------------------------------------------------------------ fairness

    def enabled(self, fi: int, f: Fairness, i: int) -> bool:
        key = (fi, i)
        r = self._en.get(key)
        if r is None:
            s = self.sd(i)
            c = Ctx(s, PDict())
            v0 = f.vars(Ctx(s), f.env)

            def k() -> None:
                if f.vars(c.primed(), f.env) != v0:
                    raise Found

            r = False
            try:
                f.act(c, f.env, k)
            except Found:
                r = True
            self._en[key] = r
        return r

    def taken(self, fi: int, f: Fairness, i: int, j: int) -> bool:
        key = (fi, i, j)
        r = self._taken.get(key)
        if r is None:
            s, t = self.sd(i), self.sd(j)
            r = False
            if f.vars(Ctx(s), f.env) != f.vars(Ctx(t), f.env):
                c = Ctx(s, PDict(t))
                try:
                    f.act(c, f.env, _raise_found)
                except Found:
                    r = True
            self._taken[key] = r
        return r

    def fair_parts(self, comp: set[int], succ: Any = None) -> list[set[int]]:
        """Sub-components of the SCC `comp` (edges from `succ`) on which a fair cycle exists."""
        succ = self.g.succ if succ is None else succ
        for fi, f in enumerate(self.m.fairness):
            if any(self.taken(fi, f, u, v) for u in comp for v in succ[u] if v in comp and v != u):
                continue
            if not f.strong:
                if all(self.enabled(fi, f, u) for u in comp):
                    return []
            else:
                bad = {u for u in comp if self.enabled(fi, f, u)}
                if bad:
                    out: list[set[int]] = []
                    for sub in sccs(comp - bad, succ):
                        out.extend(self.fair_parts(sub, succ))
                    return out
        return [comp]

    def fair_components(self, nodes: set[int], succ: Any = None) -> Iterable[set[int]]:
        succ = self.g.succ if succ is None else succ
        for comp in sccs(nodes, succ):
            yield from self.fair_parts(comp, succ)

    # ------------------------------------------------------------ predicates of temporal atoms

    def node_holds(self, p: Pred, i: int) -> bool:
        if p.enabled_of is not None:
            r = self._enabled_step(p, i)
        else:
            assert p.state is not None
            r = _truth(p.state(Ctx(self.sd(i)), p.env), "temporal predicate")
        return r != p.negated

    def _enabled_step(self, p: Pred, i: int) -> bool:
        key = ("en", id(p.enabled_of), id(p.env), i)
        r = self._cache.get(key)
        if r is None:
            s = self.sd(i)
            c = Ctx(s, EnabledDict(s))
            assert p.vars is not None and p.enabled_of is not None
            v0 = p.vars(Ctx(s), p.env)
            vf = p.vars

            def k() -> None:
                if vf(c.primed(), p.env) != v0:
                    raise Found

            r = False
            try:
                p.enabled_of(c, p.env, k)
            except Found:
                r = True
            self._cache[key] = r
        return r

    def edge_holds(self, p: Pred, i: int, j: int) -> bool:
        """p on the step i -> j (j == -1: a stuttering step)."""
        if not p.on_steps:
            return self.node_holds(p, i)
        if j == -1:
            return p.negated
        key = ("act", id(p.act), id(p.env), i, j)
        r = self._cache.get(key)
        if r is None:
            s, t = self.sd(i), self.sd(j)
            assert p.vars is not None and p.act is not None
            r = False
            if p.vars(Ctx(s), p.env) != p.vars(Ctx(t), p.env):
                try:
                    p.act(Ctx(s, PDict(t)), p.env, _raise_found)
                except Found:
                    r = True
            self._cache[key] = r
        return r != p.negated

    # ------------------------------------------------------------ properties

    def check(self) -> None:
        n = len(self.g.states)
        allnodes = set(range(n))
        for item in self.m.liveness:
            bad = self.find(item, allnodes)
            if bad is not None:
                prefix, comp = bad
                cycle = self.cycle(comp, prefix[-1])
                raise Violation(
                    "property_violated",
                    item.name,
                    self.lasso(prefix, cycle),
                    f"Temporal property {item.name} was violated",
                )

    def find(self, item: Liveness, allnodes: set[int]) -> tuple[list[int], set[int]] | None:
        kind = item.kind
        p = item.p
        q = item.q
        init = self.g.init
        if kind == "gffg":
            for conj in item.conjs:
                found = self.find_conj(conj, allnodes)
                if found is not None:
                    return self.path_to(found, allnodes, init), found
            return None
        assert p is not None
        if kind == "ev":
            notp = {i for i in allnodes if not self.pred(p, i)}
            starts = [
                i for i in init if i in notp and (item.init_filter is None or self.pred(item.init_filter, i))
            ]
            reach = self.reach(starts, notp)
            for comp in self.fair_components(reach):
                return self.path_to(comp, reach, starts), comp
            return None
        assert q is not None
        if kind == "leads":
            notq = {i for i in allnodes if not self.pred(q, i)}
            starts = [i for i in notq if self.pred(p, i)]
            reach = self.reach(starts, notq)
            for comp in self.fair_components(reach):
                mid = self.path_to(comp, reach, starts)
                return self.path_to({mid[0]}, allnodes, init)[:-1] + mid, comp
            return None
        if kind == "stab_after":
            starts = [i for i in allnodes if self.pred(p, i)]
            reach = self.reach(starts, allnodes)
            for comp in self.fair_components(reach):
                if any(not self.pred(q, i) for i in comp):
                    mid = self.path_to(comp, reach, starts)
                    return self.path_to({mid[0]}, allnodes, init)[:-1] + mid, comp
            return None
        if kind == "always_after":
            # [](P => []Q): no state violating Q is reachable from a state satisfying P
            starts = [i for i in allnodes if self.pred(p, i)]
            reach = self.reach(starts, allnodes)
            bad = {i for i in reach if not self.pred(q, i)}
            if bad:
                mid = self.path_to(bad, reach, starts)
                return self.path_to({mid[0]}, allnodes, init)[:-1] + mid, {mid[-1]}
            return None
        raise ValueError(kind)

    def find_conj(self, conj: Conj, allnodes: set[int]) -> set[int] | None:
        """A fair component inside conj.restrict that visits every conj.visit, or None."""
        node_r = [p for p in conj.restrict if not p.on_steps]
        step_r = [p for p in conj.restrict if p.on_steps]
        nodes = {i for i in allnodes if all(self.node_holds(p, i) for p in node_r)}
        succ: dict[int, set[int]] = {}
        for u in nodes:
            succ[u] = {
                v for v in self.g.succ[u] if v in nodes and all(self.edge_holds(p, u, v) for p in step_r)
            }
        stutter_ok = all(p.negated for p in step_r)
        for comp in self.fair_components(nodes, succ):
            if len(comp) == 1 and not stutter_ok:
                u = next(iter(comp))
                if u not in succ[u]:
                    continue
            if all(self._visits(p, comp, succ) for p in conj.visit):
                return comp
        return None

    def _visits(self, p: Pred, comp: set[int], succ: dict[int, set[int]]) -> bool:
        if not p.on_steps:
            return any(self.node_holds(p, i) for i in comp)
        return any(self.edge_holds(p, u, v) for u in comp for v in succ[u] if v in comp)

    def reach(self, starts: Iterable[int], within: set[int]) -> set[int]:
        seen = set(starts)
        dq = deque(seen)
        succ = self.g.succ
        while dq:
            u = dq.popleft()
            for v in succ[u]:
                if v in within and v not in seen:
                    seen.add(v)
                    dq.append(v)
        return seen

    def path_to(self, target: set[int], within: set[int], starts: Iterable[int]) -> list[int]:
        """Shortest path (BFS) from one of `starts` to a node of `target`, inside `within`."""
        par: dict[int, int] = {}
        dq: deque[int] = deque()
        for s in starts:
            if s in within and s not in par:
                par[s] = -1
                dq.append(s)
        while dq:
            u = dq.popleft()
            if u in target:
                path = [u]
                while par[path[-1]] != -1:
                    path.append(par[path[-1]])
                return path[::-1]
            for v in self.g.succ[u]:
                if v in within and v not in par:
                    par[v] = u
                    dq.append(v)
        return [next(iter(target))]

    def cycle(self, comp: set[int], start: int) -> list[int]:
        """A cycle inside comp starting at `start`; [start] alone means stuttering there."""
        if len(comp) == 1:
            return [start]
        par: dict[int, int] = {}
        dq: deque[int] = deque()
        for v in self.g.succ[start]:
            if v in comp and v not in par:
                par[v] = start
                dq.append(v)
        while dq:
            u = dq.popleft()
            if u == start:
                break
            for v in self.g.succ[u]:
                if v in comp and v not in par:
                    par[v] = u
                    dq.append(v)
        cur = par.get(start)
        back = []
        while cur is not None and cur != start:
            back.append(cur)
            cur = par.get(cur)
        return [start, *back[::-1]]

    def lasso(self, prefix: list[int], cycle: list[int]) -> list[TraceStep]:
        # prefix ends at a node of the component; rotate the cycle to start there
        nodes = prefix + cycle[1:]
        back = len(prefix) if len(cycle) > 1 else -1
        steps = []
        for idx, i in enumerate(nodes):
            st = self.g.states[i]
            label = "Initial predicate" if idx == 0 else self._label(nodes[idx - 1], i)
            steps.append(TraceStep(self.ex.render_state(st), label))
        steps[-1].lasso_back_to = back
        return steps

    def _label(self, i: int, j: int) -> str:
        target = self.g.states[j]
        for lbl, t in self.ex.successors(self.g.states[i]):
            if self.ex.key(t) == self.ex.key(target):
                return lbl or "Next"
        return "Next"


def _raise_found() -> None:
    raise Found
