"""`ringq verify`: a registry of named verification steps, run in order, summarised as a table/JSON.

A step is a function taking a `VerifyContext` and returning a `StepOutcome`; register it with
`@step("name", "what it checks")`. Modules listed in `STEP_MODULES` are imported when present, so
other packages (spec suite, model conformance, stateful tests) add steps without touching this
file beyond one line there.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ringq.errors import InvalidInput

# Optional modules that register more steps on import (missing ones are skipped).
STEP_MODULES: tuple[str, ...] = ("ringq_proof.model.verify_steps", "ringq_proof.verify_steps")

DEMO_JOBS = 2000
DEMO_WORKERS = 2


@dataclass(frozen=True)
class StepOutcome:
    ok: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepResult:
    name: str
    ok: bool
    summary: str
    seconds: float
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "summary": self.summary,
            "seconds": round(self.seconds, 3),
            "details": self.details,
        }


@dataclass
class VerifyContext:
    """What steps share: the database (resolved lazily, so steps without one never start a server)."""

    database_url_option: str | None = None
    embedded_data_dir: Path = Path(".ringq/pg")

    @cached_property
    def database_url(self) -> str:
        if self.database_url_option:
            return self.database_url_option
        from ringq.embedded import database_url

        return database_url(self.embedded_data_dir)


StepFn = Callable[[VerifyContext], StepOutcome]


@dataclass(frozen=True)
class Step:
    name: str
    description: str
    run: StepFn
    default: bool = True  # part of a plain `ringq verify`
    order: int = 50  # steps run in ascending order: cheap proofs first, the demo last


_STEPS: dict[str, Step] = {}


def step(name: str, description: str, *, default: bool = True, order: int = 50) -> Callable[[StepFn], StepFn]:
    def register(fn: StepFn) -> StepFn:
        if name in _STEPS:
            raise InvalidInput(f"verify step {name!r} is already registered")
        _STEPS[name] = Step(name, description, fn, default, order)
        return fn

    return register


def _load_plugins() -> None:
    for module in STEP_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module.startswith(exc.name):
                raise


def registered_steps() -> list[Step]:
    _load_plugins()
    return sorted(_STEPS.values(), key=lambda s: s.order)


def select(names: Sequence[str] | None) -> list[Step]:
    steps = registered_steps()
    if not names:
        return [s for s in steps if s.default]
    by_name = {s.name: s for s in steps}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise InvalidInput(f"unknown verify step(s): {', '.join(unknown)} (known: {', '.join(by_name)})")
    return [by_name[n] for n in names]


def run_step(s: Step, ctx: VerifyContext) -> StepResult:
    started = time.monotonic()
    try:
        outcome = s.run(ctx)
    except Exception as exc:  # a crashing step is a failed step, reported like the others
        outcome = StepOutcome(False, f"{type(exc).__name__}: {exc}")
    return StepResult(s.name, outcome.ok, outcome.summary, time.monotonic() - started, outcome.details)


@step(
    "demo",
    f"{DEMO_JOBS} no-op jobs through {DEMO_WORKERS} worker processes: each completed exactly once",
    order=90,
)
def demo_step(ctx: VerifyContext) -> StepOutcome:
    from ringq_proof.demo import run_demo

    result = run_demo(ctx.database_url, jobs=DEMO_JOBS, workers=DEMO_WORKERS, timeout=300)
    summary = (
        f"{result.completed}/{result.jobs} completed, {result.duplicates} duplicate(s), {result.missing} lost; "
        f"{result.jobs_per_second:.0f} jobs/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms"
    )
    return StepOutcome(result.ok, summary, result.as_dict())
