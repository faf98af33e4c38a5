"""The `ringq` command (entry point `ringq.cli:main`)."""

from ringq.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
