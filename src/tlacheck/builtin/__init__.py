"""tlacheck's built-in, pure-Python TLA+ model checker.

Entry points: `run()` (model-check a spec with its cfg, TLC-compatible counts and verdicts),
`explore()` (the reachable state space in canonical form, for comparing a Python model with
the spec) and `parse_module()` (names declared and defined by a module).

Pipeline: syntax.py (tree-sitter-tlaplus -> modules) -> compiler.py (expressions to closures,
Init/Next to continuation-passing enumerators with TLC's semantics) -> model.py (cfg + spec
-> init/next/invariants/properties/fairness) -> checker.py (BFS, TLC counting, traces) ->
liveness.py (fair-SCC search on the behaviour graph, temporal.py formulas).

Storage: like TLC, only a 64-bit fingerprint per distinct state (fingerprint.py) plus a
parent index is kept; full states live only in the current and next BFS level (spilled to
disk beyond a bound), traces are rebuilt by re-execution. `workers > 1` forks worker
processes per BFS level (parallel.py) with the one-process counts.

Known differences from TLC: Python equality conflates TRUE/1 and FALSE/0 while evaluating
(TLC reports an error when comparing them; specs that never mix them are unaffected).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tlacheck.builtin.cfg import Config, ConfigError, parse_cfg
from tlacheck.builtin.checker import Explorer, Progress, Violation, result_from_violation
from tlacheck.builtin.compiler import Found
from tlacheck.builtin.errortrace import ErrorTrace
from tlacheck.builtin.liveness import LivenessChecker
from tlacheck.builtin.model import Model, build_model, check_assumptions
from tlacheck.builtin.parallel import run_parallel, unsupported_reason
from tlacheck.builtin.scope import SemanticError, Unsupported
from tlacheck.builtin.semantic import check_spec
from tlacheck.builtin.syntax import TLASyntaxError, parse_file
from tlacheck.builtin.values import EvalError, to_canonical
from tlacheck.canonical import CanonState
from tlacheck.result import CheckResult

__all__ = ["ModuleInfo", "Progress", "StateSpace", "explore", "parse_module", "run"]


@dataclass
class ModuleInfo:
    name: str
    extends: list[str]
    constants: list[str]
    variables: list[str]
    definitions: list[str]
    instances: list[str] = field(default_factory=list)


def parse_module(path: Path) -> ModuleInfo:
    """Names a module declares and defines (its own, not those of modules it extends)."""
    m = parse_file(Path(path))
    defs: list[str] = []
    insts: list[str] = []
    for kind, node, _local in m.units:
        if kind in ("operator_definition", "function_definition", "module_definition"):
            defs.append(m.text(node.child_by_field_name("name")))
        if kind == "module_definition" or kind == "instance":
            inst = node.child_by_field_name("definition") if kind == "module_definition" else node
            ks = [c for c in inst.named_children if c.type == "identifier_ref"]
            if ks:
                insts.append(m.text(ks[0]))
    return ModuleInfo(
        name=m.name,
        extends=list(m.extends),
        constants=[c for c, _, _ in m.constants],
        variables=list(m.variables),
        definitions=defs,
        instances=insts,
    )


@dataclass
class StateSpace:
    init: list[CanonState]
    states: dict[int, CanonState]
    edges: list[tuple[int, int, str]]


def _config_path(spec: Path, config: Path | None) -> Path:
    return Path(config) if config is not None else spec.with_suffix(".cfg")


def _load(spec: Path, config: Path | None) -> Model:
    check_spec(spec)  # SANY-like: unknown identifiers anywhere, module/file name (exit 150)
    cfg_path = _config_path(spec, config)
    cfg: Config = parse_cfg(cfg_path)
    return build_model(spec, cfg)


def _error(kind: str, message: str, t0: float, ex: Explorer | None = None) -> CheckResult:
    r = CheckResult(outcome="error", error_kind=kind, message=message, elapsed_s=time.monotonic() - t0)
    if ex is not None:
        r.states_generated = ex.generated
        r.distinct_states = len(ex.seen)
        r.depth = ex.depth
    return r


def run(
    spec: Path,
    config: Path | None = None,
    *,
    workers: int = 1,
    max_states: int | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> CheckResult:
    """Model-check `spec` with `config` (default: SPEC.cfg beside it), counting like TLC.

    `workers > 1` explores each BFS level with that many forked processes (parallel.py) with
    exactly the one-process counts, verdicts and traces; where that is unsupported
    (liveness) it runs in one process and says so in a `Warning:` line of the message."""
    info: dict[str, Any] = {"workers": 1, "note": None}
    r = _run(spec, config, workers, max_states, progress, info)
    r.workers = info["workers"]
    if info["note"]:
        r.message = f"{r.message}\n{info['note']}" if r.message else info["note"]
    return r


def _run(
    spec: Path,
    config: Path | None,
    workers: int,
    max_states: int | None,
    progress: Callable[[Progress], None] | None,
    info: dict[str, Any],
) -> CheckResult:
    t0 = time.monotonic()
    spec = Path(spec)
    ex: Explorer | None = None
    etrace: ErrorTrace | None = None
    try:
        model = _load(spec, config)
        failed = check_assumptions(model)
        if failed is not None:
            return CheckResult(
                outcome="assumption_failed",
                violated=failed[0],
                message=failed[1],
                elapsed_s=time.monotonic() - t0,
            )
        if model.init is None:
            return CheckResult(
                outcome="ok",
                message="No behaviour to check; assumptions hold.",
                elapsed_s=time.monotonic() - t0,
            )
        ex = Explorer(model)
        etrace = ErrorTrace(ex) if workers <= 1 else None
        if workers > 1:
            reason = unsupported_reason(ex)
            if reason is None:
                info["workers"] = workers
            else:
                info["note"] = f"Warning: {workers} workers requested, but {reason}: checked with 1 worker."
        try:
            if info["workers"] > 1:
                stopped = run_parallel(ex, workers, max_states=max_states, progress=progress)
            else:
                stopped = ex.run(max_states=max_states, progress=progress)
            if stopped is not None:
                r = CheckResult(
                    outcome="error",
                    error_kind="max_states",
                    message=f"stopped after {len(ex.seen)} distinct states (max_states)",
                    states_generated=ex.generated,
                    distinct_states=len(ex.seen),
                    depth=ex.depth,
                    elapsed_s=time.monotonic() - t0,
                    states_left_on_queue=ex.queue_len,
                )
                return r
            if model.liveness:
                LivenessChecker(ex).check()
        except Violation as v:
            return result_from_violation(ex, v, time.monotonic() - t0)
        return CheckResult(
            outcome="ok",
            states_generated=ex.generated,
            distinct_states=len(ex.seen),
            depth=ex.depth,
            message="Model checking completed. No error has been found.",
            elapsed_s=time.monotonic() - t0,
        )
    except TLASyntaxError as e:
        return _error(e.kind, str(e), t0, ex)
    except ConfigError as e:
        return _error("config", str(e), t0, ex)
    except Unsupported as e:
        return _error("unsupported", str(e), t0, ex)
    except SemanticError as e:
        kind = e.args[1] if len(e.args) > 1 else "semantic"
        return _error(kind, str(e.args[0]), t0, ex)
    except EvalError as e:
        r = _error(e.kind if etrace is None else etrace.error_kind(e), str(e), t0, ex)
        if etrace is not None:
            r.trace = etrace.trace()  # TLC prints the behaviour up to the error
        return r
    except Found:
        return _error("runtime", "internal: stray ENABLED witness", t0, ex)
    except RecursionError:
        return _error("runtime", "recursion too deep while evaluating the spec", t0, ex)
    except Exception as e:  # an internal bug must still produce a result, never a silent count
        import traceback

        tb = traceback.extract_tb(e.__traceback__)[-1]
        return _error("internal", f"internal error {e!r} at {tb.filename}:{tb.lineno}", t0, ex)


def explore(spec: Path, config: Path | None = None, *, max_states: int | None = None) -> StateSpace:
    """The reachable state space (constraints applied) with canonical states, keyed by fingerprint.

    Raises on any error (parse, config, evaluation, or a safety violation, which ends exploration
    the same way it ends TLC's).
    """
    spec = Path(spec)
    model = _load(spec, config)
    ex = Explorer(model, keep_graph=True)
    ex.run(max_states=max_states)
    g = ex.graph
    canon = [CanonState({v: to_canonical(x) for v, x in zip(ex.vars, st, strict=True)}) for st in g.states]
    fps = [hash(cs) for cs in canon]
    states = {fps[i]: canon[i] for i in range(len(canon))}
    edges: list[tuple[int, int, str]] = []
    for i, st in enumerate(g.states):
        for label, t in ex.successors(st):
            kt = ex.key(t)
            j = g.index.get(kt)
            if j is not None:
                edges.append((fps[i], fps[j], label or "Next"))
    return StateSpace(init=[canon[i] for i in g.init], states=states, edges=edges)


def _unused(*_: Any) -> None:
    return None
