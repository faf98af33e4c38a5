"""Breadth-first state exploration with TLC's counting, invariant/action-property/deadlock checks."""

from __future__ import annotations

import pickle
import tempfile
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tlacheck.builtin.compiler import _truth
from tlacheck.builtin.fingerprint import state_fingerprint
from tlacheck.builtin.model import Model
from tlacheck.builtin.runtime import Ctx, PDict, RecFn, normalize
from tlacheck.builtin.values import FV, EvalError, render
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
    """The explored behaviour graph (kept only when liveness must be checked); node i is the
    Explorer's state index i."""

    states: list[State] = field(default_factory=list)
    index: dict[int, int] = field(default_factory=dict)  # fingerprint -> node
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


class Frontier:
    """One BFS level of (index, state) pairs in discovery order.

    Only a bounded number of full states is held in memory: beyond `limit` the buffered
    states are pickled to an anonymous temporary file in chunks and read back, chunk by
    chunk, when the level is explored. (Sub-values shared between the states of a chunk stay
    shared; fingerprints cached on values survive the round trip.)
    """

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self.buf: list[tuple[int, State]] = []
        self.n = 0
        self.file: Any = None
        self.chunks = 0

    def append(self, item: tuple[int, State]) -> None:
        self.buf.append(item)
        self.n += 1
        if len(self.buf) >= self.limit:
            if self.file is None:
                self.file = tempfile.TemporaryFile(prefix="tlacheck-frontier-")
            pickle.dump(self.buf, self.file, protocol=pickle.HIGHEST_PROTOCOL)
            self.chunks += 1
            self.buf = []

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[tuple[int, State]]:
        f = self.file
        if f is not None:
            f.seek(0)
            for _ in range(self.chunks):
                chunk: list[tuple[int, State]] = pickle.load(f)
                yield from chunk
            f.close()
            self.file = None
            self.chunks = 0
        yield from self.buf

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


class Explorer:
    """Breadth-first exploration that stores 64-bit fingerprints, not states.

    Memory: `seen` (a set of fingerprints), `fps`/`parents` (8 + 4 bytes per distinct state,
    in discovery order: the parent's index, -1 for initial states) and the current and next
    BFS levels' full states (`Frontier`, spilled to disk beyond `spill_limit`). A
    counterexample is rebuilt by re-executing Init/Next from the initial states and picking,
    at each step, the successor whose fingerprint is the next one on the parent chain.
    Liveness checking (and `explore()`) additionally keep the behaviour graph (`Graph`).
    """

    def __init__(self, model: Model, keep_graph: bool = False, spill_limit: int = 100_000) -> None:
        self.m = model
        self.vars = model.variables
        self.nvars = len(self.vars)
        self.keep_graph = keep_graph or bool(model.liveness)
        self.graph = Graph()
        self.generated = 0
        self.depth = 0
        self.seen: set[int] = set()
        self.fps = array("q")
        self.parents = array("i")
        self.queue_len = 0
        self.spill_limit = spill_limit
        self._perm_caches: list[dict[Any, Any]] = [{} for _ in range(max(1, len(model.symmetry or ())))]
        # invariants with the positions of the variables they read (None: evaluate always); a
        # successor whose read variables are the parent's own objects inherits its verdict
        reads = model.invariant_reads if len(model.invariant_reads) == len(model.invariants) else []
        pos = {v: i for i, v in enumerate(self.vars)}
        self._inv_plan: list[tuple[str, Any, tuple[int, ...] | None]] = []
        for j, (name, f) in enumerate(model.invariants):
            rj = reads[j] if reads else None
            self._inv_plan.append((name, f, None if rj is None else tuple(sorted(pos[v] for v in rj))))
        self.step_parent: State | None = None  # the state whose successors are being checked
        self._keyf: Callable[[State], int]
        if model.view is not None:
            self._keyf = self._key_view
        elif model.symmetry:
            self._keyf = self._key_symmetry
        else:
            self._keyf = self._key_plain

    # ------------------------------------------------------------ state helpers

    def sdict(self, st: State) -> dict[str, Any]:
        return dict(zip(self.vars, st, strict=True))

    def _collect(self, c: Ctx, target: dict[str, Any], out: list[tuple[str, State]]) -> Callable[[], None]:
        vars_ = self.vars
        n = self.nvars

        def k() -> None:
            if len(target) != n:
                missing = [v for v in vars_ if v not in target]
                what = f"variable{'s are' if len(missing) > 1 else ' is'} not defined: {', '.join(missing)}."
                raise EvalError(  # TLC's wording (TLC_STATE_NOT_COMPLETELY_SPECIFIED_INITIAL/_NEXT)
                    f"State is not completely specified by the initial predicate. The following {what}"
                    if c.p is None
                    else f"Successor state is not completely specified by action {c.label or 'Next'} of the "
                    f"next-state relation. The following {what}"
                )
            # a recursive function stored in a state becomes a plain function value
            vals = [x if (x := target[v]).__class__ is not RecFn else normalize(x) for v in vars_]
            out.append((c.label, tuple(vals)))

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

    def key(self, st: State) -> int:
        """The fingerprint a state is stored under (VIEW and SYMMETRY applied), signed 64-bit."""
        return self._keyf(st)

    def _key_plain(self, st: State) -> int:
        return state_fingerprint(st)

    def _key_view(self, st: State) -> int:
        assert self.m.view is not None
        return state_fingerprint((self.m.view(Ctx(self.sdict(st)), {}),))

    def _key_symmetry(self, st: State) -> int:
        # m.symmetry is a group (closed under composition), so the least fingerprint over the
        # orbit is a function of the orbit: the same canonical choice TLC makes.
        caches = self._perm_caches
        assert self.m.symmetry is not None
        if len(caches[0]) > 200_000:
            for cache in caches:
                cache.clear()
        best: int | None = None
        for p, cache in zip(self.m.symmetry, caches, strict=True):
            h = state_fingerprint(tuple([_permute(v, p, cache) for v in st]))
            if best is None or h < best:
                best = h
        assert best is not None
        return best

    def add(self, fp: int, parent: int) -> int:
        """Record a new distinct state; returns its index (discovery order)."""
        self.seen.add(fp)
        self.fps.append(fp)
        self.parents.append(parent)
        return len(self.fps) - 1

    def _holds(self, f: Any, c: Ctx, env: dict[str, Any], what: str) -> bool:
        return _truth(f(c, env), what)

    def in_model(self, st: State, c: Ctx) -> bool:
        for _, f in self.m.constraints:
            if not self._holds(f, c, {}, "CONSTRAINT"):
                return False
        return True

    def in_actions(self, sdict: dict[str, Any], t: State) -> bool:
        """Does the step to t satisfy every ACTION_CONSTRAINT (TLC's isInActions)?"""
        ca = Ctx(sdict, self.sdict(t))
        return all(self._holds(f, ca, {}, "ACTION_CONSTRAINT") for _, f in self.m.action_constraints)

    def step_props(self, sdict: dict[str, Any], t: State, label: str) -> None:
        """Check the action properties on the step to t; raise Violation (with only t as the
        trace: the caller adds the prefix)."""
        if not self.m.action_props:
            return
        ca = Ctx(sdict, self.sdict(t))
        for name, f, env in self.m.action_props:
            if not self._holds(f, ca, env, f"action property {name}"):
                raise Violation(
                    "action_property_violated",
                    name,
                    [TraceStep(self.render_state(t), label or "Next")],
                    f"Action property {name} is violated",
                )

    def _step_props(self, sdict: dict[str, Any], t: State, label: str, si: int) -> None:
        try:
            self.step_props(sdict, t, label)
        except Violation as v:
            v.trace[:0] = self.trace_to(si)
            raise

    def check_state(self, st: State, c: Ctx) -> tuple[str, str] | None:
        par = self.step_parent
        for name, f, idx in self._inv_plan:
            if par is not None and idx is not None:
                for i in idx:
                    if st[i] is not par[i]:
                        break
                else:
                    continue  # reads only variables the step left as they were: holds as before
            r = f(c, {})
            if r is not True and not _truth(r, f"invariant {name}"):
                return "invariant_violated", name
        for name, f, env in self.m.prop_invariants:
            if not self._holds(f, c, env, f"property {name}"):
                return "invariant_violated", name
        return None

    # ------------------------------------------------------------ traces

    def chain(self, idx: int) -> list[int]:
        out = []
        while idx >= 0:
            out.append(self.fps[idx])
            idx = self.parents[idx]
        out.reverse()
        return out

    def trace_to(self, idx: int) -> list[TraceStep]:
        """The shortest trace to state `idx`: re-executed from the initial states along the
        parent chain of fingerprints, with the action that produced each state."""
        steps: list[TraceStep] = []
        prev: State | None = None
        for i, fp in enumerate(self.chain(idx)):
            if i == 0:
                cands = self.initial_states()
            else:
                assert prev is not None
                cands = self.successors(prev)
            found = None
            for lbl, s in cands:
                if self.key(s) == fp:
                    found = (lbl, s)
                    break
            if found is None:
                break
            prev = found[1]
            steps.append(
                TraceStep(self.render_state(prev), "Initial predicate" if i == 0 else (found[0] or "Next"))
            )
        return steps

    def render_state(self, st: State) -> dict[str, str]:
        return {v: render(x) for v, x in zip(self.vars, st, strict=True)}

    # ------------------------------------------------------------ BFS

    def _init_trace(self, idx: int, st: State) -> list[TraceStep]:
        """The trace to an initial state: kept (idx >= 0) or outside the CONSTRAINTs."""
        if idx >= 0:
            return self.trace_to(idx)
        return [TraceStep(self.render_state(st), "Initial predicate")]

    def explore_initial(self, max_states: int | None) -> tuple[list[tuple[int, State]], str | None]:
        """Level 1: the initial states (counted, constrained, checked). Raises Violation."""
        m = self.m
        seen = self.seen
        g = self.graph
        keep = self.keep_graph
        frontier: list[tuple[int, State]] = []
        self.step_parent = None
        for _label, st in self.initial_states():
            # TLC's order (ModelChecker.DoInitFunctor): a state outside the CONSTRAINTs is not
            # kept, but it is checked like a new one: invariants, then the properties' initial
            # predicates
            self.generated += 1
            c0 = Ctx(self.sdict(st), None, {})
            idx = -1
            if self.in_model(st, c0):
                k = self.key(st)
                if k in seen:
                    continue
                idx = self.add(k, -1)
                if keep:
                    g.index[k] = idx
                    g.init.append(idx)
                    g.states.append(st)
                    g.succ.append(set())
                    g.parent.append(-1)

            bad = self.check_state(st, c0)
            if bad is not None:
                raise Violation(
                    bad[0],
                    bad[1],
                    self._init_trace(idx, st),
                    f"Invariant {bad[1]} is violated by the initial state",
                )
            for name, f, env in m.init_props:
                if not self._holds(f, c0, env, f"property {name}"):
                    raise Violation(
                        "property_violated",
                        name,
                        self._init_trace(idx, st),
                        f"Property {name} is violated by the initial state",
                    )
            if idx < 0:
                continue
            frontier.append((idx, st))
            if max_states is not None and len(seen) >= max_states:
                self.queue_len = len(frontier)
                self.depth = 1
                return frontier, "max_states"
        if frontier:
            self.depth = 1
        return frontier, None

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
        init_frontier, stopped = self.explore_initial(max_states)
        if stopped is not None:
            return stopped
        frontier = Frontier(self.spill_limit)
        for item in init_frontier:
            frontier.append(item)
        del init_frontier
        check_dl = m.check_deadlock
        has_aprops = bool(m.action_props) or bool(m.action_constraints)
        has_aconstr = bool(m.action_constraints)
        constraints = bool(m.constraints)
        key = self._keyf
        if key == self._key_plain:
            key = state_fingerprint
        successors = self.successors
        check_state = self.check_state
        add = self.add
        try:
            while len(frontier):
                nxt = Frontier(self.spill_limit)
                level_len = len(frontier)
                self.queue_len = level_len
                for idx_in_level, (si, st) in enumerate(frontier):
                    succs = successors(st)
                    self.step_parent = st
                    if not succs and check_dl:
                        raise Violation("deadlock", None, self.trace_to(si), "Deadlock reached")
                    sdict = self.sdict(st) if has_aprops else None
                    for label, t in succs:
                        # TLC's order (ModelChecker.doNext): in the model (CONSTRAINTs and
                        # ACTION_CONSTRAINTs)? then seen? A state that is not seen, kept or
                        # not, has its invariants checked; every step its action properties
                        self.generated += 1
                        c: Ctx | None = None
                        in_model = True
                        if sdict is not None and has_aconstr:
                            in_model = self.in_actions(sdict, t)
                        if in_model and constraints:
                            c = Ctx(self.sdict(t), None, {})
                            in_model = self.in_model(t, c)
                        ti = -1
                        if in_model:
                            kt = key(t)
                            if kt in seen:
                                if keep:
                                    g.succ[si].add(g.index[kt])
                                if sdict is not None:
                                    self._step_props(sdict, t, label, si)
                                continue
                            ti = add(kt, si)
                            if keep:
                                g.index[kt] = ti
                                g.states.append(t)
                                g.succ.append(set())
                                g.parent.append(si)
                                g.succ[si].add(ti)
                        if c is None:
                            c = Ctx(self.sdict(t), None, {})
                        bad = check_state(t, c)
                        if bad is not None:
                            if ti >= 0:
                                tr = self.trace_to(ti)
                            else:
                                tr = [*self.trace_to(si), TraceStep(self.render_state(t), label or "Next")]
                            raise Violation(bad[0], bad[1], tr, f"Invariant {bad[1]} is violated")
                        if sdict is not None:
                            self._step_props(sdict, t, label, si)
                        if ti < 0:
                            continue
                        nxt.append((ti, t))
                        if max_states is not None and len(seen) >= max_states:
                            self.queue_len = level_len - idx_in_level - 1 + len(nxt)
                            return "max_states"
                    if progress is not None:
                        now = time.monotonic()
                        if now - last_report > 1.0:
                            last_report = now
                            progress(
                                Progress(
                                    len(seen),
                                    self.generated,
                                    level_len - idx_in_level + len(nxt),
                                    self.depth,
                                    now - t0,
                                )
                            )
                frontier.close()
                frontier = nxt
                if len(frontier):
                    self.depth += 1
        finally:
            self.step_parent = None
            frontier.close()
        self.queue_len = 0
        return None


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
