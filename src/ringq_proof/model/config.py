"""Model constants, read from the same `.cfg` files the TLA+ checker uses.

One source for the bounds: `load_config(name_or_path)` / `parse_cfg(text)` parse the CONSTANTS, INVARIANT(S) and
PROPERTY/PROPERTIES sections of a TLC config file (the subset the storage cfgs use).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from ringq_proof.checkout import storage_cfg_dir

BASE_SWITCHES = (
    "BugCursorAfterCommit",
    "BugPruneNoGuard",
    "BugNoFence",
    "BugRetryNotPersisted",
    "BugResultAfterClosure",
)
RACE_SWITCHES = ("BugNaiveClaimCommit", "BugPruneCheckThenAct")


class ConfigError(ValueError):
    """A user mistake in a config name, file or switch: reported as one line, no traceback."""


@dataclass(frozen=True)
class Config:
    jobs: tuple[str, ...] = ("j1", "j2")
    workers: tuple[str, ...] = ("w1", "w2")
    qslots: int = 2
    cslots: int = 2
    max_attempts: int = 2
    max_dlq_retries: int = 0
    races: bool = False
    bugs: frozenset[str] = frozenset()
    invariants: tuple[str, ...] = ()
    properties: tuple[str, ...] = ()
    check_deadlock: bool = False
    name: str = "custom"
    spec: str = "SegmentedStorage"
    source: str = field(default="", compare=False)

    def bug(self, switch: str) -> bool:
        return switch in self.bugs

    def with_switches(self, values: dict[str, bool]) -> Config:
        known = BASE_SWITCHES + (RACE_SWITCHES if self.races else ())
        bugs = set(self.bugs)
        for k, v in values.items():
            if k not in known:
                raise ConfigError(f"unknown switch {k!r} (known: {', '.join(known)})")
            (bugs.add if v else bugs.discard)(k)
        return replace(self, bugs=frozenset(bugs))

    @staticmethod
    def field_names() -> list[str]:
        return [f.name for f in fields(Config)]


_SECTION = re.compile(
    r"^(CONSTANTS?|INIT|NEXT|SPECIFICATION|INVARIANTS?|PROPERTY|PROPERTIES|CHECK_DEADLOCK|SYMMETRY|CONSTRAINTS?|VIEW)\b"
)
_CONST_MAP = {
    "QSlots": "qslots",
    "CSlots": "cslots",
    "MaxAttempts": "max_attempts",
    "MaxDlqRetries": "max_dlq_retries",
}


def _parse_value(text: str, where: str) -> object:
    t = text.strip()
    if t in ("TRUE", "FALSE"):
        return t == "TRUE"
    if re.fullmatch(r"-?\d+", t):
        return int(t)
    if t.startswith("{") and t.endswith("}"):
        inner = t[1:-1].strip()
        return tuple(x.strip() for x in inner.split(",")) if inner else ()
    return t


def parse_cfg(text: str, name: str = "custom", source: str = "") -> Config:
    """Parse the subset of TLC cfg syntax used by correctness/storage/SegmentedStorage*.cfg."""
    text = re.sub(r"\\\*.*", "", text)
    text = re.sub(r"\(\*.*?\*\)", "", text, flags=re.S)
    section = ""
    consts: dict[str, object] = {}
    invariants: list[str] = []
    properties: list[str] = []
    check_deadlock = True
    spec_name = "SegmentedStorage"
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        m = _SECTION.match(line)
        if m:
            section = m.group(1)
            line = line[m.end() :].strip()
            if section == "CHECK_DEADLOCK":
                check_deadlock = line == "TRUE"
                continue
            if section in ("INIT", "SPECIFICATION") and line.startswith("R"):
                spec_name = "SegmentedStorageRaces"
            if not line:
                continue
        if section.startswith("CONSTANT"):
            for part in re.findall(r"(\w+)\s*(?:=|<-)\s*(\{[^}]*\}|[^\s]+)", line):
                consts[part[0]] = _parse_value(part[1], name)
        elif section.startswith("INVARIANT"):
            invariants.extend(line.split())
        elif section in ("PROPERTY", "PROPERTIES"):
            properties.extend(line.split())
    races = spec_name == "SegmentedStorageRaces" or any(k in consts for k in RACE_SWITCHES)
    cfg = Config(
        races=races,
        spec="SegmentedStorageRaces" if races else "SegmentedStorage",
        invariants=tuple(invariants),
        properties=tuple(properties),
        check_deadlock=check_deadlock,
        name=name,
        source=source,
    )
    values: dict[str, object] = {}
    for k, v in consts.items():
        if k == "Jobs":
            values["jobs"] = tuple(sorted(v)) if isinstance(v, tuple) else (str(v),)
        elif k == "Workers":
            values["workers"] = tuple(sorted(v)) if isinstance(v, tuple) else (str(v),)
        elif k in _CONST_MAP:
            if not isinstance(v, int) or isinstance(v, bool):
                raise ConfigError(f"{source or name}: constant {k} must be an integer, got {v!r}")
            values[_CONST_MAP[k]] = v
    bugs = frozenset(k for k in BASE_SWITCHES + RACE_SWITCHES if consts.get(k) is True)
    return replace(cfg, bugs=bugs, **values)  # type: ignore[arg-type]


def available_configs() -> dict[str, Path]:
    """Shipped cfg name (file stem) -> path."""
    return {p.stem: p for p in sorted(storage_cfg_dir().glob("SegmentedStorage*.cfg"))}


def load_config(name_or_path: str) -> Config:
    """Load a shipped cfg by name (`SegmentedStorage_base`) or a path to a .cfg file."""
    path = Path(name_or_path)
    if not path.suffix == ".cfg" or not path.exists():
        shipped = available_configs()
        if name_or_path not in shipped:
            raise ConfigError(
                f"unknown config {name_or_path!r}; shipped configs: {', '.join(shipped) or '(none)'}"
            )
        path = shipped[name_or_path]
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from None
    return parse_cfg(text, name=path.stem, source=str(path))
