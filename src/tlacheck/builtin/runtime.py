"""Runtime objects shared by compiled closures: evaluation context, lazy values, operators."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from tlacheck.builtin.values import FV, EvalError, member, render, to_frozenset


class PDict(dict[str, Any]):
    """A (partial) variable assignment; reading an unassigned variable is a TLA+ error."""

    __slots__ = ("primed",)

    def __init__(self, *a: Any, primed: bool = True) -> None:
        super().__init__(*a)
        self.primed = primed

    def __missing__(self, key: str) -> Any:
        mark = "'" if self.primed else ""
        raise EvalError(f"variable {key}{mark} is referenced before it is assigned a value")


class EnabledDict(PDict):
    """Next-state assignment while deciding ENABLED: a variable the action leaves unassigned
    (e.g. one outside a refinement mapping's instance) keeps its current value."""

    __slots__ = ("base",)

    def __init__(self, base: dict[str, Any]) -> None:
        super().__init__()
        self.base = base

    def __missing__(self, key: str) -> Any:
        return self.base[key]


class NoState(dict[str, Any]):
    """State of a constant-level evaluation: any variable access marks the expression state-level."""

    def __missing__(self, key: str) -> Any:
        raise NeedsState


class NeedsState(Exception):
    pass


class Ctx:
    """Evaluation context: current state `s` and (during actions) the next-state assignment `p`."""

    __slots__ = ("cache", "label", "p", "s")

    def __init__(
        self, s: dict[str, Any], p: dict[str, Any] | None = None, cache: dict[Any, Any] | None = None
    ) -> None:
        self.s = s
        self.p = p
        self.label = ""
        # values of state-level zero-arity definitions in state s (only when s is a complete state)
        self.cache = cache

    def primed(self) -> Ctx:
        if self.p is None:
            raise EvalError("a primed expression was evaluated where no next state exists")
        return Ctx(self.p, None)


CONST_CTX = Ctx(NoState(), None)

Fn = Callable[[Ctx, dict[str, Any]], Any]
Act = Callable[[Ctx, dict[str, Any], Callable[[], None]], None]


class Lazy:
    """A LET-defined zero-arity operator: evaluated at most once, on first use."""

    __slots__ = ("c", "done", "e", "f", "v")

    def __init__(self, f: Fn, c: Ctx, e: dict[str, Any]) -> None:
        self.f = f
        self.c = c
        self.e = e
        self.done = False
        self.v: Any = None

    def force(self) -> Any:
        if not self.done:
            self.v = self.f(self.c, self.e)
            self.done = True
        return self.v


class RecFn:
    """A function defined by f[x \\in S] == e that refers to itself: evaluated pointwise, memoised."""

    __slots__ = ("body", "c", "dom", "e", "memo", "name", "pats")

    def __init__(self, name: str, dom: Any, pats: list[Any], body: Fn, c: Ctx, e: dict[str, Any]) -> None:
        self.name = name
        self.dom = dom
        self.pats = pats
        self.body = body
        self.c = c
        self.e = e
        self.memo: dict[Any, Any] = {}

    def apply(self, k: Any) -> Any:
        try:
            return self.memo[k]
        except KeyError:
            pass
        if not member(k, self.dom):
            raise EvalError(f"function {self.name} applied to {render(k)}, which is not in its domain")
        env = dict(self.e)
        env[self.name] = self
        if len(self.pats) == 1:
            bind(self.pats[0], k, env)
        else:
            for p, x in zip(self.pats, k.seq_items(), strict=True):
                bind(p, x, env)
        v = self.body(self.c, env)
        self.memo[k] = v
        return v

    def to_fv(self) -> FV:
        return FV({k: self.apply(k) for k in to_frozenset(self.dom)})

    def __eq__(self, other: object) -> bool:
        o = other.to_fv() if isinstance(other, RecFn) else other
        return self.to_fv() == o

    def __hash__(self) -> int:
        return hash(self.to_fv())


def bind(pat: Any, v: Any, env: dict[str, Any]) -> None:
    """Bind a bound-variable pattern: a name, or a tuple of names for <<a, b>> \\in S."""
    if isinstance(pat, str):
        env[pat] = v
        return
    if not isinstance(v, FV) or len(v.d) != len(pat):
        raise EvalError(f"cannot match {render(v)} against a tuple of {len(pat)} identifiers")
    for i, name in enumerate(pat, 1):
        env[name] = v.d[i]


def apply_fn(f: Any, k: Any) -> Any:
    if isinstance(f, FV):
        try:
            return f.d[k]
        except KeyError:
            raise EvalError(f"{render(k)} is not in the domain of {render(f)}") from None
        except TypeError:
            raise EvalError(f"{render(k)} is not in the domain of {render(f)}") from None
    if isinstance(f, RecFn):
        return f.apply(k)
    raise EvalError(f"attempted to apply a non-function {render(f)} to {render(k)}")


def as_fv(f: Any) -> FV:
    if isinstance(f, FV):
        return f
    if isinstance(f, RecFn):
        return f.to_fv()
    raise EvalError(f"expected a function, got {render(f)}")


def normalize(v: Any) -> Any:
    """Make a value storable in a state (force lazily-defined recursive functions)."""
    if isinstance(v, RecFn):
        return v.to_fv()
    return v


def sorted_by_op(c: Ctx, items: list[Any], op: Any) -> list[Any]:
    """`items` sorted by a TLA+ "less than" operator `op(a, b)`, as TLC's SortSeq does (stable;
    neither a < b nor b < a keeps their order). SortSeq and the CommunityModules sorts share it."""

    def cmp(a: Any, b: Any) -> int:
        if op(c, a, b) is True:
            return -1
        if op(c, b, a) is True:
            return 1
        return 0

    return sorted(items, key=functools.cmp_to_key(cmp))
