"""examples/skiplocked_queue/README.md is a walkthrough: its python blocks run, in order."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "examples" / "skiplocked_queue" / "README.md"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_walkthrough_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    namespace: dict[str, object] = {"__name__": "readme"}
    assert len(blocks()) == 4
    for code in blocks():
        exec(compile(code, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert "CompletedByOwner violated" in out
    assert "DIVERGED" in out
    sys.stdout.write(out)
