"""Hypothesis settings of the stateful suites: `ci` (default suite), `deep`, `mutants`.

Pick one with `--hypothesis-profile=<name>` (once tests/conftest.py registers these names, see
docs/stateful.md) or with RINGQ_STATEFUL_PROFILE=<name>; anything else runs `ci`.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, Verbosity, settings

COMMON: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    "print_blob": True,
    "verbosity": Verbosity.normal,
}

PROFILES: dict[str, dict[str, Any]] = {
    # default suite: derandomised (same examples every run), about a minute on an idle 2-core box
    "ci": {"max_examples": 30, "stateful_step_count": 30, "derandomize": True, "database": None},
    # long runs: random seeds, failures saved to the example database (.hypothesis/)
    "deep": {"max_examples": 1000, "stateful_step_count": 60},
    # scripts/mutants.py: enough examples to find every mutant, deterministic
    "mutants": {"max_examples": 250, "stateful_step_count": 40, "derandomize": True, "database": None},
}


def register() -> None:
    """Register `deep` and `mutants` (for --hypothesis-profile). `ci` is NOT registered under
    that name: Hypothesis ships a built-in `ci` profile (100 examples x 50 steps), which
    `chosen()` deliberately does not use."""
    for name in ("deep", "mutants"):
        settings.register_profile(name, **COMMON, **PROFILES[name])


def chosen() -> settings:
    """RINGQ_STATEFUL_PROFILE (ci | deep | mutants), else the loaded Hypothesis profile when it is
    `deep` or `mutants`, else `ci` — always with this module's values."""
    name = os.environ.get("RINGQ_STATEFUL_PROFILE") or settings.get_current_profile_name()
    if name not in PROFILES:
        name = "ci"
    values = dict(PROFILES[name])
    # long soaks: RINGQ_STATEFUL_EXAMPLES=5000 with the deep profile runs until that many examples
    if os.environ.get("RINGQ_STATEFUL_EXAMPLES"):
        values["max_examples"] = int(os.environ["RINGQ_STATEFUL_EXAMPLES"])
    return settings(**COMMON, **values)
