"""`ringq verify --exhaustive CFG`: exhaustive replay of one cfg as a verify step."""

from __future__ import annotations

from functools import partial

from ringq_proof.exhaustive.replay import run_exhaustive
from ringq_proof.verify import Step, StepOutcome, VerifyContext


def _run(cfg: str, mutant: str | None, ctx: VerifyContext) -> StepOutcome:
    report = run_exhaustive(cfg, ctx.database_url, mutant=mutant)
    return StepOutcome(report.ok, report.summary(), report.as_dict())


def exhaustive_step(cfg: str, mutant: str | None = None) -> Step:
    """A verify step (not registered: built for the `--exhaustive CFG` option)."""
    return Step(
        f"exhaustive:{cfg}",
        f"every transition of {cfg}'s model graph replayed on real PostgreSQL",
        partial(_run, cfg, mutant),
        default=False,
        order=65,
    )
