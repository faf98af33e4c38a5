"""The one error type CLI commands raise for a user mistake: printed as a single line, exit 1."""

from __future__ import annotations


class CliError(Exception):
    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
