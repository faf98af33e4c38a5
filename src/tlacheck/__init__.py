"""tlacheck: check TLA+ specs with TLC where it exists and a built-in checker everywhere.

>>> import tlacheck
>>> result = tlacheck.check("Spec.tla", backend="builtin")  # doctest: +SKIP
>>> result.outcome, result.distinct_states, result.exit_code  # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version

from tlacheck.api import BackendUnavailable, check, resolve_backend
from tlacheck.result import EXIT_CODES, CheckResult, TraceStep


def _version() -> str:
    try:
        return _dist_version("ringq")  # tlacheck ships in the ringq distribution
    except PackageNotFoundError:
        return "0+unknown"


# `tlacheck --version` prints it; `ringq --version` can print the same string.
__version__ = _version()

__all__ = [
    "EXIT_CODES",
    "BackendUnavailable",
    "CheckResult",
    "TraceStep",
    "__version__",
    "check",
    "resolve_backend",
]
