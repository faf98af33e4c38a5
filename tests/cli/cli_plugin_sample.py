"""A stand-in for `ringq_proof.model.cli`: a subcommand group plugged into `ringq` by `register`."""

from __future__ import annotations

import argparse
from typing import Any


def _hello(args: argparse.Namespace) -> int:
    print(f"hello {args.name}")
    return 3


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("hello", help="a plugged-in command")
    p.add_argument("name")
    p.set_defaults(func=_hello)
