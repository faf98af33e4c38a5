"""The compiler's shared state, name resolution and the expression dispatch table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tlacheck.builtin import stdlib
from tlacheck.builtin.ops import HOISTABLE, Loc, _cache_constant
from tlacheck.builtin.runtime import (
    Act,
    Ctx,
    Fn,
)
from tlacheck.builtin.scope import (
    Def,
    InstDef,
    ModScope,
    OpDef,
    SemanticError,
    SubstDef,
    Unsupported,
    VarDef,
)
from tlacheck.builtin.syntax import Module, ModuleLoader, Node


class CompilerCore:
    """State shared by the compiler parts, name resolution, and expression dispatch."""

    def __init__(self, loader: ModuleLoader) -> None:
        self.loader = loader
        self.variables: list[str] = []
        self.assumptions: list[tuple[Node, ModScope]] = []
        self.scoped_overrides: dict[tuple[str, str], str] = {}
        self._state_level_memo: dict[int, bool] = {}
        self.std_overrides: dict[str, Def] = {}
        self.root_ms: ModScope | None = None
        self.scoped_values: dict[tuple[str, str], Any] = {}
        self._primed_memo: dict[int, set[str]] = {}

    # ------------------------------------------------------------------ helpers

    def err(self, ms: ModScope, node: Node, what: str) -> Unsupported:
        return Unsupported(f"unsupported construct {what} at {ms.where(node)}")

    def text(self, ms: ModScope, node: Node) -> str:
        return ms.module.text(node)

    def resolve(self, name: str, ms: ModScope, node: Node) -> Def | None:
        d = ms.lookup(name)
        if d is None and name not in stdlib.NAMED:
            raise SemanticError(f"unknown identifier {name} at {ms.where(node)}")
        return d

    def resolve_prefixed(self, node: Node, ms: ModScope) -> tuple[ModScope, Node]:
        """For I!J!Op: the scope of the innermost instance and the op node."""
        prefix = node.child_by_field_name("prefix")
        op = node.child_by_field_name("op")
        cur = ms
        for comp in prefix.named_children:
            if comp.type != "subexpr_component":
                raise self.err(ms, node, "subexpression selector")
            inner = comp.named_children[0]
            if inner.type != "identifier_ref":
                raise self.err(ms, node, "parameterized instance reference")
            d = cur.lookup(self.text(cur, inner))
            if not isinstance(d, InstDef):
                raise self.err(cur, node, f"{self.text(cur, inner)}! (not an instance)")
            cur = self.instance_scope(d)
        return cur, op

    # ------------------------------------------------------------------ expressions

    @classmethod
    def expression_forms(cls) -> dict[str, Callable[..., Fn]]:
        """The expression dispatch table: node type -> the part's `x_<node type>` method."""
        forms: dict[str, Callable[..., Fn]] | None = cls.__dict__.get("_expression_forms")
        if forms is None:
            forms = {name[2:]: getattr(cls, name) for name in dir(cls) if name.startswith("x_")}
            cls._expression_forms = forms  # type: ignore[attr-defined]
        return forms

    def expr(self, node: Node, ms: ModScope, loc: Loc) -> Fn:
        t = node.type
        form = self.expression_forms().get(t)
        if form is None:
            raise self.err(ms, node, t)
        f: Fn = form(self, node, ms, loc)
        if t in HOISTABLE and self._maybe_constant(node, ms, loc):
            return _cache_constant(f)
        return f

    def _maybe_constant(self, node: Node, ms: ModScope, loc: Loc) -> bool:
        """No bound names, variables, primes or @ syntactically: worth trying to evaluate once."""
        stack = [node]
        while stack:
            x = stack.pop()
            t = x.type
            if t in ("prime", "prev_func_val", "enabled", "unchanged"):
                return False
            if t == "identifier_ref":
                name = self.text(ms, x)
                if name in loc:
                    return False
                if isinstance(ms.lookup(name), VarDef | SubstDef):
                    return False
            elif t in ("quantifier_bound", "lambda", "let_in", "prefixed_op", "subexpression"):
                # bound names introduced inside are fine at runtime; the check below stays conservative
                if t in ("prefixed_op", "subexpression", "let_in"):
                    return False
            stack.extend(x.named_children)
        return True

    # ---- implemented by the other parts (declared here so each part type-checks on its own)

    def instance_scope(self, d: InstDef) -> ModScope:
        raise NotImplementedError

    def _refers_to(self, module: Module, node: Node, name: str) -> bool:
        raise NotImplementedError

    def op_fn(self, d: OpDef) -> Fn:
        raise NotImplementedError

    def op_value(self, node: Node, ms: ModScope, loc: Loc, arity: int) -> Fn:
        raise NotImplementedError

    def ref(
        self,
        name: str,
        args: list[Node],
        n: Node,
        ms: ModScope,
        loc: Loc,
        arg_ms: ModScope | None = None,
        arg_loc: Loc | None = None,
    ) -> Fn:
        raise NotImplementedError

    def _args(
        self, d_params: list[tuple[str, int]], arg_nodes: list[Node], ms: ModScope, loc: Loc
    ) -> list[Fn]:
        raise NotImplementedError

    def _needs_by_name(self, d: OpDef, args: list[Node]) -> bool:
        raise NotImplementedError

    def _by_name_loc(
        self, d: OpDef, args: list[Node], ams: ModScope, aloc: Loc
    ) -> tuple[Loc, list[tuple[str, Fn]]]:
        raise NotImplementedError

    def _bool_infix(self, sym: str) -> Callable[[Any, Any], Any] | None:
        raise NotImplementedError

    def _bounds(self, bounds: list[Node], ms: ModScope, loc: Loc) -> tuple[list[Any], list[Fn]]:
        raise NotImplementedError

    def _quant_parts(self, n: Node, ms: ModScope, loc: Loc) -> tuple[list[Any], list[Fn], Loc, Node]:
        raise NotImplementedError

    def _case_arms(self, n: Node, ms: ModScope, loc: Loc, compile_arm: Any) -> tuple[list[Any], Any]:
        raise NotImplementedError

    def _let_binder(
        self, n: Node, ms: ModScope, loc: Loc
    ) -> tuple[Loc, Callable[[Ctx, dict[str, Any]], dict[str, Any]]]:
        raise NotImplementedError

    def _fn_literal_from(self, pats: list[Any], sets: list[Fn], body: Fn) -> Fn:
        raise NotImplementedError

    def action(self, node: Node, ms: ModScope, loc: Loc, top: bool, init: bool) -> Act:
        raise NotImplementedError

    def label_target(self, n: Node, ms: ModScope) -> tuple[Node, OpDef, list[Node]] | None:
        raise NotImplementedError

    def _in_definition(self, node: Node, d: OpDef, args: list[Node], ms: ModScope, loc: Loc) -> Fn:
        raise NotImplementedError
