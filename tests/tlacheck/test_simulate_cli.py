"""`tlacheck simulate`: random behaviours to a depth, seedable, TLC's exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tlacheck.cli import main

ROOT = Path(__file__).resolve().parents[2]
COUNTER = ROOT / "tests" / "data" / "tla" / "Counter.tla"
STORAGE = ROOT / "correctness" / "storage" / "SegmentedStorage.tla"
SEQ_AT_BEGIN = ROOT / "correctness" / "storage" / "SegmentedStorage_BugSeqAtBegin.cfg"


def test_a_clean_spec_simulates_without_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(COUNTER), "--depth", "20", "--num", "30", "--seed", "7"]) == 0
    assert "No error has been found" in capsys.readouterr().out


def test_a_violation_exits_12_and_the_seed_repeats_the_behaviour(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", str(STORAGE), "-c", str(SEQ_AT_BEGIN), "--depth", "30", "--num", "500"]
    assert main([*args, "--seed", "1", "--json"]) == 12
    first = json.loads(capsys.readouterr().out)
    assert main([*args, "--seed", "1", "--json"]) == 12
    again = json.loads(capsys.readouterr().out)
    assert first["violated"] == again["violated"] == "NoLostJob"
    assert first["trace"] == again["trace"] and first["trace"]


def test_mistakes_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "no/such/Spec.tla"]) == 150
    assert main(["simulate", str(COUNTER), "--seconds", "-1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("tlacheck: error:") for line in err)
