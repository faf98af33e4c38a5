"""Canonical, hashable Python encoding of TLA+ values (TLC equality).

Used to compare a Python model's states with the states the built-in checker explores.

* BOOLEAN -> bool, integers -> int, strings -> str, model values -> ModelValue
* sets -> frozenset
* every function-like value (function, record, tuple, sequence) -> Fn, an immutable mapping
  sorted by key. A record is a function from strings; ``<<>>`` is the empty function;
  a sequence is a function with domain 1..n.

Booleans are never equal to integers in TLA+, but Python says ``True == 1``; Fn and set
equality therefore compares through `_key`, which tags every value with its kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Union

Value = Union[bool, int, str, "ModelValue", frozenset, "Fn"]


class ModelValue:
    """A TLC model value: equal only to itself (by name).

    Interned: `ModelValue(name)` always returns the same object for a name (also after
    pickling), so equality and hashing are Python's identity-based ones, done in C. Model
    values are dict keys on the checker's hottest path (`f[p]` for p in a set of model values).
    """

    __slots__ = ("name",)
    _interned: dict[str, ModelValue] = {}  # noqa: RUF012

    name: str

    def __new__(cls, name: str) -> ModelValue:
        r = ModelValue._interned.get(name)
        if r is None:
            r = object.__new__(cls)
            r.name = name
            ModelValue._interned[name] = r
        return r

    def __lt__(self, other: ModelValue) -> bool:
        return self.name < other.name

    def __reduce__(self) -> tuple[Any, ...]:
        return (ModelValue, (self.name,))

    def __repr__(self) -> str:
        return f"mv({self.name!r})"


def _kind(v: Any) -> int:
    if isinstance(v, bool):
        return 0
    if isinstance(v, int):
        return 1
    if isinstance(v, str):
        return 2
    if isinstance(v, ModelValue):
        return 3
    if isinstance(v, frozenset):
        return 4
    if isinstance(v, Fn):
        return 5
    raise TypeError(f"not a canonical TLA+ value: {v!r}")


def sort_key(v: Any) -> tuple[Any, ...]:
    """A total order on canonical values (kind first), used for deterministic rendering."""
    k = _kind(v)
    if k in (0, 1, 2):
        return (k, v)
    if k == 3:
        return (k, v.name)
    if k == 4:
        return (k, tuple(sorted(sort_key(x) for x in v)))
    return (k, tuple((sort_key(a), sort_key(b)) for a, b in v.items()))


def _hkey(v: Any) -> Any:
    """Hash/equality key that keeps booleans distinct from integers."""
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, int):
        return ("i", v)
    if isinstance(v, frozenset):
        return ("s", frozenset(_hkey(x) for x in v))
    return v


class Fn(Mapping[Any, Any]):
    """An immutable TLA+ function, sorted by key. Records, tuples and sequences are Fns."""

    __slots__ = ("_hash", "_items", "_map")

    def __init__(self, mapping: Mapping[Any, Any] | Iterable[tuple[Any, Any]] = ()) -> None:
        pairs = list(mapping.items()) if isinstance(mapping, Mapping) else list(mapping)
        for k, v in pairs:
            _kind(k)
            _kind(v)
        pairs.sort(key=lambda kv: sort_key(kv[0]))
        self._items: tuple[tuple[Any, Any], ...] = tuple(pairs)
        self._map: dict[Any, Any] = {_hkey(k): v for k, v in pairs}
        self._hash: int | None = None

    def __getitem__(self, key: Any) -> Any:
        return self._map[_hkey(key)]

    def __contains__(self, key: object) -> bool:
        return _hkey(key) in self._map

    def __iter__(self) -> Iterator[Any]:
        return (k for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> Any:
        return self._items

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fn):
            return NotImplemented
        return self._ekey() == other._ekey()

    def _ekey(self) -> tuple[Any, ...]:
        return tuple((_hkey(k), _hkey(v)) for k, v in self._items)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self._ekey())
        return self._hash

    def __repr__(self) -> str:
        return f"Fn({dict(self._items)!r})"

    def is_sequence(self) -> bool:
        return all(
            isinstance(k, int) and not isinstance(k, bool) and k == i + 1
            for i, (k, _) in enumerate(self._items)
        )

    def is_record(self) -> bool:
        return len(self._items) > 0 and all(isinstance(k, str) for k, _ in self._items)


def fn(mapping: Mapping[Any, Any] | Iterable[tuple[Any, Any]] = ()) -> Fn:
    return Fn(mapping)


def rec(**fields: Any) -> Fn:
    return Fn(fields)


def seq(*items: Any) -> Fn:
    return Fn((i + 1, x) for i, x in enumerate(items))


tup = seq


def mv(name: str) -> ModelValue:
    return ModelValue(name)


def canon(v: Any) -> Any:
    """Convert plain Python containers to canonical values (set/list/tuple/dict are accepted)."""
    if isinstance(v, bool | int | str | ModelValue | Fn):
        return v
    if isinstance(v, set | frozenset):
        return frozenset(canon(x) for x in v)
    if isinstance(v, list | tuple):
        return seq(*(canon(x) for x in v))
    if isinstance(v, dict):
        return Fn((canon(k), canon(x)) for k, x in v.items())
    raise TypeError(f"cannot convert {v!r} to a TLA+ value")


class CanonState(dict[str, Any]):
    """A state: variable name -> canonical value. Hashable by content (bool != int)."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted((k, _hkey(v)) for k, v in self.items())))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, dict):
            return NotImplemented
        return set(self) == set(other) and all(_hkey(self[k]) == _hkey(other[k]) for k in self)

    def __ne__(self, other: object) -> bool:
        r = self.__eq__(other)
        return r if r is NotImplemented else not r


def canon_state(state: Mapping[str, Any]) -> CanonState:
    return CanonState({k: canon(v) for k, v in state.items()})


def to_tla(v: Any) -> str:
    """Render a canonical value the way TLC prints it. One renderer for every value the package
    prints: the checker's own (`tlacheck.builtin.values.render`)."""
    from tlacheck.builtin.values import EvalError, from_canonical, render

    try:
        return render(from_canonical(v))
    except EvalError:
        raise TypeError(f"not a canonical TLA+ value: {v!r}") from None
