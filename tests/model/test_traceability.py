"""Every invariant listed in spec/invariants.toml exists in its spec(s) and in the model; every name
in spec/transactions.toml (TLA+ action, model function, SQL file and function, Queue method, crash
point, test) exists, and spec/MAPPING.md's transaction table is its rendering."""

from __future__ import annotations

import ast
import importlib
import tomllib
from pathlib import Path

import pytest

from ringq_proof.mapping import (
    GENERATED,
    REGENERATE,
    Transaction,
    load_transactions,
    split_ref,
    sql_functions,
)
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


# The transaction table (spec/transactions.toml, rendered into spec/MAPPING.md) ----------------

TXS = load_transactions(ROOT / "spec" / "transactions.toml")
TX_NAMES = [t.name for t in TXS.rows]
STORAGE_TLA = "correctness/storage/SegmentedStorage.tla"
RACES_TLA = "correctness/storage/SegmentedStorageRaces.tla"


def _tx(name: str) -> Transaction:
    return next(t for t in TXS.rows if t.name == name)


def _model_function_exists(ref: str) -> bool:
    """`module.function` under ringq_proof.model."""
    module, _, func = ref.rpartition(".")
    return callable(getattr(importlib.import_module(f"ringq_proof.model.{module}"), func, None))


def _top_level_names(path: Path) -> set[str]:
    """Functions, classes and assigned names at the top of a Python file."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _harness_crash_points() -> set[str]:
    """`<method>.<phase>` for each Harness transaction method (it requires `crash`), each Crash phase."""
    tree = ast.parse((ROOT / "tests" / "stateful" / "harness.py").read_text())
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    phases = {
        s.value.value
        for s in classes["Crash"].body
        if isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str)
    } - {"none"}
    methods = set()
    for f in classes["Harness"].body:
        if isinstance(f, ast.FunctionDef):
            required = f.args.args[: len(f.args.args) - len(f.args.defaults)]
            if "crash" in {a.arg for a in required}:  # a transaction (not `run`, whose crash is optional)
                methods.add(f.name)
    return {f"{m}.{p}" for m in methods for p in phases}


def test_the_transaction_table_lists_each_transaction_once() -> None:
    assert len(TX_NAMES) == len(set(TX_NAMES)), "a transaction is listed twice"
    assert {"enqueue", "claim", "complete", "rescue", "rotate", "prune"} <= set(TX_NAMES)


@pytest.mark.parametrize("name", TX_NAMES)
def test_transaction_tla_actions_exist(name: str) -> None:
    t = _tx(name)
    assert t.tla, f"{name}: no TLA+ action"
    for action in t.tla:
        assert action in _defined(STORAGE_TLA), f"{name}: {action} is not defined in {STORAGE_TLA}"
    for action in t.races_tla:
        assert action in _defined(RACES_TLA), f"{name}: {action} is not defined in {RACES_TLA}"


@pytest.mark.parametrize("name", TX_NAMES)
def test_transaction_model_functions_exist(name: str) -> None:
    t = _tx(name)
    assert t.model, f"{name}: no model function"
    assert len(t.races_model) == len(t.races_tla) or not t.races_tla, f"{name}: Races actions without twins"
    for ref in t.model + t.races_model:
        assert _model_function_exists(ref), f"{name}: ringq_proof.model.{ref} is missing"


@pytest.mark.parametrize("name", TX_NAMES)
def test_transaction_sql_functions_exist(name: str) -> None:
    t = _tx(name)
    for ref in ([t.sql] if t.sql else []) + list(t.sql_calls):
        file, func = split_ref(ref)
        assert (ROOT / "src" / "ringq" / "sql" / file).is_file(), f"{name}: sql/{file} does not exist"
        assert func in sql_functions(file), f"{name}: sql/{file} creates no function {func}"


@pytest.mark.parametrize("name", TX_NAMES)
def test_transaction_python_calls_exist(name: str) -> None:
    from ringq import AsyncQueue, Queue

    t = _tx(name)
    assert bool(t.python) == bool(t.sql), f"{name}: a SQL function needs a Queue method and vice versa"
    for call in t.python:
        cls, _, method = call.partition(".")
        assert cls == "Queue", f"{name}: {call} is not a Queue method"
        assert callable(getattr(Queue, method, None)), f"{name}: Queue.{method} does not exist"
        assert callable(getattr(AsyncQueue, method, None)), f"{name}: AsyncQueue.{method} does not exist"


@pytest.mark.parametrize("name", TX_NAMES)
def test_transaction_crash_points_are_driven_by_the_harness(name: str) -> None:
    driven = _harness_crash_points()
    assert driven, "tests/stateful/harness.py has no Harness method taking crash"
    for point in _tx(name).crash_points:
        assert point in driven, f"{name}: crash point {point} is not one the stateful harness drives"


@pytest.mark.parametrize("name", TX_NAMES)
def test_transaction_tests_exist(name: str) -> None:
    tests = _tx(name).tests
    assert tests, f"{name}: no test named"
    for node in tests + TXS.all_tests:
        file, _, obj = node.partition("::")
        path = ROOT / file
        assert path.is_file() and file.startswith("tests/"), f"{name}: {file} is not a test file"
        assert obj in _top_level_names(path), f"{name}: {node} does not exist"


@pytest.mark.parametrize("switch", [b.switch for b in TXS.bug_actions])
def test_bug_actions_exist(switch: str) -> None:
    from ringq_proof.model.config import BASE_SWITCHES, RACE_SWITCHES

    [b] = [b for b in TXS.bug_actions if b.switch == switch]
    assert switch in BASE_SWITCHES + RACE_SWITCHES, f"{switch} is not a model bug switch"
    spec = RACES_TLA if switch in RACE_SWITCHES else STORAGE_TLA
    for action in b.tla:
        assert action in _defined(spec), f"{switch}: {action} is not defined in {spec}"
    for ref in b.model:
        assert _model_function_exists(ref), f"{switch}: ringq_proof.model.{ref} is missing"


def test_every_transaction_the_harness_drives_is_listed() -> None:
    assert {p.split(".")[0] for p in _harness_crash_points()} <= {
        t.sql.partition(".sql")[0] for t in TXS.rows if t.sql
    }, "the harness drives a transaction the table does not list"


def test_mapping_md_table_is_rendered_from_transactions_toml() -> None:
    [mapping] = [g for g in GENERATED if g.target.name == "MAPPING.md"]
    assert mapping.is_current(ROOT), (
        f"spec/MAPPING.md's transaction table is not the rendering of spec/transactions.toml: {REGENERATE}"
    )
