"""Model constants, read from the same `.cfg` files the TLA+ checker uses.

One source for the bounds: `load_config(name_or_path)` / `parse_cfg(text)` read a TLC config file
with tlacheck's cfg parser (`tlacheck.builtin.cfg.parse_cfg_text`, the one the checker uses) and keep
what the model needs: the constants, INVARIANT(S), PROPERTY/PROPERTIES and CHECK_DEADLOCK.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from ringq_proof.checkout import storage_cfg_dir
from tlacheck.builtin.cfg import ConfigError as CfgSyntaxError
from tlacheck.builtin.cfg import parse_cfg_text
from tlacheck.canonical import ModelValue

BASE_SWITCHES = (
    "BugCursorAfterCommit",
    "BugPruneNoGuard",
    "BugNoFence",
    "BugRetryNotPersisted",
    "BugResultAfterClosure",
    "BugSeqAtBegin",
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


_CONST_MAP = {
    "QSlots": "qslots",
    "CSlots": "cslots",
    "MaxAttempts": "max_attempts",
    "MaxDlqRetries": "max_dlq_retries",
}


def _names(v: object) -> tuple[str, ...]:
    """A cfg set of model values (or one value) as sorted names."""
    items = v if isinstance(v, frozenset) else (v,)
    return tuple(sorted(x.name if isinstance(x, ModelValue) else str(x) for x in items))


def parse_cfg(text: str, name: str = "custom", source: str = "") -> Config:
    """The model's constants from a TLC cfg, parsed by tlacheck's own cfg parser."""
    try:
        tlc = parse_cfg_text(text)
    except CfgSyntaxError as e:
        raise ConfigError(f"{source or name}: {e}") from None
    consts: dict[str, object] = {**tlc.substitutions, **tlc.constants}
    starts_races = (tlc.init or tlc.specification or "").startswith("R")
    races = starts_races or any(k in consts for k in RACE_SWITCHES)
    values: dict[str, object] = {}
    for k, v in consts.items():
        if k == "Jobs":
            values["jobs"] = _names(v)
        elif k == "Workers":
            values["workers"] = _names(v)
        elif k in _CONST_MAP:
            if not isinstance(v, int) or isinstance(v, bool):
                shown = v.name if isinstance(v, ModelValue) else v
                raise ConfigError(f"{source or name}: constant {k} must be an integer, got {shown!r}")
            values[_CONST_MAP[k]] = v
    return Config(
        races=races,
        spec="SegmentedStorageRaces" if races else "SegmentedStorage",
        bugs=frozenset(k for k in BASE_SWITCHES + RACE_SWITCHES if consts.get(k) is True),
        invariants=tuple(tlc.invariants),
        properties=tuple(tlc.properties),
        check_deadlock=tlc.check_deadlock,
        name=name,
        source=source,
        **values,  # type: ignore[arg-type]
    )


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
