"""Registry and value helpers shared by the native CommunityModules operators.

Each bundled module file (`tlacheck/stdlib/M.tla`) defines operator `Op` of module `M` as a
call of the built-in `CM_M_Op` (see `native_name`), so the operators are visible exactly where
`M` is EXTENDed or INSTANCEd, and their arity and higher-order parameters are declared in TLA+.
Implementations take the evaluation context first, then the argument values; an operator
argument is a callable `op(ctx, *args)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tlacheck.builtin.runtime import Ctx, apply_fn, as_fv
from tlacheck.builtin.values import (
    FV,
    EvalError,
    iter_set,
    mkseq,
    render,
    sorted_elems,
    to_frozenset,
)

Impl = Callable[..., Any]

# native name -> (arity, implementation); merged into stdlib.NAMED
NATIVE: dict[str, tuple[int, Impl]] = {}
# module -> operator names implemented natively (for docs and tests)
OPERATORS: dict[str, list[str]] = {}


def native_name(module: str, op: str) -> str:
    return f"CM_{module}_{op}"


def native(module: str, name: str, arity: int) -> Callable[[Impl], Impl]:
    def deco(f: Impl) -> Impl:
        NATIVE[native_name(module, name)] = (arity, f)
        OPERATORS.setdefault(module, []).append(name)
        return f

    return deco


def integer(v: Any, what: str = "an integer") -> int:
    if type(v) is not int:
        raise EvalError(f"expected {what}, got {render(v)}")
    return v


def boolean(v: Any, what: str) -> bool:
    if v is True or v is False:
        return v
    raise EvalError(f"{what} evaluated to the non-boolean {render(v)}")


def seq(v: Any) -> list[Any]:
    """The elements of a sequence (a tuple/sequence value; a string is not a sequence here)."""
    f = as_fv(v)
    return f.seq_items()


def elems(s: Any) -> list[Any]:
    """Elements of a finite set in TLC's order."""
    return sorted_elems(s) if isinstance(s, frozenset) else list(sorted_elems(to_frozenset(s)))


def fset(s: Any) -> frozenset[Any]:
    return to_frozenset(s)


def fn(v: Any) -> FV:
    return as_fv(v)


def apply(f: Any, k: Any) -> Any:
    return apply_fn(f, k)


def pair(a: Any, b: Any) -> FV:
    return FV({1: a, 2: b})


def record(**fields: Any) -> FV:
    return FV(dict(fields))


def field(v: Any, name: str) -> Any:
    f = as_fv(v)
    try:
        return f.d[name]
    except KeyError:
        raise EvalError(f"the record {render(v)} has no field {name}") from None


def tup(items: Iterable[Any]) -> FV:
    return mkseq(items)


def call(c: Ctx, op: Any, *args: Any) -> Any:
    return op(c, *args)


__all__ = [
    "FV",
    "NATIVE",
    "OPERATORS",
    "EvalError",
    "apply",
    "boolean",
    "call",
    "elems",
    "field",
    "fn",
    "fset",
    "integer",
    "iter_set",
    "native",
    "native_name",
    "pair",
    "record",
    "render",
    "seq",
    "tup",
]
