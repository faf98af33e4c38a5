"""Exhaustive replay: every transition of the model's graph for a cfg, driven on real PostgreSQL.

    from ringq_proof.exhaustive import run_exhaustive
    report = run_exhaustive("SegmentedStorage_dlq", database_url)
    report.covered, report.total, report.paths, report.elapsed_s

The planner (`plan.py`) enumerates the graph and covers it with paths from the initial state;
two worker processes (one connection set and one schema each) replay the paths. Before each
path the schema is reset to its installed contents (a checkpoint: TRUNCATE + the seed rows,
measured faster than installing a schema per path: see `measure_setup`). After every step the
abstraction of the real schema (`ringq_proof.abstraction`) and the workers' memory must equal
the model's next state (with `doctor`, also every SQL check of `ringq doctor` at the first
visit of a state: off by default, see DOCTOR_FINDING); with `crash_before_commit` every transaction is also killed before
COMMIT once and must leave the abstraction unchanged; at the first visit of a state the
maintenance transactions the model disables there (prune of either ring, rescue) are run and
must change nothing.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import psycopg
from psycopg import sql

from ringq_proof import mutants
from ringq_proof.abstraction import differences
from ringq_proof.exhaustive.driver import (
    TRANSACTIONS,
    Crashed,
    Diverged,
    RingqSystem,
    plan_timing,
    realizable,
)
from ringq_proof.exhaustive.plan import Graph, build_graph, cover
from ringq_proof.model import Config, Model, load_config
from ringq_proof.model.state import State

Label = tuple[str, dict[str, Any]]


@dataclass
class Failure:
    path: int
    step: int  # 0-based index of the step in its path
    action: str
    kind: str  # Refinement | Stutter | Refusal | Error
    message: str
    trace: list[str]


@dataclass
class TraceRecord:
    """What the real system did along one path: action labels and the abstraction after each."""

    path: int
    labels: list[str]
    states: list[dict[str, Any]]  # abstraction + "held", initial state first


@dataclass
class Report:
    cfg: str
    mutant: str | None
    states: int
    total: int  # transitions of the model's graph
    realizable: int
    unrealizable: dict[str, int]
    unreachable: int
    covered: int = 0
    paths: int = 0
    paths_run: int = 0
    steps: int = 0
    crash_checks: int = 0
    refusal_checks: int = 0
    tolerated: int = 0  # steps that differed only by KNOWN_DIVERGENCE
    plan_s: float = 0.0
    elapsed_s: float = 0.0
    workers: int = 2
    failure: Failure | None = None
    traces: list[TraceRecord] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failure is None and self.covered == self.realizable - self.unreachable

    def summary(self) -> str:
        out = (
            f"{self.cfg}: {self.covered}/{self.total} transitions replayed "
            f"({self.realizable - self.unreachable} drivable, {self.total - self.realizable} not drivable), "
            f"{self.states} states, {self.paths_run}/{self.paths} paths, {self.steps} steps, "
            f"{self.crash_checks} crash-before-commit checks, {self.refusal_checks} refusal checks, "
            f"{self.elapsed_s:.1f} s on {self.workers} workers (plan {self.plan_s:.1f} s)"
        )
        if self.tolerated:
            out += f"; {self.tolerated} steps with the known claim-cursor divergence (KNOWN_DIVERGENCE)"
        if self.failure is not None:
            f = self.failure
            out += f"\nDIVERGED ({f.kind}) at step {f.step + 1} {f.action} of path {f.path}: {f.message}"
            out += "\n  path: " + " ; ".join(f.trace)
        return out

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("traces")
        d["ok"] = self.ok
        return d


def label(action: str, params: dict[str, Any]) -> str:
    return f"{action}({', '.join(f'{k}={v!r}' for k, v in sorted(params.items()))})"


def successor(model: Model, s: State, action: str, params: dict[str, Any]) -> State:
    found = {n for a, p, n in model.successors(s) if a == action and p == params}
    if len(found) != 1:
        raise Diverged(f"model: {label(action, params)} has {len(found)} successors")
    return found.pop()


# -- one worker process ----------------------------------------------------------------------

_SYSTEM: RingqSystem | None = None
_MODEL: Model | None = None
_PROBED: set[State] = set()


def _init_worker(url: str, cfg: Config, schema_prefix: str, mutant_name: str | None) -> None:
    global _SYSTEM, _MODEL
    mutant = mutants.get(mutant_name) if mutant_name else None
    _SYSTEM = RingqSystem(url, f"{schema_prefix}_{os.getpid()}", cfg, mutant)
    _MODEL = Model(cfg)
    atexit.register(_SYSTEM.close)


@dataclass
class PathOutcome:
    path: int
    steps: int
    crash_checks: int
    refusal_checks: int
    failure: Failure | None
    trace: TraceRecord | None
    tolerated: int = 0


DOCTOR_FINDING = (
    "with doctor=True the shipped doctor fails on a legal SegmentedStorage_dlq state: "
    "AttemptLimitRespected / attempt_not_counted after Claim, Crash, Tick, Rescue (to the DLQ), "
    "DlqRetry, Claim, Cancel and PruneQueue (the DLQ evidence went with the pruned queue slot, "
    "two claims of attempt 1 remain): pruned history read as a live problem"
)

KNOWN_DIVERGENCE = (
    "claim.sql moves the lane cursor past the cancelled rows that follow the row it claims (its "
    "range ends before the next live row, else at next_seq); the spec's Claim stops right after "
    "the claimed row and passes cancelled rows only when no live row is left. Harmless (only "
    "cancelled rows are passed), tolerated unless strict"
)


def cursor_past_cancelled_only(expected: State, real: dict[str, Any]) -> bool:
    """The only difference is KNOWN_DIVERGENCE: the real cursor is ahead of the model's and every
    ready row it passed in addition is a cancelled one (or gone with its pruned slot)."""
    m, r = expected.lanes, real["lanes"]
    if r.next_seq != m.next_seq or r.claim_seq <= m.claim_seq:
        return False
    if differences(expected._replace(lanes=r), real):
        return False
    cancelled = {c.job for c in expected.cancels}
    return all(x.job in cancelled for x in expected.ready if m.claim_seq <= x.seq < r.claim_seq)


def _check(system: RingqSystem, expected: State, kind: str, where: str, strict: bool = False) -> Any:
    """Raise Diverged unless the real state is `expected`; the real `lanes` when only
    KNOWN_DIVERGENCE differs (else None)."""
    real = system.abstraction()
    diff = differences(expected, real)
    held = system.held_attempts()
    if held != expected.held:
        diff.append(f"held: model {expected.held}, workers {held}")
    if diff and not strict and len(diff) == 1 and cursor_past_cancelled_only(expected, real):
        return real["lanes"]
    if diff:
        raise Diverged(f"{kind}: {where}:\n  " + "\n  ".join(diff))
    return None


def _probe(system: RingqSystem, model: Model, seen: State, doctor: bool) -> None:
    """What the model disables in `seen` the database refuses; with `doctor`, the SQL checks hold."""
    bad = system.probe_refusals(seen, {a for a, _, _ in model.successors(seen)})
    if bad:
        raise Diverged("Refusal: " + "; ".join(bad))
    sick = system.doctor() if doctor else []
    if sick:
        raise Diverged("Doctor: the SQL checks fail on a state the model reaches: " + "; ".join(sick))


def replay_path(
    system: RingqSystem,
    model: Model,
    number: int,
    path: list[Label],
    *,
    crash_before_commit: bool | list[bool] = True,
    probe: bool = True,
    record: bool = False,
    probed: set[State] | None = None,
    strict: bool = False,
    doctor: bool = False,
) -> PathOutcome:
    """Replay one path; `crash_before_commit` per step (a list) or for every step (a bool)."""
    probed = _PROBED if probed is None else probed
    states = [model.init()]
    for action, params in path:
        states.append(successor(model, states[-1], action, params))
    steps = [(a, p, states[i], states[i + 1]) for i, (a, p) in enumerate(path)]
    timing = plan_timing(steps, model.cfg.workers)
    system.reset()
    out = PathOutcome(number, 0, 0, 0, None, TraceRecord(number, [], []) if record else None)
    labels = [label(a, p) for a, p in path]

    def remember(lbl: str) -> None:
        if out.trace is not None:
            real = system.abstraction()
            real["held"] = system.held_attempts()
            out.trace.labels.append(lbl)
            out.trace.states.append(real)

    i = 0
    ahead = None
    try:
        _check(system, states[0], "Refinement", "initial state", strict)
        remember("Init")
        for i, (action, params, before, after) in enumerate(steps):
            # where the real cursor is ahead (KNOWN_DIVERGENCE), the guards are those of its cursor
            seen = before if ahead is None else before._replace(lanes=ahead)
            if probe and seen not in probed:
                probed.add(seen)
                out.refusal_checks += 1
                _probe(system, model, seen, doctor)
            crash_here = (
                crash_before_commit[i] if isinstance(crash_before_commit, list) else crash_before_commit
            )
            if crash_here and action in TRANSACTIONS:
                try:
                    system.apply(action, params, before, after, timing, i, crash=True)
                    raise Diverged(f"{action} was not killed")
                except Crashed:
                    pass
                out.crash_checks += 1
                _check(
                    system,
                    before,
                    "Stutter",
                    f"{labels[i]} killed before COMMIT changed the database",
                    strict,
                )
                remember(f"{labels[i]} killed before COMMIT")
            system.apply(
                action,
                params,
                before,
                after,
                timing,
                i,
                post_check=partial(
                    _check, system, after, "Refinement", f"after {labels[i]} committed", strict
                ),
            )
            ahead = _check(system, after, "Refinement", f"after {labels[i]}", strict)
            out.tolerated += ahead is not None
            remember(labels[i])
            out.steps += 1
    except Diverged as exc:
        kind, _, msg = str(exc).partition(": ")
        if kind not in ("Refinement", "Stutter", "Refusal", "Doctor"):
            kind, msg = "Error", str(exc)
        out.failure = Failure(number, i, labels[i] if labels else "Init", kind, msg, labels[: i + 1])
    except Exception as exc:  # a real step raised where the model has a successor
        out.failure = Failure(
            number,
            i,
            labels[i] if labels else "Init",
            "Error",
            f"{type(exc).__name__}: {exc}",
            labels[: i + 1],
        )
    return out


def _run_chunk(
    chunk: list[tuple[int, list[Label], list[bool]]], probe: bool, record: bool, strict: bool
) -> list[PathOutcome]:
    assert _SYSTEM is not None and _MODEL is not None
    outs = []
    for number, path, crash in chunk:
        o = replay_path(
            _SYSTEM,
            _MODEL,
            number,
            path,
            crash_before_commit=crash,
            probe=probe,
            record=record,
            strict=strict,
        )
        outs.append(o)
        if o.failure is not None:
            break
    return outs


# -- the run -----------------------------------------------------------------------------------


def plan(cfg: Config, max_len: int = 40) -> tuple[Graph, list[list[Label]], list[list[bool]]]:
    """The graph, the covering paths, and per step whether it is its edge's first appearance
    (where the crash-before-commit check runs: each transition's crash point once)."""
    graph = build_graph(Model(cfg), realizable)
    paths = cover(graph, max_len)
    labelled = [[(graph.edges[e].action, dict(graph.edges[e].params)) for e in p] for p in paths]
    seen: set[int] = set()
    first: list[list[bool]] = []
    for p in paths:
        first.append([e not in seen for e in p])
        seen.update(p)
    return graph, labelled, first


def _chunks(
    paths: list[list[Label]], crash: list[list[bool]], size: int
) -> Iterator[list[tuple[int, list[Label], list[bool]]]]:
    numbered = [(i, p, crash[i]) for i, p in enumerate(paths)]
    for k in range(0, len(numbered), size):
        yield numbered[k : k + size]


def run_exhaustive(
    cfg_name: str | Config,
    database_url: str,
    *,
    mutant: str | None = None,
    workers: int = 2,
    crash_before_commit: bool = True,
    probe: bool = True,
    record: bool = False,
    max_len: int = 40,
    max_paths: int | None = None,
    stop_on_failure: bool = True,
    strict: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Replay every drivable transition of `cfg_name`'s graph on `database_url`."""
    cfg = load_config(cfg_name) if isinstance(cfg_name, str) else cfg_name
    name = cfg_name if isinstance(cfg_name, str) else "config"
    t0 = time.perf_counter()
    graph, paths, first = plan(cfg, max_len)
    if max_paths is not None:
        paths = paths[:max_paths]
    crash = [[c and crash_before_commit for c in f] for f in first]
    report = Report(
        name,
        mutant,
        len(graph.states),
        graph.total,
        len(graph.edges),
        dict(graph.unrealizable),
        graph.unreachable,
        paths=len(paths),
        workers=workers,
        plan_s=time.perf_counter() - t0,
    )
    prefix = f"xr_{uuid.uuid4().hex[:8]}"
    ctx = multiprocessing.get_context("spawn")
    outcomes: list[PathOutcome] = []
    chunk = max(1, min(50, len(paths) // (workers * 8) or 1))
    try:
        with ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_init_worker, initargs=(database_url, cfg, prefix, mutant)
        ) as pool:
            pending: set[Future[list[PathOutcome]]] = {
                pool.submit(_run_chunk, c, probe, record, strict) for c in _chunks(paths, crash, chunk)
            }
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    outcomes += f.result()
                if progress is not None:
                    progress(len(outcomes), len(paths))
                if stop_on_failure and any(o.failure for o in outcomes):
                    # chunks run in submission order: cancel the ones not started, finish the
                    # running ones, so the first failing path reported is the same on every run
                    for f in pending:
                        f.cancel()
                    for f in pending:
                        if not f.cancelled():
                            outcomes += f.result()
                    break
    finally:
        _drop_schemas(database_url, prefix)
    outcomes.sort(key=lambda o: o.path)
    failures = [o.failure for o in outcomes if o.failure is not None]
    report.failure = failures[0] if failures else None
    report.paths_run = len(outcomes)
    report.steps = sum(o.steps for o in outcomes)
    report.crash_checks = sum(o.crash_checks for o in outcomes)
    report.refusal_checks = sum(o.refusal_checks for o in outcomes)
    report.tolerated = sum(o.tolerated for o in outcomes)
    report.traces = [o.trace for o in outcomes if o.trace is not None]
    report.covered = _covered(graph, cfg, paths, outcomes)
    report.elapsed_s = time.perf_counter() - t0
    return report


def _covered(graph: Graph, cfg: Config, paths: list[list[Label]], outcomes: list[PathOutcome]) -> int:
    """Distinct graph edges taken by the steps that ran and matched the model."""
    index = {s: i for i, s in enumerate(graph.states)}
    keys = {(e.src, e.action, e.params, e.dst) for e in graph.edges}
    model = Model(cfg)
    seen: set[tuple[int, str, tuple[tuple[str, Any], ...], int]] = set()
    for o in outcomes:
        s = model.init()
        for action, params in paths[o.path][: o.steps]:
            n = successor(model, s, action, params)
            key = (index[s], action, tuple(sorted(params.items())), index[n])
            if key in keys:
                seen.add(key)
            s = n
    return len(seen)


def _drop_schemas(url: str, prefix: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (prefix + "_%",)
        ).fetchall()
        for (n,) in rows:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(n)))


def measure_setup(database_url: str, cfg: Config, n: int = 10) -> dict[str, float]:
    """Seconds per path of the two ways to start from a fresh schema: install a new one (and drop
    it), or reset one installed schema to its seed rows (what `run_exhaustive` does)."""
    prefix = f"xm_{uuid.uuid4().hex[:8]}"
    system = RingqSystem(database_url, f"{prefix}_reset", cfg)
    try:
        t = time.perf_counter()
        for _ in range(n):
            system.reset()
        reset = (time.perf_counter() - t) / n
        t = time.perf_counter()
        for k in range(n):
            other = RingqSystem(database_url, f"{prefix}_{k}", cfg)
            other.close()
        fresh = (time.perf_counter() - t) / n
    finally:
        system.close()
        _drop_schemas(database_url, prefix)
    return {"install_per_path_s": fresh, "reset_per_path_s": reset}
