"""Every invariant listed in spec/invariants.toml exists in its spec(s) and in the model."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

from tlacheck.builtin import parse_module

ROOT = Path(__file__).resolve().parents[2]
LISTED = tomllib.loads((ROOT / "spec" / "invariants.toml").read_text())["invariants"]
# only the storage entries are this suite's (other specs' entries name their own files)
STORAGE = {
    name: entry
    for name, entry in LISTED.items()
    if any("correctness/storage/SegmentedStorage" in s for s in entry["spec"])
}


def _defined(spec: str) -> set[str]:
    """Definitions of a spec and of the user modules it extends (found beside it)."""
    path = ROOT / spec
    info = parse_module(path)
    names = set(info.definitions)
    for parent in info.extends:
        sibling = path.parent / f"{parent}.tla"
        if sibling.exists():
            names |= _defined(str(sibling.relative_to(ROOT)))
    return names


def test_the_storage_invariants_are_listed() -> None:
    assert {"NoLostJob", "NoDuplicateCompletion", "SingleOpenAttempt", "FencedFinalize"} <= set(STORAGE)
    assert {"PruneSafety", "ClaimOrder", "CountersMatch", "EventuallyTerminal"} <= set(STORAGE)


@pytest.mark.parametrize("name", sorted(LISTED))
def test_listed_invariant_is_defined_in_its_spec(name: str) -> None:
    entry = LISTED[name]
    for spec in entry["spec"]:
        assert entry["tla"] in _defined(spec), f"{name}: {entry['tla']} is not defined in {spec}"


@pytest.mark.parametrize("name", sorted(STORAGE))
def test_listed_invariant_exists_in_the_model(name: str) -> None:
    module_name, _, func = STORAGE[name]["model"].partition(":")
    module = importlib.import_module(module_name)
    assert callable(getattr(module, func, None)), f"{name}: {STORAGE[name]['model']} is missing"


@pytest.mark.parametrize("name", sorted(STORAGE))
def test_every_entry_names_each_layer(name: str) -> None:
    entry = STORAGE[name]
    assert set(entry) >= {"tla", "spec", "model", "sql"}, f"{name}: missing keys"


def test_every_cfg_invariant_is_listed() -> None:
    from ringq_proof.model import available_configs, load_config

    for cfg_name in available_configs():
        cfg = load_config(cfg_name)
        for inv in cfg.invariants + cfg.properties:
            assert inv in LISTED, f"{cfg_name} checks {inv}, which spec/invariants.toml does not list"


def test_every_suite_invariant_is_listed() -> None:
    """Each invariant a suite entry must violate (LockOrder, DeferredMaterialize included) is listed."""
    suite = tomllib.loads((ROOT / "correctness" / "suite.toml").read_text())["entry"]
    named = {e["violated"] for e in suite if e.get("violated")}
    assert named <= set(LISTED), (
        f"suite.toml names invariants not in spec/invariants.toml: {named - set(LISTED)}"
    )
