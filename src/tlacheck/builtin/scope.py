"""Definitions and module scopes: what a name in a module refers to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tlacheck.builtin.syntax import Module, Node

if TYPE_CHECKING:
    from tlacheck.builtin.core import CompilerCore


class Unsupported(Exception):
    """A construct the built-in checker does not implement (reported with its location)."""


class SemanticError(Exception):
    pass


@dataclass(eq=False)
class OpDef:
    """An operator (or function, if `fn_bounds`) definition in a module."""

    name: str
    params: list[tuple[str, int]]
    body: Node
    ms: ModScope
    fn_bounds: Node | None = None  # function_definition node: f[x \in S] == body
    recursive_fn: bool = False
    # compiled forms (filled lazily by the compiler)
    fn: Any = None
    const_state: int = 0  # 0 unknown, 1 constant (value cached), 2 depends on the state
    value: Any = None
    actions: dict[tuple[bool, bool], Any] = field(default_factory=dict)
    compiling: bool = False


@dataclass(eq=False)
class ConstDef:
    name: str
    arity: int
    node: Node
    ms: ModScope
    value: Any = None
    has_value: bool = False
    replacement: Any = None  # a Def (from `C <- Def` in the cfg)


@dataclass(eq=False)
class VarDef:
    name: str


@dataclass(eq=False)
class SubstDef:
    """An instance parameter replaced by an expression of the instantiating module."""

    name: str
    node: Node
    ms: ModScope
    fn: Any = None


@dataclass(eq=False)
class AliasDef:
    """An instance parameter with no WITH clause: the same name in the instantiating module."""

    name: str
    ms: ModScope


@dataclass(eq=False)
class InstDef:
    """N == INSTANCE M WITH ...: resolved to a module scope on first use."""

    name: str
    node: Node
    ms: ModScope
    params: list[str] = field(default_factory=list)
    inst: ModScope | None = None


Def = OpDef | ConstDef | VarDef | SubstDef | AliasDef | InstDef


class ModScope:
    """Names visible at the top level of one module instance."""

    def __init__(self, module: Module, compiler: CompilerCore) -> None:
        self.module = module
        self.compiler = compiler
        self.names: dict[str, Def] = {}
        self.loaded: set[str] = set()

    def lookup(self, name: str) -> Def | None:
        d = self.names.get(name)
        if d is None:
            # cfg overrides of standard operators (Seq <- BoundedSeq) apply in every module
            d = self.compiler.std_overrides.get(name)
        if isinstance(d, AliasDef):
            return d.ms.lookup(d.name)
        if isinstance(d, ConstDef) and d.replacement is not None:
            return d.replacement
        return d

    def where(self, n: Node) -> str:
        return self.module.where(n)
