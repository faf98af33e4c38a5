"""Where the ringq source checkout is: the one place the toolkit looks for specs and tests.

The proof toolkit reads files that a wheel does not ship (`correctness/` specs and cfgs,
`tests/stateful`): it needs a source checkout. `checkout()` finds it once, the same way for
every caller, and fails with one clear error otherwise.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from ringq.errors import RingqError

ENV_CHECKOUT = "RINGQ_CHECKOUT"
_MARKER = Path("correctness") / "suite.toml"


class CheckoutNotFound(RingqError):
    """No ringq source checkout (with correctness/ and tests/) could be found."""


def _is_checkout(d: Path) -> bool:
    return (d / _MARKER).is_file() and (d / "src" / "ringq_proof").is_dir()


@cache
def checkout() -> Path:
    """The ringq source checkout: $RINGQ_CHECKOUT, else the one this package was loaded from
    (an editable install), else the nearest one above the working directory."""
    env = os.environ.get(ENV_CHECKOUT)
    if env:
        root = Path(env).resolve()
        if not _is_checkout(root):
            raise CheckoutNotFound(f"${ENV_CHECKOUT}={env} is not a ringq source checkout (no {_MARKER})")
        return root
    beside = Path(__file__).resolve().parents[2]
    if _is_checkout(beside):
        return beside
    here = Path.cwd().resolve()
    for d in (here, *here.parents):
        if _is_checkout(d):
            return d
    raise CheckoutNotFound(
        f"this needs a ringq source checkout (with {_MARKER}); run it inside one or set ${ENV_CHECKOUT}"
    )


def correctness_dir() -> Path:
    return checkout() / "correctness"


def storage_cfg_dir() -> Path:
    return correctness_dir() / "storage"
