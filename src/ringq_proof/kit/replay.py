"""Exhaustive replay for any `ModelLike` + `SystemLike` (the ringq-specific twin is
ringq_proof.exhaustive, which adds ringq's clock planning and two worker processes)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ringq_proof.exhaustive.plan import build_graph, cover
from ringq_proof.kit.core import Crashed, Divergence, ModelLike, Params, SystemLike, diff, successor


@dataclass
class ExhaustiveReport:
    states: int
    total: int
    covered: int
    paths: int
    steps: int
    crash_checks: int
    seconds: float
    unrealizable: dict[str, int] = field(default_factory=dict)
    failure: str | None = None
    traces: list[list[dict[str, Any]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failure is None

    def summary(self) -> str:
        s = (
            f"{self.covered}/{self.total} transitions replayed, {self.states} states, {self.paths} paths, "
            f"{self.steps} steps, {self.crash_checks} crash-before-commit checks, {self.seconds:.1f} s"
        )
        return s + (f"\nDIVERGED: {self.failure}" if self.failure else "")


def _label(a: str, p: Params) -> str:
    return f"{a}({', '.join(f'{k}={v!r}' for k, v in sorted(p.items()))})"


def exhaustive(
    model: ModelLike,
    system: SystemLike,
    *,
    realizable: Callable[[Any, str, Params], str | None] | None = None,
    crash_before_commit: bool = True,
    record: bool = False,
    max_len: int = 40,
) -> ExhaustiveReport:
    """Replay paths covering every (realizable) transition of `model` on `system`; stop at the
    first divergence. Each transition's transaction is also killed before COMMIT once (it must
    leave the observation unchanged)."""
    t0 = time.perf_counter()
    graph = build_graph(model, realizable)
    paths = cover(graph, max_len)
    report = ExhaustiveReport(
        len(graph.states), graph.total, 0, len(paths), 0, 0, 0.0, dict(graph.unrealizable)
    )
    crashed: set[int] = set()
    covered: set[int] = set()
    for path in paths:
        system.reset()
        s = model.init()
        trace = [dict(system.observe())]
        labels: list[str] = []
        try:
            if d := diff(model.observe(s), system.observe()):
                raise Divergence("initial state: " + "; ".join(d))
            for e in path:
                edge = graph.edges[e]
                action, params = edge.action, dict(edge.params)
                labels.append(_label(action, params))
                n = successor(model, s, action, params)
                if crash_before_commit and e not in crashed and action in model.transactions:
                    crashed.add(e)
                    try:
                        system.apply(action, params, s, n, True)
                        raise Divergence(f"{labels[-1]} was not killed")
                    except Crashed:
                        pass
                    report.crash_checks += 1
                    if d := diff(model.observe(s), system.observe()):
                        raise Divergence(f"{labels[-1]} killed before COMMIT left: " + "; ".join(d))
                system.apply(action, params, s, n, False)
                real = system.observe()
                if d := diff(model.observe(n), real):
                    raise Divergence(f"after {labels[-1]}: " + "; ".join(d))
                trace.append(dict(real))
                covered.add(e)
                report.steps += 1
                s = n
        except Divergence as exc:
            report.failure = f"{exc}\n  path: {' ; '.join(labels)}"
            break
        if record:
            report.traces.append(trace)
    report.covered = len(covered)
    report.seconds = time.perf_counter() - t0
    return report
