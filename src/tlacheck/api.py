"""``tlacheck.check``: pick a backend (TLC subprocess or built-in checker) and run it."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol

from tlacheck import tlc
from tlacheck.result import CheckResult

Backend = Literal["auto", "tlc", "builtin"]
BACKENDS: tuple[str, ...] = ("auto", "tlc", "builtin")


class ProgressReport(Protocol):
    """What a progress callback receives from either backend."""

    @property
    def distinct(self) -> int: ...
    @property
    def generated(self) -> int: ...
    @property
    def queue(self) -> int: ...
    @property
    def depth(self) -> int: ...
    @property
    def elapsed_s(self) -> float: ...


ProgressCallback = Callable[[Any], None]


class BackendUnavailable(RuntimeError):
    """The requested backend cannot run here; the message says what is missing."""


def resolve_backend(backend: str) -> Literal["tlc", "builtin"]:
    """``auto`` means TLC when a jar exists and java runs, else the built-in checker."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "tlc":
        if not tlc.available():
            raise BackendUnavailable(tlc.unavailable_reason())
        return "tlc"
    if backend == "builtin":
        return "builtin"
    return "tlc" if tlc.available() else "builtin"


def _builtin_run() -> Callable[..., CheckResult]:
    # Imported lazily: the built-in checker is large and TLC users never need it.
    try:
        module = importlib.import_module("tlacheck.builtin")
        run: Callable[..., CheckResult] = module.run
        return run
    except (ImportError, AttributeError) as exc:
        raise BackendUnavailable(f"the built-in checker is not available: {exc}") from exc


def check(
    spec: str | Path,
    config: str | Path | None = None,
    backend: Backend | str = "auto",
    workers: int = 1,
    max_states: int | None = None,
    progress: ProgressCallback | None = None,
) -> CheckResult:
    """Model-check `spec` (a .tla file) with `config` (default: the .cfg beside it).

    Raises FileNotFoundError for a missing spec or config, ValueError for bad arguments and
    BackendUnavailable when the chosen backend cannot run. Everything the checker itself
    finds (violations, parse and config errors) comes back as a CheckResult.
    """
    spec_path = Path(spec)
    if not spec_path.is_file():
        raise FileNotFoundError(f"spec file not found: {spec_path}")
    cfg_path = Path(config) if config is not None else None
    if cfg_path is not None and not cfg_path.is_file():
        raise FileNotFoundError(f"config file not found: {cfg_path}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if max_states is not None and max_states < 1:
        raise ValueError(f"max_states must be positive, got {max_states}")
    chosen = resolve_backend(backend)
    if chosen == "tlc":
        try:
            return tlc.run(spec_path, cfg_path, workers=workers, max_states=max_states, progress=progress)
        except tlc.TLCUnavailable as exc:
            raise BackendUnavailable(str(exc)) from exc
    result = _builtin_run()(spec_path, cfg_path, workers=workers, max_states=max_states, progress=progress)
    result.backend = "builtin"
    return result
