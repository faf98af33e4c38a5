#!/usr/bin/env bash
# Check TLA+ specs with tlacheck (TLC when tla2tools.jar is available, the built-in checker
# otherwise).
#
#   ./correctness/run-tlc.sh                      run the whole suite (correctness/suite.toml),
#                                                 compare outcomes and state counts, print a table
#   ./correctness/run-tlc.sh --record             same, then write the new counts to suite.toml
#   ./correctness/run-tlc.sh --only LockOrder     run the entries of one spec (or SPEC:CFG)
#   ./correctness/run-tlc.sh SPEC.tla [CFG]       check one spec (CFG defaults to SPEC.cfg)
#
# Exit status: 0 when everything matches (or the single spec passes), non-zero otherwise.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

if [ -x "$root/.venv/bin/python" ]; then
  py="$root/.venv/bin/python"
else
  py="$(command -v python3)"
fi

# A fresh clone without `pip install -e .`: import tlacheck from the source tree.
export PYTHONPATH="$root/src${PYTHONPATH:+:$PYTHONPATH}"
export TLACHECK_SUITE_DIR="${TLACHECK_SUITE_DIR:-$here}"
exec "$py" -m tlacheck.suite "$@"
