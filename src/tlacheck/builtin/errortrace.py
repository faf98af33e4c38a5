"""The behaviour up to an evaluation error, as TLC prints it ("The behavior up to this point is").

`ErrorTrace(explorer)` records which state the explorer is expanding (its successors are being
computed) or checking (invariants, constraints) by wrapping those two methods on the instance;
after an evaluation error, `trace()` rebuilds the shortest behaviour to that state with the
explorer's own trace reconstruction. The wrappers cost one Python call per expanded/checked
state and nothing else.
"""

from __future__ import annotations

from typing import Any

from tlacheck.builtin.checker import Explorer
from tlacheck.builtin.values import EvalError
from tlacheck.result import TraceStep


class ErrorTrace:
    def __init__(self, ex: Explorer) -> None:
        self.ex = ex
        self.expanding: Any = None
        self.last: Any = None
        self.checking = False  # evaluating the invariants of self.last
        successors = ex.successors
        check_state = ex.check_state

        def expand(st: Any) -> Any:
            self.expanding = self.last = st
            return successors(st)

        def check(st: Any, c: Any) -> Any:
            self.last = st
            self.checking = True
            r = check_state(st, c)
            self.checking = False
            self.last = self.expanding
            return r

        ex.successors = expand  # type: ignore[method-assign]
        ex.check_state = check  # type: ignore[method-assign]

    def error_kind(self, e: EvalError) -> str:
        """TLC's class of an evaluation error: an invariant that fails to evaluate
        (TLC_INVARIANT_EVALUATION_FAILED, exit 76), a successor state that leaves a variable
        unassigned (TLC_STATE_NOT_COMPLETELY_SPECIFIED_NEXT, exit 75), else e's own kind."""
        if e.kind != "runtime":
            return e.kind
        if self.checking:
            return "invariant_eval"
        if str(e).startswith("Successor state is not completely specified"):
            return "spec_eval"
        return e.kind

    def trace(self) -> list[TraceStep]:
        """The behaviour up to the state being expanded or checked when the error occurred."""
        st = self.last
        if st is None:
            return []  # the error happened while computing the initial states
        ex = self.ex
        try:
            idx = ex.fps.index(ex.key(st))
        except Exception:
            return []
        try:
            return ex.trace_to(idx)
        except Exception:
            return []
