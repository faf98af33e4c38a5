"""Random simulation (TLC's `-simulate`): random behaviours to a bounded depth, checked as they go.

`simulate(spec, config, depth=100, num=..., seed=...)` repeats `num` times: pick an initial
state uniformly among those Init allows (CONSTRAINTs applied), then, up to `depth` states,
a successor uniformly among the derivations Next allows (ACTION_CONSTRAINTs and CONSTRAINTs
applied). Every state is checked against the invariants (and the `[]P` properties checked
as invariants), every step against the action properties (`[][A]_v`); a state with no
successor at all is a deadlock when CHECK_DEADLOCK is on (as in TLC); a state whose
successors are all excluded by constraints ends the behaviour quietly. The first violation
ends the run with the behaviour that led to it as the trace. Liveness properties are not
checked in simulation (TLC checks them per behaviour; see the report).

Counting: `states_generated` is every initial-state and successor derivation examined,
`distinct_states` the number of distinct fingerprints met, `depth` the longest behaviour.
The same seed gives the same behaviours, counts and trace (sets are enumerated in TLC's value
order, never hash order).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

from tlacheck.builtin.checker import Explorer, State
from tlacheck.builtin.ops import _truth
from tlacheck.builtin.runtime import Ctx
from tlacheck.result import CheckResult, TraceStep

DEFAULT_DEPTH = 100
DEFAULT_NUM = 1000


class _Stop(Exception):
    def __init__(self, outcome: str, name: str | None, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.name = name
        self.message = message


def simulate(
    spec: Path | str,
    config: Path | str | None = None,
    *,
    depth: int = DEFAULT_DEPTH,
    num: int | None = DEFAULT_NUM,
    seed: int | None = None,
    max_seconds: float | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> CheckResult:
    """Simulate `num` random behaviours of at most `depth` states (None: until `max_seconds`).

    `seed` fixes the random choices (default: drawn from the clock; the message names it so a
    run can be repeated). `progress(behaviours, states_generated, elapsed_s)` is called about
    once a second. Returns a CheckResult like `run()`: outcome "ok" when no behaviour violated
    anything, else the violation with the behaviour as its trace."""
    from tlacheck.builtin import _error, _load  # the package's loading and error mapping

    if depth < 1:
        raise ValueError("depth must be at least 1")
    if num is not None and num < 1:
        raise ValueError("num must be at least 1")
    if num is None and max_seconds is None:
        raise ValueError("give num or max_seconds: an unbounded simulation never ends")
    if seed is None:
        seed = random.SystemRandom().randrange(1 << 63)
    t0 = time.monotonic()
    spec = Path(spec)
    ex: Explorer | None = None
    try:
        from tlacheck.builtin.model import check_assumptions

        model = _load(spec, Path(config) if config is not None else None)
        failed = check_assumptions(model)
        if failed is not None:
            return CheckResult(
                outcome="assumption_failed",
                violated=failed[0],
                message=failed[1],
                elapsed_s=time.monotonic() - t0,
            )
        if model.init is None:
            return CheckResult(outcome="ok", message="No behaviour to simulate; assumptions hold.")
        ex = Explorer(model)
        sim = _Simulator(ex, random.Random(seed))
        done = 0
        last = t0
        trace: list[TraceStep] = []
        try:
            while num is None or done < num:
                if max_seconds is not None and time.monotonic() - t0 >= max_seconds:
                    break
                sim.behaviour(depth)
                done += 1
                if progress is not None and time.monotonic() - last > 1.0:
                    last = time.monotonic()
                    progress(done, ex.generated, last - t0)
        except _Stop as stop:
            trace = sim.trace()
            return CheckResult(
                outcome=stop.outcome,  # type: ignore[arg-type]
                violated=stop.name,
                states_generated=ex.generated,
                distinct_states=len(ex.seen),
                depth=sim.max_len,
                trace=trace,
                message=f"{stop.message} (simulation, seed {seed}, behaviour {done + 1})",
                elapsed_s=time.monotonic() - t0,
            )
        return CheckResult(
            outcome="ok",
            states_generated=ex.generated,
            distinct_states=len(ex.seen),
            depth=sim.max_len,
            message=(
                f"Simulation completed: {done} behaviours of at most {depth} states, "
                f"no error found (seed {seed})."
            ),
            elapsed_s=time.monotonic() - t0,
        )
    except Exception as e:
        return _map_error(e, t0, ex, _error)


def _map_error(
    e: Exception, t0: float, ex: Explorer | None, error: Callable[..., CheckResult]
) -> CheckResult:
    from tlacheck.builtin.cfg import ConfigError
    from tlacheck.builtin.scope import SemanticError, Unsupported
    from tlacheck.builtin.syntax import TLASyntaxError
    from tlacheck.builtin.values import EvalError

    if isinstance(e, TLASyntaxError):
        return error(e.kind, str(e), t0, ex)
    if isinstance(e, ConfigError):
        return error("config", str(e), t0, ex)
    if isinstance(e, Unsupported):
        return error("unsupported", str(e), t0, ex)
    if isinstance(e, SemanticError):
        return error(e.args[1] if len(e.args) > 1 else "semantic", str(e.args[0]), t0, ex)
    if isinstance(e, EvalError):
        return error(e.kind, str(e), t0, ex)
    if isinstance(e, RecursionError):
        return error("runtime", "recursion too deep while evaluating the spec", t0, ex)
    raise e


class _Simulator:
    """One random walk at a time over an Explorer's Init/Next (its fingerprint set counts
    the distinct states met)."""

    def __init__(self, ex: Explorer, rng: random.Random) -> None:
        self.ex = ex
        self.rng = rng
        self.path: list[tuple[str, State]] = []
        self.max_len = 0
        self._inits: list[tuple[str, State]] | None = None

    def _initial(self) -> list[tuple[str, State]]:
        """The initial states CONSTRAINTs allow (computed and counted once)."""
        if self._inits is None:
            ex = self.ex
            inits = ex.initial_states()
            ex.generated += len(inits)
            self._inits = [(lb, st) for lb, st in inits if ex.in_model(st, Ctx(ex.sdict(st), None, {}))]
        return self._inits

    def behaviour(self, depth: int) -> None:
        ex = self.ex
        m = ex.m
        allowed = self._initial()
        self.path = []
        if not allowed:
            return
        _, st = allowed[self.rng.randrange(len(allowed))]
        self.path.append(("Initial predicate", st))
        self._visit(st, initial=True)
        has_step_checks = bool(m.action_props) or bool(m.action_constraints)
        while len(self.path) < depth:
            succs = ex.successors(st)
            ex.generated += len(succs)
            if not succs:
                if m.check_deadlock:
                    self.max_len = max(self.max_len, len(self.path))
                    raise _Stop("deadlock", None, "Deadlock reached")
                break
            sd = ex.sdict(st)
            cands = []
            for lb, t in succs:
                if has_step_checks:
                    ca = Ctx(sd, ex.sdict(t))
                    if not all(_truth(f(ca, {}), "ACTION_CONSTRAINT") for _, f in m.action_constraints):
                        continue
                if m.constraints and not ex.in_model(t, Ctx(ex.sdict(t), None, {})):
                    continue
                cands.append((lb, t))
            if not cands:
                break
            lb, t = cands[self.rng.randrange(len(cands))]
            self.path.append((lb or "Next", t))
            for name, f, env in m.action_props:
                if not _truth(f(Ctx(sd, ex.sdict(t)), env), f"action property {name}"):
                    self.max_len = max(self.max_len, len(self.path))
                    raise _Stop("action_property_violated", name, f"Action property {name} is violated")
            st = t
            self._visit(st, initial=False)
        self.max_len = max(self.max_len, len(self.path))

    def _visit(self, st: State, initial: bool) -> None:
        ex = self.ex
        c = Ctx(ex.sdict(st), None, {})
        ex.seen.add(ex.key(st))
        if initial:
            for name, f, env in ex.m.init_props:
                if not _truth(f(c, env), f"property {name}"):
                    raise _Stop(
                        "property_violated", name, f"Property {name} is violated by the initial state"
                    )
        bad = ex.check_state(st, c)
        if bad is not None:
            self.max_len = max(self.max_len, len(self.path))
            raise _Stop(bad[0], bad[1], f"Invariant {bad[1]} is violated")

    def trace(self) -> list[TraceStep]:
        return [TraceStep(self.ex.render_state(st), label) for label, st in self.path]
