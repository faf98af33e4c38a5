"""Long chaos run: worker processes, producer, maintenance rotating/pruning every ~150 ms and
retrying/purging dead-lettered jobs (workers dead-letter some failures), random SIGKILLs and
backend terminations; then the execution-log checker and the SQL invariants.

    .venv/bin/python scripts/soak.py --seconds 600 --workers 4
    RINGQ_MUTANT=finalize_no_fence .venv/bin/python scripts/soak.py --seconds 60

Exit status 0 when nothing was lost, duplicated or unexpected and every invariant holds.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from ringq.embedded import database_url
from ringq_proof import mutants
from stateful.chaos import run_chaos  # type: ignore[import-not-found]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--seconds", type=float, default=300.0, help="chaos duration")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--lease", type=float, default=1.0, help="lease seconds (short: rescues happen)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--drain-seconds", type=float, default=60.0)
    p.add_argument("--keep-schema", action="store_true", help="leave the schema for `ringq doctor`")
    p.add_argument(
        "--no-dlq-ops", action="store_true", help="no DLQ retry/purge (and no dead-lettering by workers)"
    )
    args = p.parse_args(argv)
    url = os.environ.get("RINGQ_DATABASE_URL") or database_url()
    result = run_chaos(
        url,
        seconds=args.seconds,
        workers=args.workers,
        lease=args.lease,
        seed=args.seed,
        drain_seconds=args.drain_seconds,
        mutant=mutants.from_env(),
        keep_schema=args.keep_schema,
        dlq_ops=not args.no_dlq_ops,
    )
    print(result.summary())
    print("OK" if result.ok else "FAILED")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
