"""`ringq verify` step: explore the storage model on every shipped cfg.

Passing cfgs must hold every invariant (and EventuallyTerminal where listed); each broken cfg
must violate the one invariant it lists. Spec equality is the test suite's job
(tests/model/test_conformance.py), which needs the much slower built-in TLA+ checker.
"""

from __future__ import annotations

from ringq_proof.model.config import available_configs, load_config
from ringq_proof.model.core import Model
from ringq_proof.model.explore import explore
from ringq_proof.model.liveness import PROPERTIES
from ringq_proof.verify import StepOutcome, VerifyContext, step


@step("model", "storage model: passing cfgs hold, each broken cfg violates its named invariant")
def verify_model(ctx: VerifyContext) -> StepOutcome:
    rows: dict[str, str] = {}
    failures: list[str] = []
    for name in available_configs():
        cfg = load_config(name)
        model = Model(cfg)
        r = explore(model)
        if cfg.bugs:
            expected = cfg.invariants[-1]
            rows[name] = f"{r.violated} (trace {len(r.trace)})"
            if r.violated != expected:
                failures.append(f"{name}: expected {expected} violated, got {r.violated}")
            continue
        verdicts = [PROPERTIES[p](model) for p in cfg.properties]
        rows[name] = f"ok, {r.distinct} states"
        if r.violated is not None or any(v is not None for v in verdicts):
            failures.append(f"{name}: {r.violated or next(v for v in verdicts if v)}")
    if failures:
        return StepOutcome(False, "; ".join(failures), rows)
    return StepOutcome(True, f"{len(rows)} cfgs as expected", rows)
