"""The model's API: initial state, successors, enabled actions, deterministic steps, checks.

m = Model(load_config("SegmentedStorage_base"))
s = m.step(m.init(), "Enqueue", j="j1")
for action, params, nxt in m.successors(s): ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ringq_proof.model.actions import BASE_ACTIONS, Action, Succ
from ringq_proof.model.config import Config
from ringq_proof.model.derived import View
from ringq_proof.model.invariants import INVARIANTS, Invariant
from ringq_proof.model.races import RACE_ACTIONS
from ringq_proof.model.state import State, initial_state


class StepError(ValueError):
    """`step` was asked for an action that is not enabled, or whose parameters are ambiguous."""


class Model:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.actions: tuple[Action, ...] = RACE_ACTIONS if cfg.races else BASE_ACTIONS
        names = cfg.invariants or default_invariants(cfg)
        unknown = [n for n in names if n not in INVARIANTS]
        if unknown:
            raise KeyError(f"invariant(s) not in the model: {', '.join(unknown)}")
        self.invariants: tuple[tuple[str, Invariant], ...] = tuple((n, INVARIANTS[n]) for n in names)

    def init(self) -> State:
        return initial_state(self.cfg)

    def successors(self, s: State) -> Iterator[Succ]:
        """Every (action, params, next_state) the spec's Next allows from `s` (stutters excluded)."""
        v = View(s)
        for act in self.actions:
            for label, params, n in act(self.cfg, s, v):
                if n != s:
                    yield label, params, n

    def enabled(self, s: State) -> list[tuple[str, dict[str, Any]]]:
        """The (action, params) pairs enabled in `s`, sorted."""
        pairs = {(label, tuple(sorted(p.items()))) for label, p, _ in self.successors(s)}
        return [(label, dict(p)) for label, p in sorted(pairs, key=repr)]

    def step(self, s: State, action: str, **params: Any) -> State:
        """The unique successor of `s` by `action` with `params`; StepError if none or several."""
        found = {
            n
            for label, p, n in self.successors(s)
            if label == action and all(p.get(k) == val for k, val in params.items())
        }
        if not found:
            raise StepError(f"{action}({_fmt(params)}) is not enabled")
        if len(found) > 1:
            raise StepError(f"{action}({_fmt(params)}) has {len(found)} outcomes; give more parameters")
        return found.pop()

    def violated(self, s: State) -> str | None:
        """Name of the first invariant (cfg order) that `s` violates, or None."""
        v = View(s)
        for name, inv in self.invariants:
            if not inv(self.cfg, s, v):
                return name
        return None


def default_invariants(cfg: Config) -> tuple[str, ...]:
    names = [n for n in INVARIANTS if n not in ("TypeOK", "RTypeOK")]
    return ("RTypeOK" if cfg.races else "TypeOK", *names)


def _fmt(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in params.items())
