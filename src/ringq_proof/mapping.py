"""Tables of the docs that are rendered from data, so each fact is written once.

- the transaction table of `spec/MAPPING.md`, from `spec/transactions.toml` (TLA+ actions, model
  functions, SQL function with its parameters read from the SQL file, Queue methods, crash points,
  tests);
- the counts tables of `correctness/storage/EXPECTED-segmented.md`, from `correctness/suite.toml`
  (`tlacheck.suite.render_counts`).

Each table stands between a `<!-- BEGIN generated ... -->` and an `<!-- END generated -->` line.
`python -m ringq_proof.mapping` says which tables are stale (exit 1), `--write` rewrites them.
tests/model/test_traceability.py checks that every name in spec/transactions.toml exists and that
the committed markdown equals the rendering.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringq.sqlfiles import load as load_sql
from ringq_proof.checkout import checkout
from tlacheck.suite import load_suite, render_counts

TRANSACTIONS = Path("spec") / "transactions.toml"
MAPPING_MD = Path("spec") / "MAPPING.md"
EXPECTED_MD = Path("correctness") / "storage" / "EXPECTED-segmented.md"
REGENERATE = "python -m ringq_proof.mapping --write"

_END = "<!-- END generated -->"


class GeneratedBlockMissing(ValueError):
    """A markdown file lacks the BEGIN/END lines of a generated block."""


@dataclass(frozen=True)
class Transaction:
    """One row of the transaction table (see the header of spec/transactions.toml)."""

    name: str
    tla: tuple[str, ...] = ()
    tla_note: str = ""
    races_tla: tuple[str, ...] = ()
    races_when: str = ""
    races_note: str = ""
    model: tuple[str, ...] = ()
    races_model: tuple[str, ...] = ()
    sql: str = ""  # "file.sql:function"
    sql_note: str = ""
    sql_calls: tuple[str, ...] = ()
    python: tuple[str, ...] = ()
    python_note: str = ""
    crash_points: tuple[str, ...] = ()
    crash_note: str = ""
    tests: tuple[str, ...] = ()


@dataclass(frozen=True)
class BugAction:
    """An action only a bug switch enables (the step a broken design does separately)."""

    switch: str
    tla: tuple[str, ...]
    model: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Transactions:
    rows: tuple[Transaction, ...]
    all_tests: tuple[str, ...] = field(default=())  # tests that drive every transaction
    bug_actions: tuple[BugAction, ...] = field(default=())


def load_transactions(path: Path | None = None) -> Transactions:
    data = tomllib.loads((path or checkout() / TRANSACTIONS).read_text(encoding="utf-8"))

    def fields(raw: dict[str, Any]) -> dict[str, Any]:
        return {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}

    return Transactions(
        tuple(Transaction(**fields(raw)) for raw in data.get("transaction", [])),
        tuple(data.get("all", {}).get("tests", ())),
        tuple(BugAction(**fields(raw)) for raw in data.get("bug_action", [])),
    )


# SQL functions --------------------------------------------------------------------------------

_CREATE = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+\{schema\}\.(\w+)\s*\((.*?)\)\s*RETURNS", re.S | re.I
)


def sql_functions(file: str) -> dict[str, list[str]]:
    """The functions a ringq SQL file creates: name -> parameter names (`p_` dropped, `[]` kept)."""
    out = {}
    for m in _CREATE.finditer(load_sql(file)):
        params = []
        for p in filter(None, (x.strip() for x in m.group(2).split(","))):
            name, _, typ = p.partition(" ")
            params.append(name.removeprefix("p_") + ("[]" if typ.strip().endswith("[]") else ""))
        out[m.group(1)] = params
    return out


def split_ref(ref: str) -> tuple[str, str]:
    """`file.sql:function` -> (file, function)."""
    file, sep, func = ref.partition(":")
    if not sep or not file.endswith(".sql") or not func:
        raise ValueError(f"{ref!r} is not file.sql:function")
    return file, func


# Rendering ------------------------------------------------------------------------------------


def _names(names: Sequence[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _with_note(names: str, note: str) -> str:
    """`names (note)`, or the note alone."""
    if names and note:
        return f"{names} ({note})"
    return names or note


def _with_races(main: str, note: str, races: Sequence[str], when: str, races_note: str) -> str:
    cell = f"{main} {note}" if note else main
    if races:
        label = f"Races {when}" if when else "Races"
        cell += f" ({label}: {_names(races)}" + (f", {races_note}" if races_note else "") + ")"
    return cell or "—"


def _sql_cell(t: Transaction) -> str:
    parts = []
    if t.sql:
        file, func = split_ref(t.sql)
        params = sql_functions(file)[func]
        parts.append(f"`sql/{file}`: `{func}({', '.join(params)})`")
    for ref in t.sql_calls:
        file, func = split_ref(ref)
        parts.append(f"→ `{func}` (`sql/{file}`)")
    return _with_note(" ".join(parts), t.sql_note) or "—"


def _tests_cell(tests: Sequence[str]) -> str:
    return "<br>".join(f"`{t}`" for t in tests) or "—"


def transaction_table(txs: Transactions) -> str:
    """The markdown transaction table of spec/MAPPING.md."""
    lines = [
        "| transaction | TLA+ action (SegmentedStorage) | model (`ringq_proof.model`) | SQL (`src/ringq/`) "
        "| Python call | crash points | tests |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in txs.rows:
        crash = _with_note(_names(t.crash_points), t.crash_note)
        cells = [
            t.name,
            _with_races(_names(t.tla), t.tla_note, t.races_tla, t.races_when, t.races_note),
            _with_races(_names(t.model), "", t.races_model, t.races_when, ""),
            _sql_cell(t),
            " ".join(filter(None, (_names(t.python), t.python_note))) or "—",
            crash or "—",
            _tests_cell(t.tests),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if txs.all_tests:
        lines += ["", f"Every transaction above, with crashes at its crash points: {_names(txs.all_tests)}."]
    if txs.bug_actions:
        lines += ["", "Actions of a bug switch only (no ringq transaction):"]
        for b in txs.bug_actions:
            lines.append(
                f"- `{b.switch}`: {_names(b.tla)} / {_names(b.model)}" + (f", {b.note}" if b.note else "")
            )
    return "\n".join(lines)


# Generated blocks -----------------------------------------------------------------------------


def _begin(source: Path) -> str:
    return f"<!-- BEGIN generated from {source.as_posix()} by `{REGENERATE}`; do not edit -->"


def splice(text: str, source: Path, body: str) -> str:
    """`text` with the generated block of `source` replaced by `body`."""
    begin = _begin(source)
    start = text.find(begin)
    end = text.find(_END, start + 1)
    if start < 0 or end < 0:
        raise GeneratedBlockMissing(f"no generated block for {source.as_posix()} ({begin!r} ... {_END!r})")
    return text[: start + len(begin)] + "\n" + body.rstrip("\n") + "\n" + text[end:]


@dataclass(frozen=True)
class Generated:
    """A markdown file whose block(s) are rendered from a source file."""

    target: Path  # relative to the checkout
    source: Path
    render: Callable[[Path], str]  # checkout root -> block body

    def expected(self, root: Path) -> str:
        return splice((root / self.target).read_text(encoding="utf-8"), self.source, self.render(root))

    def is_current(self, root: Path) -> bool:
        return (root / self.target).read_text(encoding="utf-8") == self.expected(root)


def _render_mapping(root: Path) -> str:
    return transaction_table(load_transactions(root / TRANSACTIONS))


def _render_expected(root: Path) -> str:
    entries = [e for e in load_suite(root / "correctness") if "SegmentedStorage" in e.spec]
    return render_counts(entries)


GENERATED = (
    Generated(MAPPING_MD, TRANSACTIONS, _render_mapping),
    Generated(EXPECTED_MD, Path("correctness") / "suite.toml", _render_expected),
)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ringq_proof.mapping", description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="rewrite the stale tables")
    args = ap.parse_args(argv)
    root = checkout()
    stale = [g for g in GENERATED if not g.is_current(root)]
    for g in stale:
        if args.write:
            (root / g.target).write_text(g.expected(root), encoding="utf-8")
            print(f"rewrote {g.target.as_posix()} from {g.source.as_posix()}")
        else:
            print(f"{g.target.as_posix()} is stale: rendered from {g.source.as_posix()} by `{REGENERATE}`")
    return 0 if args.write or not stale else 1


if __name__ == "__main__":
    sys.exit(main())
