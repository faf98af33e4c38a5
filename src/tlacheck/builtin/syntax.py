"""Parsing TLA+ modules with tree-sitter-tlaplus into a light module structure.

Expressions stay tree-sitter nodes (the compiler walks them once); this module only
collects the top-level units of each module and resolves module files.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import tree_sitter as ts
import tree_sitter_tlaplus as tstla

Node = Any  # tree_sitter.Node

SKIP_TYPES = frozenset({"comment", "block_comment", "extramodular_text"})

# Modules whose semantics are built in (see stdlib.py). Proof-only modules are empty.
STANDARD_MODULES = frozenset(
    {"Naturals", "Integers", "Sequences", "FiniteSets", "TLC", "Bags", "Reals", "RealTime_builtin"}
)
PROOF_MODULES = frozenset(
    {
        "TLAPS",
        "NaturalsInduction",
        "WellFoundedInduction",
        "SequenceTheorems",
        "FiniteSetTheorems",
        "FunctionTheorems",
        "BagsTheorems",
        "SequencesExtTheorems",
    }
)


# Modules tlacheck ships as TLA+ files (CommunityModules, TLCExt): found when no file of that
# name is beside the spec; their operators call native implementations (builtin/community/).
BUNDLED_DIR = Path(__file__).resolve().parent.parent / "stdlib"


class TLASyntaxError(Exception):
    def __init__(self, message: str, kind: str = "parse") -> None:
        super().__init__(message)
        self.kind = kind


@lru_cache(maxsize=1)
def _parser() -> ts.Parser:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lang = ts.Language(tstla.language())
    return ts.Parser(lang)


@dataclass
class Module:
    name: str
    path: Path | None
    src: bytes
    node: Node
    extends: list[str] = field(default_factory=list)
    constants: list[tuple[str, int, Node]] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)
    # Definitions and other units in source order: (kind, node, local?)
    units: list[tuple[str, Node, bool]] = field(default_factory=list)
    submodules: dict[str, Module] = field(default_factory=dict)

    def text(self, n: Node) -> str:
        return node_text(n)

    def where(self, n: Node) -> str:
        return node_where(n, self.path or self.name)


_TREES: list[Any] = []  # keep trees alive: node ids must stay unique
# root node id of every parsed tree -> file it came from (for error locations)
_TREE_FILES: dict[int, str] = {}


def node_text(n: Node) -> str:
    return str(n.text.decode())


def node_where(n: Node, default: Any = "?") -> str:
    root = n
    while root.parent is not None:
        root = root.parent
    r, c = n.start_point
    return f"{_TREE_FILES.get(root.id, default)}:{r + 1}:{c + 1}"


def kids(n: Node) -> list[Node]:
    return [c for c in n.named_children if c.type not in SKIP_TYPES]


def first_error(n: Node) -> Node | None:
    if n.type == "ERROR" or n.is_missing:
        return n
    if not n.has_error:
        return None
    for c in n.children:
        e = first_error(c)
        if e is not None:
            return e
    return n


def decl_arity(n: Node) -> int:
    """Arity of an operator_declaration (F(_, _) -> 2, _ + _ -> 2, identifier -> 0)."""
    if n.type == "identifier":
        return 0
    return sum(1 for c in n.named_children if c.type == "placeholder")


def decl_name(m: Module, n: Node) -> str:
    if n.type == "identifier":
        return m.text(n)
    name = n.child_by_field_name("name")
    return m.text(name)


def _collect(m: Module, body: Node) -> None:
    for u in kids(body):
        t = u.type
        if t == "extends":
            m.extends.extend(m.text(c) for c in kids(u))
        elif t == "constant_declaration":
            for c in kids(u):
                m.constants.append((decl_name(m, c), decl_arity(c), c))
        elif t == "variable_declaration":
            m.variables.extend(m.text(c) for c in kids(u))
        elif t in ("operator_definition", "function_definition", "module_definition", "instance"):
            m.units.append((t, u, False))
        elif t == "local_definition":
            for c in kids(u):
                m.units.append((c.type, c, True))
        elif t == "assumption":
            m.units.append((t, u, False))
        elif t == "module":
            sub = _module_from_node(m.src, u, m.path)
            m.submodules[sub.name] = sub
        elif t in (
            "recursive_declaration",
            "theorem",
            "use_or_hide",
            "single_line",
            "header_line",
            "double_line",
        ):
            continue
        elif t in ("identifier",):
            continue
        # proof steps and anything else at top level carry no model-checking meaning


def _module_from_node(src: bytes, node: Node, path: Path | None) -> Module:
    name_node = node.child_by_field_name("name")
    name = src[name_node.start_byte : name_node.end_byte].decode()
    m = Module(name=name, path=path, src=src, node=node)
    _collect(m, node)
    return m


def parse_source(src: bytes, path: Path | None = None) -> Module:
    tree = _parser().parse(src)
    root = tree.root_node
    _TREES.append(tree)
    _TREE_FILES[root.id] = str(path)
    err = first_error(root)
    if err is not None:
        r, c = err.start_point
        snippet = src[err.start_byte : min(err.end_byte, err.start_byte + 40)].decode(errors="replace")
        raise TLASyntaxError(f"parse error at {path}:{r + 1}:{c + 1} near {snippet!r}")
    mods = [c for c in root.named_children if c.type == "module"]
    if not mods:
        raise TLASyntaxError(f"no MODULE found in {path}")
    return _module_from_node(src, mods[0], path)


def parse_file(path: Path) -> Module:
    try:
        src = path.read_bytes()
    except OSError as e:
        raise TLASyntaxError(f"cannot read {path}: {e}") from e
    return parse_source(src, path)


class ModuleLoader:
    """Finds modules beside the root spec; caches parsed modules by name."""

    def __init__(self, root_dir: Path) -> None:
        self.root_dir = root_dir
        self.cache: dict[str, Module | None] = {}
        self.extra: dict[str, Module] = {}

    def load(self, name: str) -> Module | None:
        """Parsed module, or None for a built-in standard / proof-only module."""
        if name in self.extra:
            return self.extra[name]
        if name in self.cache:
            return self.cache[name]
        p = self.root_dir / f"{name}.tla"
        bundled = BUNDLED_DIR / f"{name}.tla"
        if name in STANDARD_MODULES:
            mod: Module | None = None
        elif p.exists():
            mod = parse_file(p)
        elif bundled.exists():  # CommunityModules / TLCExt shipped with tlacheck (stdlib/*.tla)
            mod = parse_file(bundled)
        elif name in STANDARD_MODULES or name in PROOF_MODULES or name.endswith("Theorems"):
            mod = None
        else:
            raise TLASyntaxError(f"module {name} not found beside the spec (looked for {p})", kind="semantic")
        self.cache[name] = mod
        return mod
