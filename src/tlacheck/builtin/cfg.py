"""TLC model configuration (.cfg) files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tlacheck.builtin.values import FV
from tlacheck.canonical import ModelValue


class ConfigError(Exception):
    pass


@dataclass
class Config:
    constants: dict[str, Any] = field(default_factory=dict)  # name -> value
    substitutions: dict[str, str] = field(default_factory=dict)  # name -> definition name
    scoped_substitutions: dict[tuple[str, str], str] = field(default_factory=dict)  # (module, name) -> def
    scoped_constants: dict[tuple[str, str], Any] = field(default_factory=dict)  # (module, name) -> value
    init: str | None = None
    next: str | None = None
    specification: str | None = None
    invariants: list[str] = field(default_factory=list)
    properties: list[str] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)
    action_constraints: list[str] = field(default_factory=list)
    symmetry: str | None = None
    view: str | None = None
    alias: str | None = None
    check_deadlock: bool = True


KEYWORDS = {
    "CONSTANT",
    "CONSTANTS",
    "INIT",
    "NEXT",
    "SPECIFICATION",
    "INVARIANT",
    "INVARIANTS",
    "PROPERTY",
    "PROPERTIES",
    "CONSTRAINT",
    "CONSTRAINTS",
    "ACTION_CONSTRAINT",
    "ACTION_CONSTRAINTS",
    "SYMMETRY",
    "VIEW",
    "ALIAS",
    "CHECK_DEADLOCK",
    "POSTCONDITION",
}

_TOKEN = re.compile(
    r"""\s+|\\\*[^\n]*|\(\*.*?\*\)|(?P<tok>"(?:[^"\\]|\\.)*"|<-|<<|>>|-?\d+|[A-Za-z_0-9][A-Za-z_0-9!]*|[{}=,\[\]:])""",
    re.S,
)


def tokenize(text: str) -> list[str]:
    toks = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ConfigError(f"cannot tokenize cfg near {text[pos : pos + 30]!r}")
        if m.group("tok") is not None:
            toks.append(m.group("tok"))
        pos = m.end()
    return toks


def parse_cfg(path: Path) -> Config:
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(f"cannot read config {path}: {e}") from e
    return parse_cfg_text(text)


def parse_cfg_text(text: str) -> Config:
    toks = tokenize(text)
    cfg = Config()
    i = 0

    def names_until_kw(j: int) -> tuple[list[str], int]:
        out = []
        while j < len(toks) and toks[j] not in KEYWORDS:
            out.append(toks[j])
            j += 1
        return out, j

    while i < len(toks):
        kw = toks[i]
        i += 1
        if kw in ("CONSTANT", "CONSTANTS"):
            while i < len(toks) and toks[i] not in KEYWORDS:
                name = toks[i]
                i += 1
                if i < len(toks) and toks[i] == "(":
                    raise ConfigError("operator constants with parameters are not supported in cfg")
                if i >= len(toks):
                    raise ConfigError(f"constant {name} has no value")
                op = toks[i]
                i += 1
                if op == "=":
                    if i < len(toks) and toks[i] == "[":
                        # `C = [M] value`: assignment to C as defined in module M
                        mod = toks[i + 1]
                        i += 3
                        val, i = _value(toks, i, name)
                        cfg.scoped_constants[(mod, name)] = val
                        continue
                    val, i = _value(toks, i, name)
                    cfg.constants[name] = val
                elif op == "<-":
                    if toks[i] == "[":
                        mod = toks[i + 1]
                        if toks[i + 2] != "]":
                            raise ConfigError("malformed <- [M] substitution")
                        cfg.scoped_substitutions[(mod, name)] = toks[i + 3]
                        i += 4
                    else:
                        cfg.substitutions[name] = toks[i]
                        i += 1
                else:
                    raise ConfigError(f"expected = or <- after constant {name}, got {op!r}")
        elif kw == "INIT":
            cfg.init = toks[i]
            i += 1
        elif kw == "NEXT":
            cfg.next = toks[i]
            i += 1
        elif kw == "SPECIFICATION":
            cfg.specification = toks[i]
            i += 1
        elif kw in ("INVARIANT", "INVARIANTS"):
            names, i = names_until_kw(i)
            cfg.invariants.extend(names)
        elif kw in ("PROPERTY", "PROPERTIES"):
            names, i = names_until_kw(i)
            cfg.properties.extend(names)
        elif kw in ("CONSTRAINT", "CONSTRAINTS"):
            names, i = names_until_kw(i)
            cfg.constraints.extend(names)
        elif kw in ("ACTION_CONSTRAINT", "ACTION_CONSTRAINTS"):
            names, i = names_until_kw(i)
            cfg.action_constraints.extend(names)
        elif kw == "SYMMETRY":
            cfg.symmetry = toks[i]
            i += 1
        elif kw == "VIEW":
            cfg.view = toks[i]
            i += 1
        elif kw == "ALIAS":
            cfg.alias = toks[i]
            i += 1
        elif kw == "POSTCONDITION":
            i += 1
        elif kw == "CHECK_DEADLOCK":
            v = toks[i]
            i += 1
            if v not in ("TRUE", "FALSE"):
                raise ConfigError(f"CHECK_DEADLOCK expects TRUE or FALSE, got {v}")
            cfg.check_deadlock = v == "TRUE"
        else:
            raise ConfigError(f"unexpected token {kw!r} in cfg")
    return cfg


def _value(toks: list[str], i: int, name: str) -> tuple[Any, int]:
    if i >= len(toks):
        raise ConfigError(f"missing value for {name}")
    t = toks[i]
    if t == "{":
        items = []
        i += 1
        while toks[i] != "}":
            v, i = _value(toks, i, name)
            items.append(v)
            if toks[i] == ",":
                i += 1
        return frozenset(items), i + 1
    if t == "<<":
        items = []
        i += 1
        while toks[i] != ">>":
            v, i = _value(toks, i, name)
            items.append(v)
            if toks[i] == ",":
                i += 1
        return FV({k: v for k, v in enumerate(items, 1)}), i + 1
    if t.startswith('"'):
        return t[1:-1].replace('\\"', '"').replace("\\\\", "\\"), i + 1
    if re.fullmatch(r"-?\d+", t):
        return int(t), i + 1
    if t == "TRUE":
        return True, i + 1
    if t == "FALSE":
        return False, i + 1
    if t in KEYWORDS or not re.fullmatch(r"[A-Za-z_0-9]+", t):
        raise ConfigError(f"bad value {t!r} for constant {name}")
    return ModelValue(t), i + 1
