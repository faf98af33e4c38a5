"""Trace validation against the TLA+ spec itself (Cirstea, Kuppe, Loillier, Merz 2024).

A trace is what the real implementation did: the abstraction of the schema
(`ringq_proof.abstraction`: the spec's database variables) and the workers' memory (`held`)
after every real step, recorded by exhaustive replay (`run_exhaustive(..., record=True)`) or a
stateful run. `trace_module` writes it as a TLA+ trace spec that EXTENDS SegmentedStorage:

    VARIABLE l                                       \\* how much of the trace is matched
    Trace == << [ring_state |-> ..., ...], ... >>    \\* the observed states, in order
    TraceInit == Init /\\ l = 1 /\\ Observed(1)
    TraceNext == l < Len(Trace) /\\ (Next \\/ UNCHANGED vars) /\\ l' = l + 1 /\\ Observed'(l + 1)
    TraceMatched == l < Len(Trace)                    \\* checked as an INVARIANT

and `check_trace` runs tlacheck on it. The variables the database does not hold (the spec's
ghosts: enqueued, terminal, completed, tries, next_lease, ...) are left free: the checker finds
values for them if any behaviour of the spec fits. The trace is a behaviour of the spec iff some
state has l = Len(Trace), i.e. iff the invariant `TraceMatched` is *violated*; when it holds
everywhere, no behaviour of Spec explains the trace, and `check_trace` bisects for the longest
prefix that is one. A stutter step (a transaction killed before COMMIT) is `UNCHANGED vars`.

This check does not go through the Python model: the spec's own Init and Next decide.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tlacheck
from ringq_proof.checkout import correctness_dir
from ringq_proof.model import Config
from ringq_proof.model.config import BASE_SWITCHES
from ringq_proof.model.state import DB_VARIABLES, initial_state, to_canonical
from tlacheck.canonical import to_tla

SPEC = "SegmentedStorage"
OBSERVED = (*DB_VARIABLES, "held")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class TraceVerdict:
    ok: bool
    length: int  # states in the trace
    matched: int  # longest prefix (states) that is a behaviour of the spec
    states: int  # distinct states the checker explored
    seconds: float
    message: str = ""


def _canonical(cfg: Config, observed: Mapping[str, Any]) -> dict[str, str]:
    """The observed variables of one trace state, in TLA+ syntax (the spec's encoding)."""
    s = initial_state(cfg)._replace(**{k: observed[k] for k in OBSERVED})
    canon = to_canonical(s, cfg)
    return {k: to_tla(canon[k]) for k in OBSERVED}


def _constants(cfg: Config) -> list[str]:
    return [
        f"Jobs = {{{', '.join(cfg.jobs)}}}",
        f"Workers = {{{', '.join(cfg.workers)}}}",
        f"QSlots = {cfg.qslots}",
        f"CSlots = {cfg.cslots}",
        f"MaxAttempts = {cfg.max_attempts}",
        f"MaxDlqRetries = {cfg.max_dlq_retries}",
        *(f"{b} = {'TRUE' if cfg.bug(b) else 'FALSE'}" for b in BASE_SWITCHES),
        # the model values, also as constants of the trace module (its Trace names them)
        *(f"{x} = {x}" for x in (*cfg.jobs, *cfg.workers)),
    ]


def trace_module(
    cfg: Config, trace: Sequence[Mapping[str, Any]], name: str = "TraceCheck", silent: int = 0
) -> tuple[str, str]:
    """The text of the trace spec (module `name`) and of its cfg. `silent`: how many unobserved
    Next steps may come before an observed one (a real step the spec takes in several, e.g. a
    commit that sequences two staged jobs); 0 = every observation is one step or a stutter."""
    for x in (*cfg.jobs, *cfg.workers):
        if not _IDENT.match(x):
            raise ValueError(f"model value {x!r} is not a TLA+ identifier")
    rows = []
    for st in trace:
        c = _canonical(cfg, st)
        rows.append("[" + ", ".join(f"{k} |-> {c[k]}" for k in OBSERVED) + "]")
    observed = "\n    /\\ ".join(f"{k} = Trace[i].{k}" for k in OBSERVED)
    observed_next = "\n    /\\ ".join(f"{k}' = Trace[i].{k}" for k in OBSERVED)
    text = f"""---- MODULE {name} ----
\\* A trace of ringq's implementation, written by ringq_proof.tracecheck: is it a behaviour of {SPEC}?
EXTENDS {SPEC}, Sequences, TLC

CONSTANTS {", ".join((*cfg.jobs, *cfg.workers))}

VARIABLES l, k  \\* k: unobserved steps since the last observation

MaxSilent == {silent}

Trace == <<
    {("," + chr(10) + "    ").join(rows)}
>>

Observed(i) ==
    /\\ {observed}

ObservedNext(i) ==
    /\\ {observed_next}

TraceInit == Init /\\ l = 1 /\\ k = 0 /\\ Observed(1)

TraceStep ==
    /\\ l < Len(Trace)
    /\\ Next \\/ UNCHANGED vars
    /\\ l' = l + 1
    /\\ k' = 0
    /\\ ObservedNext(l + 1)

SilentStep ==
    /\\ l < Len(Trace)
    /\\ k < MaxSilent
    /\\ Next
    /\\ l' = l
    /\\ k' = k + 1

TraceNext == TraceStep \\/ SilentStep

TraceSpec == TraceInit /\\ [][TraceNext]_<<vars, l, k>>

\\* violated exactly when the whole trace is matched by a behaviour of {SPEC}
TraceMatched == l < Len(Trace)
====
"""
    cfg_text = "SPECIFICATION TraceSpec\nCONSTANTS\n    " + "\n    ".join(_constants(cfg))
    cfg_text += "\nINVARIANT TraceMatched\nCHECK_DEADLOCK FALSE\n"
    return text, cfg_text


def _run(
    cfg: Config, trace: Sequence[Mapping[str, Any]], workdir: Path, silent: int = 0
) -> tuple[bool, int, float, str]:
    text, cfg_text = trace_module(cfg, trace, silent=silent)
    (workdir / "TraceCheck.tla").write_text(text)
    (workdir / "TraceCheck.cfg").write_text(cfg_text)
    result = tlacheck.check(workdir / "TraceCheck.tla", workdir / "TraceCheck.cfg", backend="builtin")
    if result.outcome == "error":
        raise RuntimeError(f"tlacheck could not check the trace spec: {result.error_kind}: {result.message}")
    matched = result.outcome == "invariant_violated" and result.violated == "TraceMatched"
    return matched, result.distinct_states, result.elapsed_s, result.message


def check_trace(
    cfg: Config, trace: Sequence[Mapping[str, Any]], spec_dir: Path | None = None, silent: int = 0
) -> TraceVerdict:
    """Is `trace` (observed states, the initial one first) a behaviour of SegmentedStorage
    (with up to `silent` unobserved steps before each observed one)?"""
    src = (spec_dir or correctness_dir() / "storage") / f"{SPEC}.tla"
    with tempfile.TemporaryDirectory(prefix="ringq-trace-") as tmp:
        work = Path(tmp)
        shutil.copy(src, work / src.name)
        if len(trace) < 2:
            ok, states, secs, _ = _run(cfg, [*trace, *trace], work, silent)  # Init + a stutter
            return TraceVerdict(ok, len(trace), len(trace) if ok else 0, states, secs)
        ok, states, secs, _ = _run(cfg, trace, work, silent)
        if ok:
            return TraceVerdict(True, len(trace), len(trace), states, secs)
        lo, hi = 1, len(trace) - 1  # longest matched prefix: matched(lo) assumed, matched(hi + 1) false
        total = secs
        if not _run(cfg, [trace[0], trace[0]], work, silent)[0]:
            return TraceVerdict(
                False, len(trace), 0, states, total, "the initial state is not the spec's Init"
            )
        while lo < hi:
            mid = (lo + hi + 1) // 2
            good, _, s, _ = _run(cfg, trace[:mid] if mid >= 2 else [trace[0], trace[0]], work, silent)
            total += s
            lo, hi = (mid, hi) if good else (lo, mid - 1)
        return TraceVerdict(
            False,
            len(trace),
            lo,
            states,
            total,
            f"state {lo + 1} of {len(trace)} does not follow from state {lo} by any Next step of {SPEC}",
        )


@dataclass
class ReplayValidation:
    cfg: str
    traces: int
    accepted: int
    states: int  # trace states checked
    seconds: float
    rejected: list[tuple[int, TraceVerdict, list[str]]]  # (path, verdict, labels)

    @property
    def ok(self) -> bool:
        return self.accepted == self.traces and self.traces > 0

    def summary(self) -> str:
        out = (
            f"{self.accepted}/{self.traces} traces of {self.cfg} ({self.states} observed states, "
            f"stutters included) are behaviours of {SPEC}.tla (tlacheck, {self.seconds:.1f} s)"
        )
        for path, v, labels in self.rejected[:3]:
            step = labels[v.matched] if v.matched < len(labels) else "?"
            out += f"\n  path {path}: {v.message} ({step}); path: {' ; '.join(labels[1:])}"
        return out


def validate_replay(cfg_name: str, database_url: str, *, max_paths: int | None = 40) -> ReplayValidation:
    """Replay `cfg_name`'s covering paths (the first `max_paths`) on the database, recording the
    abstraction after every real step (and after every transaction killed before COMMIT), and
    check each recorded trace against the spec with tlacheck."""
    import time

    from ringq_proof.exhaustive.replay import run_exhaustive
    from ringq_proof.model import load_config

    cfg = load_config(cfg_name)
    report = run_exhaustive(cfg_name, database_url, record=True, max_paths=max_paths, stop_on_failure=False)
    started = time.perf_counter()
    rejected = []
    accepted = states = 0
    for t in report.traces:
        v = check_trace(cfg, t.states)
        states += len(t.states)
        if v.ok:
            accepted += 1
        else:
            rejected.append((t.path, v, t.labels))
    return ReplayValidation(
        cfg_name, len(report.traces), accepted, states, time.perf_counter() - started, rejected
    )
