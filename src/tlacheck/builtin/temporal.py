"""Temporal formulas TLC checks on the behaviour graph, in the form the liveness checker uses.

Boolean combinations of []<>p and <>[]p (p a state predicate, ENABLED, or an action <<A>>_v,
WF/SF as properties expand into these) are negated and put in disjunctive normal form: each
disjunct asks for a fair cycle that stays inside some states/steps ("restrict", from <>[]) and
visits some states/steps infinitely often ("visit", from []<>).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tlacheck.builtin.runtime import Act, Fn


@dataclass(eq=False)
class Pred:
    """A state predicate (`state`), or a step predicate <<A>>_v (`act`), possibly negated."""

    state: Fn | None = None
    act: Act | None = None
    vars: Fn | None = None
    enabled_of: Act | None = None  # state predicate ENABLED <<act>>_vars
    env: dict[str, Any] = field(default_factory=dict)
    negated: bool = False

    def neg(self) -> Pred:
        return Pred(self.state, self.act, self.vars, self.enabled_of, self.env, not self.negated)

    @property
    def on_steps(self) -> bool:
        return self.act is not None


@dataclass
class GF:
    p: Pred  # []<>p


@dataclass
class FG:
    p: Pred  # <>[]p


@dataclass
class And:
    items: list[Any]


@dataclass
class Or:
    items: list[Any]


Formula = GF | FG | And | Or


def negate(f: Formula) -> Formula:
    if isinstance(f, GF):
        return FG(f.p.neg())
    if isinstance(f, FG):
        return GF(f.p.neg())
    if isinstance(f, And):
        return Or([negate(x) for x in f.items])
    return And([negate(x) for x in f.items])


@dataclass
class Conj:
    """One DNF disjunct of a negated property: a fair cycle inside `restrict` visiting every `visit`."""

    restrict: list[Pred] = field(default_factory=list)
    visit: list[Pred] = field(default_factory=list)


def dnf(f: Formula) -> list[Conj]:
    if isinstance(f, GF):
        return [Conj(visit=[f.p])]
    if isinstance(f, FG):
        return [Conj(restrict=[f.p])]
    if isinstance(f, Or):
        out: list[Conj] = []
        for x in f.items:
            out.extend(dnf(x))
        return out
    acc = [Conj()]
    for x in f.items:
        nxt = []
        for a in acc:
            for b in dnf(x):
                nxt.append(Conj(a.restrict + b.restrict, a.visit + b.visit))
        acc = nxt
        if len(acc) > 4096:
            raise ValueError("temporal formula too large")
    return acc
