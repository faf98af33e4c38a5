"""A Hypothesis state machine for any `ModelLike` + `SystemLike`: each step takes one of the
model's enabled transitions (drawn by index, so a failure prints as replayable steps), sometimes
first killing its transaction before COMMIT, and compares the observation with the model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ringq_proof.kit.core import Crashed, Divergence, ModelLike, SystemLike, diff


class KitMachine(RuleBasedStateMachine):
    """Subclassed by `machine()` with the user's factories."""

    model_factory: ClassVar[Callable[[], ModelLike]]
    system_factory: ClassVar[Callable[[], SystemLike]]
    crash_weight: ClassVar[float] = 0.2

    def __init__(self) -> None:
        super().__init__()
        self.model = type(self).model_factory()
        self.system = type(self).system_factory()
        self.system.reset()
        self.s: Any = self.model.init()
        self.trace: list[str] = []

    def teardown(self) -> None:
        self.system.close()

    def _fail(self, message: str) -> None:
        raise Divergence(f"{message}\n  after: {' ; '.join(self.trace)}")

    def _crash(self, label: str, action: str, params: dict[str, Any], n: Any) -> None:
        self.trace.append(f"{label} killed before COMMIT")
        try:
            self.system.apply(action, params, self.s, n, True)
        except Crashed:
            pass
        if d := diff(self.model.observe(self.s), self.system.observe()):
            self._fail("a transaction killed before COMMIT left: " + "; ".join(d))

    @rule(pick=st.integers(0, 1 << 16), crash=st.floats(0, 1))
    def step(self, pick: int, crash: float) -> None:
        succ = sorted(self.model.successors(self.s), key=lambda x: (x[0], sorted(x[1].items())))
        if not succ:
            return
        action, params, n = succ[pick % len(succ)]
        label = f"{action}({', '.join(f'{k}={v!r}' for k, v in sorted(params.items()))})"
        if crash < type(self).crash_weight and action in self.model.transactions:
            self._crash(label, action, params, n)
        self.trace.append(label)
        self.system.apply(action, params, self.s, n, False)
        self.s = n

    @invariant()
    def observation_is_the_model(self) -> None:
        if d := diff(self.model.observe(self.s), self.system.observe()):
            self._fail("the database left the model: " + "; ".join(d))

    @invariant()
    def model_invariants(self) -> None:
        for name, inv in self.model.invariants.items():
            if not inv(self.s):
                self._fail(f"the model state violates {name}")


def machine(
    model_factory: Callable[[], ModelLike],
    system_factory: Callable[[], SystemLike],
    *,
    crash_weight: float = 0.2,
) -> type[KitMachine]:
    """A RuleBasedStateMachine class for your model and system; `.TestCase` is the pytest test."""
    return type(
        "UserKitMachine",
        (KitMachine,),
        {
            "model_factory": staticmethod(model_factory),
            "system_factory": staticmethod(system_factory),
            "crash_weight": crash_weight,
        },
    )
