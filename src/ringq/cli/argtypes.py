"""argparse value types that reject bad input with a one-line usage error."""

from __future__ import annotations

import argparse
import math


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be positive: {text}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text}")
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number: {text}")
    return value


def port(text: str) -> int:
    """A TCP port to listen on: 1..65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number (1..65535): {text}")
    return value


def slots(text: str) -> int:
    """A ring's slot count: an integer of at least 2."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be at least 2: {text}")
    return value


def queue_name(text: str) -> str:
    """A queue name as the client accepts it (checked here, not by a worker retrying forever)."""
    from ringq.errors import InvalidInput
    from ringq.validation import check_name

    try:
        return check_name("queue", text)
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def step_names(text: str) -> list[str]:
    """A comma-separated list with at least one name (`--steps ,` is not "every step")."""
    names = [x.strip() for x in text.split(",") if x.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"no step named in {text!r}; see --list")
    return names
