"""ringq benchmark harness: adapters for ringq and its peers, scenarios, reporting.

`scripts/bench.py` is the command line; this package holds everything it runs so the
pieces can be imported (and smoke-tested) on their own.
"""
