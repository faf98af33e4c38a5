"""Trace validation against a TLA+ spec, for any design (the method of Cirstea, Kuppe, Loillier
and Merz, 2024; ringq_proof.tracecheck is ringq's instance).

`TlaModel(spec, constants, observed)` names your spec, its CONSTANTS (cfg lines) and the
variables your abstraction observes; `check_trace(tla, trace)` writes the trace as a module
that EXTENDS your spec (TraceInit = Init /\\ the first observation; TraceNext = (Next \\/
UNCHANGED vars) /\\ the next observation, with up to `silent` unobserved Next steps before it)
and asks tlacheck whether some behaviour reaches the end of the trace. Unobserved variables are
free: the checker finds values for them. `TlaModel.check()` runs the spec's own cfg (the
invariant report from TLA+).

Values are rendered from plain Python: bool, int, str (a model value when listed in
`model_values`, else a string), set/frozenset, tuple/list (a sequence), dict (a record when its
keys are identifiers, else a function `k :> v @@ ...`).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tlacheck

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class TlaModel:
    spec: Path  # the .tla file (its directory also holds the modules it EXTENDS)
    constants: Sequence[str]  # cfg CONSTANTS lines, e.g. "Jobs = {j1, j2}"
    observed: Sequence[str]  # the variables the abstraction of the database gives
    model_values: Sequence[str] = ()
    vars_name: str = "vars"  # the spec's tuple of all variables
    init: str = "Init"
    next: str = "Next"
    cfg: Path | None = None  # the spec's own cfg (for `check`)
    extends: Sequence[str] = field(default_factory=lambda: ("Sequences", "TLC"))

    def render(self, v: Any) -> str:
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            return v if v in self.model_values else '"' + v.replace('"', '\\"') + '"'
        if isinstance(v, set | frozenset):
            return "{" + ", ".join(sorted(self.render(x) for x in v)) + "}"
        if isinstance(v, tuple | list):
            return "<<" + ", ".join(self.render(x) for x in v) + ">>"
        if isinstance(v, Mapping):
            if not v:
                return "<<>>"
            if all(isinstance(k, str) and _IDENT.match(k) and k not in self.model_values for k in v):
                return "[" + ", ".join(f"{k} |-> {self.render(x)}" for k, x in sorted(v.items())) + "]"
            items = sorted((self.render(k), self.render(x)) for k, x in v.items())
            return "(" + " @@ ".join(f"{k} :> {x}" for k, x in items) + ")"
        raise TypeError(f"no TLA+ rendering for {v!r}")

    def check(self) -> tlacheck.CheckResult:
        """The spec checked with its own cfg (invariants, deadlock, properties)."""
        return tlacheck.check(self.spec, self.cfg, backend="builtin")


@dataclass
class TraceVerdict:
    ok: bool
    length: int
    matched: int  # longest prefix that is a behaviour of the spec
    message: str = ""


def trace_module(tla: TlaModel, trace: Sequence[Mapping[str, Any]], silent: int = 0) -> tuple[str, str]:
    module = tla.spec.stem
    rows = ["[" + ", ".join(f"{k} |-> {tla.render(st[k])}" for k in tla.observed) + "]" for st in trace]
    obs = " /\\ ".join(f"{k} = Trace[i].{k}" for k in tla.observed)
    obs_next = " /\\ ".join(f"{k}' = Trace[i].{k}" for k in tla.observed)
    mvs = f"CONSTANTS {', '.join(tla.model_values)}\n" if tla.model_values else ""
    text = f"""---- MODULE TraceCheck ----
EXTENDS {module}, {", ".join(tla.extends)}
{mvs}VARIABLES l, k
MaxSilent == {silent}
Trace == <<{", ".join(rows)}>>
Observed(i) == {obs}
ObservedNext(i) == {obs_next}
TraceInit == {tla.init} /\\ l = 1 /\\ k = 0 /\\ Observed(1)
TraceStep == l < Len(Trace) /\\ ({tla.next} \\/ UNCHANGED {tla.vars_name}) /\\ l' = l + 1 /\\ k' = 0 /\\ ObservedNext(l + 1)
SilentStep == l < Len(Trace) /\\ k < MaxSilent /\\ {tla.next} /\\ l' = l /\\ k' = k + 1
TraceSpec == TraceInit /\\ [][TraceStep \\/ SilentStep]_<<{tla.vars_name}, l, k>>
TraceMatched == l < Len(Trace)
====
"""
    consts = [*tla.constants, *(f"{m} = {m}" for m in tla.model_values)]
    cfg = "SPECIFICATION TraceSpec\nCONSTANTS\n    " + "\n    ".join(consts)
    cfg += "\nINVARIANT TraceMatched\nCHECK_DEADLOCK FALSE\n"
    return text, cfg


def check_trace(tla: TlaModel, trace: Sequence[Mapping[str, Any]], silent: int = 0) -> TraceVerdict:
    """Is `trace` (observations, the initial one first) a behaviour of `tla`'s spec?"""
    with tempfile.TemporaryDirectory(prefix="kit-trace-") as tmp:
        work = Path(tmp)
        for f in tla.spec.parent.glob("*.tla"):
            shutil.copy(f, work / f.name)

        def matched(t: Sequence[Mapping[str, Any]]) -> bool:
            text, cfg = trace_module(tla, t if len(t) >= 2 else [*t, *t], silent)
            (work / "TraceCheck.tla").write_text(text)
            (work / "TraceCheck.cfg").write_text(cfg)
            r = tlacheck.check(work / "TraceCheck.tla", work / "TraceCheck.cfg", backend="builtin")
            if r.outcome == "error":
                raise RuntimeError(f"tlacheck: {r.error_kind}: {r.message}")
            return r.outcome == "invariant_violated" and r.violated == "TraceMatched"

        if matched(trace):
            return TraceVerdict(True, len(trace), len(trace))
        if not matched(trace[:1]):
            return TraceVerdict(False, len(trace), 0, "the first observation is not an initial state")
        lo, hi = 1, len(trace) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if matched(trace[:mid]) else (lo, mid - 1)
        return TraceVerdict(
            False,
            len(trace),
            lo,
            f"observation {lo + 1} of {len(trace)} follows from {lo} by no step of the spec",
        )
