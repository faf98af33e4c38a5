"""tlacheck.check's argument checks and backend dispatch.

The built-in checker is replaced by a recording stub only in the dispatch tests below, to
observe what check() passes on; the real checker is exercised in test_cli.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import tlacheck
from tlacheck import api, tlc
from tlacheck.result import CheckResult

SPECS = Path(__file__).resolve().parents[1] / "data" / "tla-cli"


@pytest.fixture
def no_tlc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tlc, "available", lambda: False)


@pytest.fixture
def recorded_builtin(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def stub_run(spec: Path, config: Path | None = None, **kwargs: Any) -> CheckResult:
        calls.append({"spec": spec, "config": config, **kwargs})
        return CheckResult(outcome="ok", backend="builtin")

    monkeypatch.setattr(api, "_builtin_run", lambda: stub_run)
    return calls


def test_public_api_is_exported() -> None:
    assert tlacheck.check is api.check
    assert {"check", "CheckResult", "TraceStep", "BackendUnavailable"} <= set(tlacheck.__all__)


def test_auto_falls_back_to_builtin_without_tlc(no_tlc: None) -> None:
    assert api.resolve_backend("auto") == "builtin"


def test_auto_prefers_tlc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tlc, "available", lambda: True)
    assert api.resolve_backend("auto") == "tlc"
    assert api.resolve_backend("builtin") == "builtin"


def test_explicit_tlc_without_tlc_raises(no_tlc: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tlc, "unavailable_reason", lambda: "no jar here")
    with pytest.raises(api.BackendUnavailable, match="no jar here"):
        api.resolve_backend("tlc")


def test_unknown_backend() -> None:
    with pytest.raises(ValueError, match="unknown backend 'apalache'"):
        api.resolve_backend("apalache")


def test_dispatch_passes_arguments_to_builtin(no_tlc: None, recorded_builtin: list[dict[str, Any]]) -> None:
    seen: list[object] = []
    result = tlacheck.check(
        str(SPECS / "Counter.tla"), SPECS / "Counter.cfg", workers=3, max_states=99, progress=seen.append
    )
    assert result.backend == "builtin" and result.outcome == "ok"
    (call,) = recorded_builtin
    assert call["spec"] == SPECS / "Counter.tla" and call["config"] == SPECS / "Counter.cfg"
    assert (call["workers"], call["max_states"], call["progress"]) == (3, 99, seen.append)


def test_missing_spec_and_config(recorded_builtin: list[dict[str, Any]], tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="spec file not found"):
        tlacheck.check(tmp_path / "Nope.tla", backend="builtin")
    with pytest.raises(FileNotFoundError, match="config file not found"):
        tlacheck.check(SPECS / "Counter.tla", tmp_path / "Nope.cfg", backend="builtin")
    assert recorded_builtin == []


@pytest.mark.parametrize(("workers", "max_states"), [(0, None), (1, 0)])
def test_bad_numbers(workers: int, max_states: int | None, recorded_builtin: list[dict[str, Any]]) -> None:
    with pytest.raises(ValueError):
        tlacheck.check(SPECS / "Counter.tla", backend="builtin", workers=workers, max_states=max_states)
