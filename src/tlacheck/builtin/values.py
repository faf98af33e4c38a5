"""Internal value representation of the built-in checker (tuned for speed, not for display).

bool, int, str, ModelValue and frozenset are used as is. Every function-like value (function,
record, tuple, sequence) is an `FV` holding a plain dict. Sets TLC keeps symbolic (Nat, Int,
STRING, Seq(S), SUBSET S, [S -> T], record sets) are `LazySet`s: membership is decided without
enumerating; enumeration happens only when the set is finite and actually iterated.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from tlacheck.canonical import Fn, ModelValue, sort_key


class EvalError(Exception):
    """A TLA+ evaluation error (TLC would report it and stop)."""

    def __init__(self, message: str, kind: str = "runtime") -> None:
        super().__init__(message)
        self.kind = kind
        self.where = ""

    def located(self, where: str) -> EvalError:
        """Attach the innermost source location (the first one attached wins)."""
        if not self.where:
            self.where = where
            if where not in str(self.args[0]):  # e.g. CHOOSE's message names its location already
                self.args = (f"{self.args[0]} (at {where})",)
        return self


class FV:
    """A TLA+ function (also records, tuples, sequences): an immutable dict wrapper."""

    __slots__ = ("d", "f", "h", "s")

    def __init__(self, d: dict[Any, Any]) -> None:
        self.d = d
        self.h: int | None = None
        self.f: int | None = None  # 64-bit fingerprint (fingerprint.py), computed on demand
        self.s: int | None = None  # its pair sum (fingerprint.py)

    def __hash__(self) -> int:
        h = self.h
        if h is None:
            h = self.h = hash(frozenset(self.d.items()))
        return h

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if isinstance(other, FV):
            if self.h is not None and other.h is not None and self.h != other.h:
                return False
            return self.d == other.d
        return False

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __repr__(self) -> str:
        return render(self)

    def seq_len(self) -> int:
        """Length if this is a sequence (domain 1..n), else raise."""
        n = len(self.d)
        d = self.d
        if n and (1 not in d or n not in d):
            raise EvalError(f"expected a sequence, got {render(self)}")
        return n

    def seq_items(self) -> list[Any]:
        n = self.seq_len()
        d = self.d
        return [d[i] for i in range(1, n + 1)]


EMPTY_FV = FV({})


def mkseq(items: Iterable[Any]) -> FV:
    return FV({i: v for i, v in enumerate(items, 1)})


class LazySet:
    """A set kept symbolic; subclasses define contains() and, when finite, elements()."""

    finite = True

    def contains(self, v: Any) -> bool:
        raise NotImplementedError

    def elements(self) -> frozenset[Any]:
        raise EvalError(f"cannot enumerate the infinite set {self!r}")

    def __iter__(self) -> Iterator[Any]:
        return iter(self.elements())

    def __hash__(self) -> int:
        return hash(self.elements())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazySet | frozenset):
            return to_frozenset(self) == to_frozenset(other)
        return False


class NatSet(LazySet):
    finite = False

    def contains(self, v: Any) -> bool:
        return type(v) is int and v >= 0

    def __repr__(self) -> str:
        return "Nat"

    def __hash__(self) -> int:
        return hash("Nat")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NatSet)


class IntSet(LazySet):
    finite = False

    def contains(self, v: Any) -> bool:
        return type(v) is int

    def __repr__(self) -> str:
        return "Int"

    def __hash__(self) -> int:
        return hash("Int")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IntSet)


class StringSet(LazySet):
    finite = False

    def contains(self, v: Any) -> bool:
        return type(v) is str

    def __repr__(self) -> str:
        return "STRING"

    def __hash__(self) -> int:
        return hash("STRING")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StringSet)


class SeqSet(LazySet):
    finite = False

    def __init__(self, base: Any) -> None:
        self.base = base

    def contains(self, v: Any) -> bool:
        if not isinstance(v, FV):
            return False
        d = v.d
        n = len(d)
        for i in range(1, n + 1):
            if i not in d or not member(d[i], self.base):
                return False
        return True

    def __repr__(self) -> str:
        return f"Seq({render(self.base)})"

    def __hash__(self) -> int:
        return hash(("Seq", self.base))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SeqSet) and other.base == self.base


class PowerSet(LazySet):
    def __init__(self, base: Any) -> None:
        self.base = base
        self.finite = is_finite(base)
        self._elems: frozenset[Any] | None = None

    def contains(self, v: Any) -> bool:
        if isinstance(v, frozenset):
            return all(member(x, self.base) for x in v)
        if isinstance(v, LazySet) and v.finite:
            return all(member(x, self.base) for x in v.elements())
        return False

    def elements(self) -> frozenset[Any]:
        if self._elems is None:
            items = sorted_elems(self.base)
            self._elems = frozenset(
                frozenset(c) for r in range(len(items) + 1) for c in itertools.combinations(items, r)
            )
        return self._elems

    def __iter__(self) -> Iterator[Any]:
        items = sorted_elems(self.base)
        for r in range(len(items) + 1):
            for c in itertools.combinations(items, r):
                yield frozenset(c)

    def __repr__(self) -> str:
        return f"SUBSET {render(self.base)}"


class FnSet(LazySet):
    def __init__(self, dom: Any, rng: Any) -> None:
        self.dom = dom
        self.rng = rng
        self.finite = is_finite(dom) and is_finite(rng)
        self._elems: frozenset[Any] | None = None

    def contains(self, v: Any) -> bool:
        if not isinstance(v, FV):
            return False
        d = v.d
        dom = to_frozenset(self.dom)
        if len(d) != len(dom):
            return False
        for k in dom:
            if k not in d or not member(d[k], self.rng):
                return False
        return True

    def __iter__(self) -> Iterator[Any]:
        keys = sorted_elems(self.dom)
        vals = sorted_elems(self.rng)
        for combo in itertools.product(vals, repeat=len(keys)):
            yield FV(dict(zip(keys, combo, strict=True)))

    def elements(self) -> frozenset[Any]:
        if self._elems is None:
            if not self.finite:
                raise EvalError(f"cannot enumerate the infinite set {self!r}")
            self._elems = frozenset(iter(self))
        return self._elems

    def __repr__(self) -> str:
        return f"[{render(self.dom)} -> {render(self.rng)}]"


class RecSet(LazySet):
    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields
        self.finite = all(is_finite(s) for s in fields.values())
        self._elems: frozenset[Any] | None = None

    def contains(self, v: Any) -> bool:
        if not isinstance(v, FV):
            return False
        d = v.d
        if len(d) != len(self.fields):
            return False
        for k, s in self.fields.items():
            if k not in d or not member(d[k], s):
                return False
        return True

    def __iter__(self) -> Iterator[Any]:
        names = list(self.fields)
        for combo in itertools.product(*(sorted_elems(self.fields[n]) for n in names)):
            yield FV(dict(zip(names, combo, strict=True)))

    def elements(self) -> frozenset[Any]:
        if self._elems is None:
            if not self.finite:
                raise EvalError(f"cannot enumerate the infinite set {self!r}")
            self._elems = frozenset(iter(self))
        return self._elems

    def __repr__(self) -> str:
        return "[" + ", ".join(f"{k} : {render(s)}" for k, s in self.fields.items()) + "]"


class DiffSet(LazySet):
    """S \\ T with S infinite."""

    def __init__(self, a: Any, b: Any) -> None:
        self.a = a
        self.b = b
        self.finite = is_finite(a)

    def contains(self, v: Any) -> bool:
        return member(v, self.a) and not member(v, self.b)

    def __repr__(self) -> str:
        return f"({render(self.a)} \\ {render(self.b)})"

    def __hash__(self) -> int:
        return hash(("diff", repr(self)))


class UnionSet(LazySet):
    """S \\cup T with an infinite operand."""

    def __init__(self, a: Any, b: Any) -> None:
        self.a = a
        self.b = b
        self.finite = False

    def contains(self, v: Any) -> bool:
        return member(v, self.a) or member(v, self.b)

    def __repr__(self) -> str:
        return f"({render(self.a)} \\cup {render(self.b)})"

    def __hash__(self) -> int:
        return hash(("union", repr(self)))


class ProductSet(LazySet):
    """S1 \\X ... \\X Sn with an infinite factor: membership only."""

    def __init__(self, sets: list[Any]) -> None:
        self.sets = sets
        self.finite = False

    def contains(self, v: Any) -> bool:
        if not isinstance(v, FV) or len(v.d) != len(self.sets):
            return False
        d = v.d
        return all(i in d and member(d[i], s) for i, s in enumerate(self.sets, 1))

    def __repr__(self) -> str:
        return " \\X ".join(render(s) for s in self.sets)

    def __hash__(self) -> int:
        return hash(("product", repr(self)))


class InterSet(LazySet):
    """S \\cap T with neither operand enumerable: membership only (TLC's SetCapValue)."""

    def __init__(self, a: Any, b: Any) -> None:
        self.a = a
        self.b = b
        self.finite = False

    def contains(self, v: Any) -> bool:
        return member(v, self.a) and member(v, self.b)

    def __repr__(self) -> str:
        return f"({render(self.a)} \\cap {render(self.b)})"

    def __hash__(self) -> int:
        return hash(("inter", repr(self)))


class BigUnionSet(LazySet):
    """UNION S with an infinite member set: membership only (TLC's UnionValue)."""

    def __init__(self, sets: list[Any]) -> None:
        self.sets = sets
        self.finite = False

    def contains(self, v: Any) -> bool:
        return any(member(v, x) for x in self.sets)

    def __repr__(self) -> str:
        return "UNION {" + ", ".join(repr(x) for x in self.sets) + "}"

    def __hash__(self) -> int:
        return hash(("bigunion", repr(self)))


class FilterSet(LazySet):
    """{x \\in S : P} with S infinite: membership only."""

    def __init__(self, base: Any, pred: Any) -> None:
        self.base = base
        self.pred = pred
        self.finite = False

    def contains(self, v: Any) -> bool:
        return member(v, self.base) and self.pred(v) is True

    def __repr__(self) -> str:
        return f"{{x \\in {render(self.base)} : ...}}"

    def __hash__(self) -> int:
        return id(self)


def is_finite(s: Any) -> bool:
    if isinstance(s, frozenset):
        return True
    if isinstance(s, LazySet):
        return s.finite
    raise EvalError(f"expected a set, got {render(s)}")


def member(v: Any, s: Any) -> bool:
    if isinstance(s, frozenset):
        try:
            return v in s
        except TypeError:
            return False
    if isinstance(s, LazySet):
        return s.contains(v)
    raise EvalError(f"\\in applied to a non-set: {render(s)}")


def to_frozenset(s: Any) -> frozenset[Any]:
    if isinstance(s, frozenset):
        return s
    if isinstance(s, LazySet):
        return s.elements()
    raise EvalError(f"expected a set, got {render(s)}")


def iter_set(s: Any) -> Iterable[Any]:
    # TLC's order, not hash order: string hashes change per process (PYTHONHASHSEED), and so
    # would the counts at a violation and the trace chosen
    if isinstance(s, frozenset):
        return sorted_elems(s)
    if isinstance(s, LazySet):
        if not s.finite:
            raise EvalError(f"cannot enumerate the infinite set {s!r}")
        return s
    raise EvalError(f"expected a set, got {render(s)}")


def vkey(v: Any) -> Any:
    """TLC-like total order: used for CHOOSE, enumeration and printing."""
    if isinstance(v, bool):
        return (0, v)
    if isinstance(v, int):
        return (1, v)
    if isinstance(v, str):
        return (2, v)
    if isinstance(v, ModelValue):
        return (3, v.name)
    if isinstance(v, frozenset):
        return (4, len(v), tuple(sorted(vkey(x) for x in v)))
    if isinstance(v, FV):
        # TLC compares functions by domain, then by values in domain order
        pairs = sorted((vkey(k), x) for k, x in v.d.items())
        return (5, len(pairs), tuple(k for k, _ in pairs), tuple(vkey(x) for _, x in pairs))
    if isinstance(v, LazySet):
        return (4, 0, repr(v))
    return (9, repr(v))


_SORTED: dict[frozenset[Any], list[Any]] = {}


_SORTED_BY_ID: dict[int, tuple[frozenset[Any], list[Any]]] = {}


def sorted_elems(s: Any) -> list[Any]:
    """Elements in TLC's order (shared list: do not mutate). Memoised: CHOOSE and recursive
    operators keep re-sorting the same sets, and quantifiers keep enumerating the same
    (constant) set object, which the identity cache answers without hashing or comparing."""
    if type(s) is frozenset:
        hit = _SORTED_BY_ID.get(id(s))
        if hit is not None and hit[0] is s:  # the entry holds s, so its id cannot be reused
            return hit[1]
        r = _SORTED.get(s)
        if r is not None and r and type(r[0]) is not type(next(iter(s))):
            r = None  # Python says {0, 1} == {FALSE, TRUE}; TLA+ does not
        if r is None:
            if all(type(x) is int for x in s):
                r = sorted(s)
            elif any(type(x) is bool for x in s):
                return sorted(s, key=vkey)  # never cached, see above
            else:
                r = sorted(s, key=vkey)
            if len(_SORTED) > 100_000:
                _SORTED.clear()
            _SORTED[s] = r
        if len(_SORTED_BY_ID) > 10_000:
            _SORTED_BY_ID.clear()
        _SORTED_BY_ID[id(s)] = (s, r)
        return r
    return sorted(iter_set(s), key=vkey)


def to_canonical(v: Any) -> Any:
    if isinstance(v, bool | int | str | ModelValue):
        return v
    if isinstance(v, frozenset):
        return frozenset(to_canonical(x) for x in v)
    if isinstance(v, FV):
        return Fn((to_canonical(k), to_canonical(x)) for k, x in v.d.items())
    if isinstance(v, LazySet):
        return frozenset(to_canonical(x) for x in v.elements())
    raise EvalError(f"value {render(v)} has no canonical form")


def from_canonical(v: Any) -> Any:
    if isinstance(v, bool | int | str | ModelValue):
        return v
    if isinstance(v, frozenset):
        return frozenset(from_canonical(x) for x in v)
    if isinstance(v, Fn):
        return FV({from_canonical(k): from_canonical(x) for k, x in v.items()})
    raise EvalError(f"cannot convert {render(v)}")


def _str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render(v: Any) -> str:
    """TLA+ text of a value, as TLC prints it."""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return _str(v)
    if isinstance(v, ModelValue):
        return v.name
    if isinstance(v, frozenset):
        return "{" + ", ".join(render(x) for x in sorted(v, key=vkey)) + "}"
    if isinstance(v, FV):
        d = v.d
        n = len(d)
        if n == 0:
            return "<<>>"
        if all(i in d for i in range(1, n + 1)):
            return "<<" + ", ".join(render(d[i]) for i in range(1, n + 1)) + ">>"
        if all(isinstance(k, str) for k in d):
            return "[" + ", ".join(f"{k} |-> {render(d[k])}" for k in sorted(d)) + "]"
        ks = sorted(d, key=vkey)
        return "(" + " @@ ".join(f"{render(k)} :> {render(d[k])}" for k in ks) + ")"
    if isinstance(v, LazySet):
        if v.finite and not isinstance(v, NatSet | IntSet):
            return render(v.elements())
        return repr(v)
    if callable(v):
        return "<operator>"
    return repr(v)


__all__ = ["EMPTY_FV", "FV", "EvalError", "ModelValue", "sort_key"]
