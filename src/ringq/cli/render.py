"""Rich rendering of the storage layer's dataclass rows (stats, DLQ entries, job info)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)

# Long values (payloads, tracebacks) are cut in tables; `--json` prints them whole.
CELL_LIMIT = 80


def as_dict(row: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(row) and not isinstance(row, type):
        return dataclasses.asdict(row)
    if isinstance(row, dict):
        return dict(row)
    return dict(vars(row))


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = text.replace("\n", " ⏎ ")
    return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 1] + "…"


def table(title: str, rows: Sequence[Any], columns: Sequence[str] | None = None) -> Table:
    dicts = [as_dict(r) for r in rows]
    cols = list(columns or (dicts[0].keys() if dicts else []))
    out = Table(title=title, title_justify="left")
    for col in cols:
        out.add_column(col, overflow="fold")
    for d in dicts:
        out.add_row(*(cell(d.get(c)) for c in cols))
    return out


def to_json(rows: Sequence[Any]) -> str:
    return json.dumps([as_dict(r) for r in rows], default=str, indent=2)
