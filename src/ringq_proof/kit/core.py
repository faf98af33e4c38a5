"""The toolkit's contracts (what a user implements) and the model-side checks."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

Params = dict[str, Any]


class Crashed(Exception):
    """Raised by `SystemLike.apply(..., crash=True)`: the transaction was killed before COMMIT."""


class Divergence(AssertionError):
    """The real system left the model (a step, a killed transaction or a refusal)."""


class ModelLike(Protocol):
    """A state machine: hashable states, labelled successors, what the database would show."""

    # actions that are one database transaction (killed before COMMIT once in exhaustive replay)
    transactions: frozenset[str]
    invariants: Mapping[str, Callable[[Any], bool]]

    def init(self) -> Hashable: ...

    def successors(self, s: Any) -> Iterable[tuple[str, Params, Hashable]]: ...

    def observe(self, s: Any) -> Mapping[str, Any]: ...


class SystemLike(Protocol):
    """Your implementation: a fresh start, one model action at a time, and the abstraction."""

    def reset(self) -> None: ...

    def apply(self, action: str, params: Params, before: Any, after: Any, crash: bool) -> None: ...

    def observe(self) -> Mapping[str, Any]: ...

    def close(self) -> None: ...


def diff(model: Mapping[str, Any], real: Mapping[str, Any]) -> list[str]:
    out = []
    for k in sorted(set(model) | set(real)):
        a, b = model.get(k), real.get(k)
        if a != b:
            out.append(f"{k}: model {a!r}, database {b!r}")
    return out


def successor(model: ModelLike, s: Any, action: str, params: Params) -> Any:
    found = {n for a, p, n in model.successors(s) if a == action and p == params}
    if len(found) != 1:
        raise Divergence(f"model: {action}({params}) has {len(found)} successors")
    return found.pop()


@dataclass
class Exploration:
    states: int
    transitions: int
    violations: dict[str, list[tuple[str, Params]]] = field(
        default_factory=dict
    )  # invariant -> shortest trace

    def summary(self) -> str:
        head = f"{self.states} states, {self.transitions} transitions"
        if not self.violations:
            return head + ", every invariant holds"
        parts = [
            f"{name} violated after {' ; '.join(f'{a}({p})' for a, p in trace)}"
            for name, trace in self.violations.items()
        ]
        return head + "; " + "; ".join(parts)


def explore(model: ModelLike) -> Exploration:
    """BFS over the model: counts, and for each violated invariant the shortest trace to it."""
    init = model.init()
    parent: dict[Hashable, tuple[Hashable | None, str, Params]] = {init: (None, "Init", {})}
    queue: deque[Hashable] = deque([init])
    transitions = 0
    out = Exploration(0, 0)

    def trace(s: Hashable) -> list[tuple[str, Params]]:
        steps: list[tuple[str, Params]] = []
        while True:
            p, a, params = parent[s]
            if p is None:
                return steps[::-1]
            steps.append((a, params))
            s = p

    while queue:
        s = queue.popleft()
        for name, inv in model.invariants.items():
            if name not in out.violations and not inv(s):
                out.violations[name] = trace(s)
        for a, p, n in model.successors(s):
            transitions += 1
            if n not in parent:
                parent[n] = (s, a, p)
                queue.append(n)
    out.states = len(parent)
    out.transitions = transitions
    return out


def invariant_report(model: ModelLike) -> dict[str, str]:
    """Invariant name -> 'holds' or the shortest violating trace."""
    e = explore(model)
    return {
        name: "holds" if name not in e.violations else " ; ".join(f"{a}({p})" for a, p in e.violations[name])
        for name in model.invariants
    }
