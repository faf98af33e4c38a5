"""scripts/conformance.py: how corpus expectations map to outcomes and what counts as a match.

Synthetic corpus entries only; the fetched tlaplus/Examples checkout is never used here.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "tests" / "data" / "tla-cli"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("conformance", REPO / "scripts" / "conformance.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["conformance"] = module
    spec.loader.exec_module(module)
    return module


conformance = load_script()


def entry(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "x/Counter@Counter",
        "tier": "core",
        "spec": "Counter.tla",
        "cfg": "Counter.cfg",
        "expected_result": "success",
        "tlc_exit_code": 0,
        "distinctStates": 4,
        "totalStates": 4,
        "stateDepth": 4,
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    ("overrides", "outcome", "name"),
    [
        ({}, "ok", None),
        (
            {
                "expected_result": "safety failure",
                "tlc_exit_code": 12,
                "violation": {
                    "kind": "invariant",
                    "expected_tlc_line": "Error: Invariant Small is violated.",
                },
            },
            "invariant_violated",
            "Small",
        ),
        (
            {
                "expected_result": "safety failure",
                "tlc_exit_code": 12,
                "violation": {
                    "kind": "invariant-from-PROPERTY",
                    "expected_tlc_line": "Error: Invariant AC1 is violated.",
                },
            },
            "invariant_violated",
            "AC1",
        ),
        ({"expected_result": "safety failure", "tlc_exit_code": 11}, "deadlock", None),
        (
            {
                "expected_result": "liveness failure",
                "tlc_exit_code": 13,
                "violation": {
                    "kind": "temporal",
                    "name": "ErrorTemporal == []((now # 4) => <>[](now # 4))",
                    "expected_tlc_line": "Error: Temporal properties were violated.",
                },
            },
            "property_violated",
            "ErrorTemporal",
        ),
    ],
)
def test_expectations(overrides: dict[str, Any], outcome: str, name: str | None) -> None:
    e = entry(**overrides)
    assert conformance.expected_outcome(e) == outcome
    assert conformance.expected_violated(e) == name


def test_success_needs_exact_counts_and_tolerates_depth_over_report() -> None:
    got = {"outcome": "ok", "distinct_states": 4, "states_generated": 4, "depth": 3}
    row = conformance.compare(entry(), got, 0.1)
    assert row.match and row.counts_ok and row.depth_ok
    row = conformance.compare(entry(), {**got, "states_generated": 5}, 0.1)
    assert not row.match and row.counts_ok is False
    row = conformance.compare(entry(), {**got, "depth": 5}, 0.1)
    assert row.match and row.depth_ok is False  # depth is reported, not gating


def test_violation_needs_the_right_name_but_only_a_band_for_counts() -> None:
    e = entry(
        expected_result="safety failure",
        tlc_exit_code=12,
        violation={"kind": "invariant", "expected_tlc_line": "Error: Invariant Small is violated."},
        tlc_workers1_at_violation={"distinct_states": 3, "states_generated": 3},
    )
    got = {"outcome": "invariant_violated", "violated": "Small", "distinct_states": 9, "states_generated": 9}
    assert conformance.compare(e, got, 0.1).match
    assert not conformance.compare(e, {**got, "violated": "Other"}, 0.1).match
    assert not conformance.compare(e, {**got, "violated": None}, 0.1).match
    assert not conformance.compare(e, {"outcome": "timeout"}, 0.1).match


def test_unnamed_temporal_verdict_is_accepted() -> None:
    assert conformance.names_agree("property_violated", "Live", None)
    assert not conformance.names_agree("invariant_violated", "Inv", None)


def test_end_to_end_on_a_private_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.json"
    corpus.write_text(json.dumps({"models": [entry()]}))
    out = tmp_path / "rows.json"
    code = conformance.main(
        ["--examples", str(SPECS), "--corpus", str(corpus), "--json", str(out), "--timeout", "60"]
    )
    rows = json.loads(out.read_text())
    assert code == 0 and rows[0]["match"] and rows[0]["got_distinct"] == 4
