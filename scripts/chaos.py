"""Long-run chaos driver: `python scripts/chaos.py [pytest -k expression]`.

Runs tests/chaos with the long variants (RINGQ_CHAOS_LONG=1: minutes per test, more kills, longer
held snapshots, 400 Hypothesis examples per fuzz test), then prints the figures every test wrote
to .ringq/chaos-figures.json. Needs no RINGQ_DATABASE_URL: each module starts its own server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / ".ringq" / "chaos-figures.json"


def main(argv: list[str]) -> int:
    cmd = [sys.executable, "-m", "pytest", "tests/chaos", "-m", "chaos", "-q", "-p", "no:cacheprovider"]
    if argv:
        cmd += ["-k", " ".join(argv)]
    env = {**os.environ, "RINGQ_CHAOS_LONG": "1"}
    code = subprocess.call(cmd, cwd=ROOT, env=env)
    if FIGURES.exists():
        data = json.loads(FIGURES.read_text())
        for test, figures in sorted(data.items()):
            if test.endswith("[long]"):
                print(f"\n{test}")
                for key, value in sorted(figures.items()):
                    print(f"  {key}: {value}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
