"""tlacheck: check TLA+ specs with TLC where it exists and a built-in checker everywhere.

>>> import tlacheck
>>> result = tlacheck.check("Spec.tla", backend="builtin")  # doctest: +SKIP
>>> result.outcome, result.distinct_states, result.exit_code  # doctest: +SKIP
"""

from tlacheck.api import BackendUnavailable, check, resolve_backend
from tlacheck.result import EXIT_CODES, CheckResult, TraceStep

__all__ = ["EXIT_CODES", "BackendUnavailable", "CheckResult", "TraceStep", "check", "resolve_backend"]
