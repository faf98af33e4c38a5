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
from tlacheck.result import TraceStep


class ErrorTrace:
    def __init__(self, ex: Explorer) -> None:
        self.ex = ex
        self.expanding: Any = None
        self.last: Any = None
        successors = ex.successors
        check_state = ex.check_state

        def expand(st: Any) -> Any:
            self.expanding = self.last = st
            return successors(st)

        def check(st: Any, c: Any) -> Any:
            self.last = st
            r = check_state(st, c)
            self.last = self.expanding
            return r

        ex.successors = expand  # type: ignore[method-assign]
        ex.check_state = check  # type: ignore[method-assign]

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
