"""The result object every backend (TLC subprocess or built-in checker) returns."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Outcome = Literal[
    "ok",
    "invariant_violated",
    "action_property_violated",
    "property_violated",
    "deadlock",
    "assumption_failed",
    "error",
]

# TLC's exit codes (tlc2.output.EC.ExitStatus), used by the CLI for both backends.
EXIT_CODES: dict[str, int] = {
    "ok": 0,
    "assumption_failed": 10,
    "deadlock": 11,
    "invariant_violated": 12,
    "action_property_violated": 13,
    "property_violated": 13,
    "error": 255,
}
EXIT_PARSE_ERROR = 150
EXIT_CONFIG_ERROR = 151
# TLC's VIOLATION_ASSERT: a TLC!Assert evaluated to FALSE (outcome "error", error_kind "assert").
EXIT_ASSERT = 14
# TLC's evaluation failures (EC.ExitStatus.FAILURE_SPEC_EVAL / _SAFETY_EVAL / _LIVENESS_EVAL): e.g.
# a successor state that leaves a variable unassigned, an invariant that fails to evaluate, a
# temporal formula that is a tautology.
EXIT_EVAL_FAILURES: dict[str, int] = {"spec_eval": 75, "invariant_eval": 76, "liveness_eval": 77}


@dataclass
class TraceStep:
    """One state of a counterexample and the action that produced it.

    `state` maps variable name -> value rendered in TLA+ syntax (as TLC prints it).
    `action` is the action's name (TLC: "<Name line ..., col ... of module M>" reduced to Name);
    "Initial predicate" for the first state. `lasso_back_to` is set on the last step of a
    liveness counterexample: the 1-based index of the state the cycle returns to
    (TLC's "Back to state N"), or -1 for stuttering.
    """

    state: dict[str, str]
    action: str
    lasso_back_to: int | None = None


@dataclass
class CheckResult:
    outcome: Outcome
    violated: str | None = None
    states_generated: int = 0
    distinct_states: int = 0
    depth: int = 0
    trace: list[TraceStep] = field(default_factory=list)
    message: str = ""
    elapsed_s: float = 0.0
    backend: Literal["tlc", "builtin"] = "builtin"
    # "parse" / "config" / "semantic" / "unsupported" / "runtime" / "assert" / "spec_eval" /
    # "invariant_eval" / "max_states" /
    # "timeout" for outcome == "error"
    error_kind: str | None = None
    states_left_on_queue: int = 0
    # worker processes (built-in checker) or threads (TLC) that explored the state space
    workers: int = 1

    @property
    def exit_code(self) -> int:
        if self.outcome == "error" and self.error_kind in ("parse", "semantic"):
            return EXIT_PARSE_ERROR  # TLC: SANY's parse and semantic errors both exit 150
        if self.outcome == "error" and self.error_kind == "config":
            return EXIT_CONFIG_ERROR
        if self.outcome == "error" and self.error_kind == "assert":
            return EXIT_ASSERT
        if self.outcome == "error" and self.error_kind in EXIT_EVAL_FAILURES:
            return EXIT_EVAL_FAILURES[self.error_kind]
        return EXIT_CODES[self.outcome]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["exit_code"] = self.exit_code
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)
