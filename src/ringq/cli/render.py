"""Rich rendering of the storage layer's dataclass rows (stats, DLQ entries, job info)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime
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
    if isinstance(value, datetime):  # UTC, two short words: wraps between date and time at most
        if value.tzinfo is None:
            return value.isoformat(sep=" ", timespec="seconds")
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = text.replace("\n", " ⏎ ")
    return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 1] + "…"


# Long text (errors, payloads) may fold inside a word, but never narrower than this.
FOLD_MIN = 12


def table(
    title: str, rows: Sequence[Any], columns: Sequence[str] | None = None, caption: str | None = None
) -> Table:
    """A table that never breaks a header, id, name or count inside a word (`job_i d`): every
    column is at least as wide as its longest word; only long text folds, and only past FOLD_MIN."""
    dicts = [as_dict(r) for r in rows]
    cols = list(columns or (dicts[0].keys() if dicts else []))
    cells = [[cell(d.get(c)) for c in cols] for d in dicts]
    out = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for i, col in enumerate(cols):
        words = [col, *(w for row in cells for w in row[i].split())]
        longest = max(len(w) for w in words)
        if all(len(row[i].split()) <= 1 for row in cells):
            # One word per cell (ids, names, counts): never wrapped; the text columns give way.
            out.add_column(col, no_wrap=True, min_width=longest)
        else:
            out.add_column(col, min_width=min(longest, max(len(col), FOLD_MIN)), overflow="fold")
    for row in cells:
        out.add_row(*row)
    return out


def to_json(rows: Sequence[Any]) -> str:
    return json.dumps([as_dict(r) for r in rows], default=str, indent=2)
