"""Breadth-first state exploration with TLC's counting, invariant/action-property/deadlock checks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tlacheck.builtin.compiler import _truth
from tlacheck.builtin.model import Model
from tlacheck.builtin.runtime import Ctx, PDict, normalize
from tlacheck.builtin.values import FV, EvalError, render, vkey
from tlacheck.canonical import ModelValue
from tlacheck.result import CheckResult, TraceStep

State = tuple[Any, ...]


@dataclass
class Progress:
    distinct: int
    generated: int
    queue: int
    depth: int
    elapsed_s: float


@dataclass
class Graph:
    """The explored behaviour graph (kept only when liveness must be checked)."""

    states: list[State] = field(default_factory=list)
    index: dict[Any, int] = field(default_factory=dict)
    succ: list[set[int]] = field(default_factory=list)
    parent: list[int] = field(default_factory=list)
    init: list[int] = field(default_factory=list)


class Violation(Exception):
    def __init__(self, outcome: str, name: str | None, trace: list[TraceStep], message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.name = name
        self.trace = trace
        self.message = message


class Explorer:
    def __init__(self, model: Model, keep_graph: bool = False) -> None:
        self.m = model
        self.vars = model.variables
        self.nvars = len(self.vars)
        self.keep_graph = keep_graph or bool(model.liveness)
        self.graph = Graph()
        self.generated = 0
        self.depth = 0
        self.seen: dict[Any, Any] = {}  # key -> parent key (None for initial states)
        self.queue_len = 0
        self._perm_caches: list[dict[Any, Any]] = [{} for _ in range(max(1, len(model.symmetry or ())))]
        self._vkey_cache: dict[Any, Any] = {}

    # ------------------------------------------------------------ state helpers

    def sdict(self, st: State) -> dict[str, Any]:
        return dict(zip(self.vars, st, strict=True))

    def _collect(self, c: Ctx, target: dict[str, Any], out: list[tuple[str, State]]) -> Callable[[], None]:
        vars_ = self.vars
        n = self.nvars

        def k() -> None:
            if len(target) != n:
                missing = [v for v in vars_ if v not in target]
                raise EvalError(
                    f"the {'initial' if c.p is None else 'successor'} state does not assign {missing}"
                )
            out.append((c.label, tuple([normalize(target[v]) for v in vars_])))

        return k

    def initial_states(self) -> list[tuple[str, State]]:
        target = PDict(primed=False)
        c = Ctx(target, None)
        out: list[tuple[str, State]] = []
        assert self.m.init is not None
        self.m.init(c, {}, self._collect(c, target, out))
        return out

    def successors(self, st: State) -> list[tuple[str, State]]:
        target = PDict()
        c = Ctx(self.sdict(st), target, {})
        out: list[tuple[str, State]] = []
        assert self.m.next is not None
        self.m.next(c, {}, self._collect(c, target, out))
        return out

    def key(self, st: State) -> Any:
        m = self.m
        if m.view is not None:
            return m.view(Ctx(self.sdict(st)), {})
        if m.symmetry:
            # m.symmetry is a group (closed under composition), so any function of the orbit
            # is a canonical key: the permuted state with the least hash, ties by value order.
            caches = self._perm_caches
            if len(caches[0]) > 200_000:
                for cache in caches:
                    cache.clear()
            cands = [
                tuple([_permute(v, p, cache) for v in st])
                for p, cache in zip(m.symmetry, caches, strict=True)
            ]
            hs = [hash(x) for x in cands]
            lo = min(hs)
            best = [x for x, h in zip(cands, hs, strict=True) if h == lo]
            if len(best) == 1 or all(b == best[0] for b in best):
                return best[0]
            kc = self._vkey_cache
            return min(best, key=lambda t: tuple([_ckey(v, kc) for v in t]))
        return st

    def _holds(self, f: Any, c: Ctx, env: dict[str, Any], what: str) -> bool:
        return _truth(f(c, env), what)

    def in_model(self, st: State, c: Ctx) -> bool:
        for _, f in self.m.constraints:
            if not self._holds(f, c, {}, "CONSTRAINT"):
                return False
        return True

    def check_state(self, st: State, c: Ctx) -> tuple[str, str] | None:
        for name, f in self.m.invariants:
            if not self._holds(f, c, {}, f"invariant {name}"):
                return "invariant_violated", name
        for name, f, env in self.m.prop_invariants:
            if not self._holds(f, c, env, f"property {name}"):
                return "invariant_violated", name
        return None

    # ------------------------------------------------------------ traces

    def trace_to(self, k: Any, last: State | None = None) -> list[TraceStep]:
        chain = []
        cur = k
        while cur is not None:
            chain.append(cur)
            cur = self.seen[cur]
        chain.reverse()
        steps: list[TraceStep] = []
        prev: State | None = None
        for i, ck in enumerate(chain):
            if i == 0:
                cands = [(lbl, s) for lbl, s in self.initial_states()]
                label = "Initial predicate"
            else:
                assert prev is not None
                cands = self.successors(prev)
            found = None
            for lbl, s in cands:
                if self.key(s) == ck:
                    found = (lbl, s)
                    break
            if found is None:
                break
            prev = found[1]
            steps.append(TraceStep(self.render_state(prev), label if i == 0 else (found[0] or "Next")))
        return steps

    def render_state(self, st: State) -> dict[str, str]:
        return {v: render(x) for v, x in zip(self.vars, st, strict=True)}

    # ------------------------------------------------------------ BFS

    def run(
        self,
        max_states: int | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> str | None:
        """Explore; raise Violation on a safety error. Returns "max_states" if stopped early."""
        m = self.m
        t0 = time.monotonic()
        last_report = t0
        seen = self.seen
        g = self.graph
        keep = self.keep_graph
        frontier: list[tuple[Any, State]] = []
        for _label, st in self.initial_states():
            self.generated += 1
            c0 = Ctx(self.sdict(st), None, {})
            if not self.in_model(st, c0):
                continue
            k = self.key(st)
            if k in seen:
                continue
            seen[k] = None
            for name, f, env in m.init_props:
                if not self._holds(f, c0, env, f"property {name}"):
                    raise Violation(
                        "property_violated",
                        name,
                        self.trace_to(k),
                        f"Property {name} is violated by the initial state",
                    )
            bad = self.check_state(st, c0)
            if keep:
                g.index[k] = len(g.states)
                g.init.append(len(g.states))
                g.states.append(st)
                g.succ.append(set())
                g.parent.append(-1)
            if bad is not None:
                raise Violation(
                    bad[0], bad[1], self.trace_to(k), f"Invariant {bad[1]} is violated by the initial state"
                )
            frontier.append((k, st))
            if max_states is not None and len(seen) >= max_states:
                self.queue_len = len(frontier)
                self.depth = 1
                return "max_states"
        if frontier:
            self.depth = 1
        check_dl = m.check_deadlock
        has_aprops = bool(m.action_props) or bool(m.action_constraints)
        while frontier:
            nxt: list[tuple[Any, State]] = []
            self.queue_len = len(frontier)
            for idx_in_level, (ks, st) in enumerate(frontier):
                succs = self.successors(st)
                if not succs and check_dl:
                    raise Violation("deadlock", None, self.trace_to(ks), "Deadlock reached")
                sdict = self.sdict(st) if has_aprops else None
                si = g.index[ks] if keep else -1
                for _label, t in succs:
                    self.generated += 1
                    if has_aprops:
                        assert sdict is not None
                        ca = Ctx(sdict, self.sdict(t))
                        for name, f, env in m.action_props:
                            if not self._holds(f, ca, env, f"action property {name}"):
                                tr = self.trace_to(ks)
                                tr.append(TraceStep(self.render_state(t), _label or "Next"))
                                raise Violation(
                                    "action_property_violated",
                                    name,
                                    tr,
                                    f"Action property {name} is violated",
                                )
                        if not all(
                            self._holds(f, ca, {}, "ACTION_CONSTRAINT") for _, f in m.action_constraints
                        ):
                            continue
                    c: Ctx | None = None
                    if m.constraints:
                        c = Ctx(self.sdict(t), None, {})
                        if not self.in_model(t, c):
                            continue
                    kt = self.key(t)
                    if kt in seen:
                        if keep:
                            g.succ[si].add(g.index[kt])
                        continue
                    seen[kt] = ks
                    if keep:
                        ti = len(g.states)
                        g.index[kt] = ti
                        g.states.append(t)
                        g.succ.append(set())
                        g.parent.append(si)
                        g.succ[si].add(ti)
                    if c is None:
                        c = Ctx(self.sdict(t), None, {})
                    bad = self.check_state(t, c)
                    if bad is not None:
                        raise Violation(bad[0], bad[1], self.trace_to(kt), f"Invariant {bad[1]} is violated")
                    nxt.append((kt, t))
                    if max_states is not None and len(seen) >= max_states:
                        self.queue_len = len(frontier) - idx_in_level - 1 + len(nxt)
                        return "max_states"
                if progress is not None:
                    now = time.monotonic()
                    if now - last_report > 1.0:
                        last_report = now
                        progress(
                            Progress(
                                len(seen),
                                self.generated,
                                len(frontier) - idx_in_level + len(nxt),
                                self.depth,
                                now - t0,
                            )
                        )
            frontier = nxt
            if frontier:
                self.depth += 1
        self.queue_len = 0
        return None


def _ckey(v: Any, cache: dict[Any, Any]) -> Any:
    t = v.__class__
    if t is FV or t is frozenset:
        k = cache.get(v)
        if k is None:
            k = cache[v] = vkey(v)
        return k
    return vkey(v)


def _permute(v: Any, p: FV, cache: dict[Any, Any]) -> Any:
    """v with model values renamed by p; sub-values are shared between states, so memoised."""
    t = v.__class__
    if t is ModelValue:
        return p.d.get(v, v)
    if t is frozenset or t is FV:
        r = cache.get(v)
        if r is None:
            if t is frozenset:
                r = frozenset([_permute(x, p, cache) for x in v])
            else:
                r = FV({_permute(k, p, cache): _permute(x, p, cache) for k, x in v.d.items()})
            cache[v] = r
        return r
    return v


def result_from_violation(ex: Explorer, v: Violation, elapsed: float) -> CheckResult:
    return CheckResult(
        outcome=v.outcome,  # type: ignore[arg-type]
        violated=v.name,
        states_generated=ex.generated,
        distinct_states=len(ex.seen),
        depth=ex.depth,
        trace=v.trace,
        message=v.message,
        elapsed_s=elapsed,
    )
