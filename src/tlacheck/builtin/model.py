"""Turns a spec + cfg into what the checker runs: Init/Next actions, invariants, properties, fairness."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tlacheck.builtin import stdlib
from tlacheck.builtin.cfg import Config
from tlacheck.builtin.compiler import Compiler, _truth
from tlacheck.builtin.reads import variables_read
from tlacheck.builtin.runtime import CONST_CTX, Act, Ctx, Fn, NeedsState
from tlacheck.builtin.scope import ConstDef, ModScope, OpDef, SemanticError, SubstDef, Unsupported
from tlacheck.builtin.syntax import ModuleLoader, Node, kids, parse_file
from tlacheck.builtin.temporal import FG, GF, And, Conj, Formula, Or, Pred, dnf, negate
from tlacheck.builtin.values import FV, EvalError, iter_set, render
from tlacheck.canonical import ModelValue

Loc = dict[str, str]


@dataclass
class Part:
    """A subformula with the scope and bound values it is evaluated in."""

    node: Node
    ms: ModScope
    loc: Loc
    env: dict[str, Any]


@dataclass
class Fairness:
    strong: bool
    act: Act
    vars: Fn
    env: dict[str, Any]
    text: str


@dataclass
class Liveness:
    """A temporal property TLC checks on the behaviour graph.

    kind: "ev" <>P (from initial states satisfying init_filter), "leads" P ~> Q,
    "stab_after" [](P => <>[]Q), "always_after" [](P => []Q), "gffg" boolean combinations of
    []<>/<>[] (conjs: the DNF of the negation, see temporal.py).
    """

    name: str
    kind: str
    p: Fn | None
    q: Fn | None
    env: dict[str, Any]
    init_filter: Fn | None = None
    conjs: list[Conj] = field(default_factory=list)


@dataclass
class Model:
    comp: Compiler
    ms: ModScope
    variables: list[str]
    init: Act | None  # None: the cfg defines no behaviour (only ASSUMEs are checked)
    next: Act | None
    invariants: list[tuple[str, Fn]] = field(default_factory=list)
    # per invariant: the variables it reads (reads.py), None if unknown
    invariant_reads: list[frozenset[str] | None] = field(default_factory=list)
    prop_invariants: list[tuple[str, Fn, dict[str, Any]]] = field(default_factory=list)
    init_props: list[tuple[str, Fn, dict[str, Any]]] = field(default_factory=list)
    action_props: list[tuple[str, Fn, dict[str, Any]]] = field(default_factory=list)
    liveness: list[Liveness] = field(default_factory=list)
    fairness: list[Fairness] = field(default_factory=list)
    constraints: list[tuple[str, Fn]] = field(default_factory=list)
    action_constraints: list[tuple[str, Fn]] = field(default_factory=list)
    view: Fn | None = None
    symmetry: list[FV] | None = None
    check_deadlock: bool = True
    assumptions: list[tuple[str, Fn]] = field(default_factory=list)


class ModelBuilder:
    def __init__(self, spec: Path, cfg: Config) -> None:
        self.cfg = cfg
        self.comp = Compiler(ModuleLoader(spec.parent))
        self.comp.scoped_overrides = dict(cfg.scoped_substitutions)
        self.comp.scoped_values = dict(cfg.scoped_constants)
        self.root = parse_file(spec)
        self.ms = self.comp.load_root(self.root)
        self._level_memo: dict[int, int] = {}

    # --------------------------------------------------------------- constants

    def apply_constants(self) -> None:
        ms = self.ms
        for name, d in list(ms.names.items()):
            if not isinstance(d, ConstDef):
                continue
            if name in self.cfg.substitutions:
                target = ms.lookup(self.cfg.substitutions[name])
                if target is None:
                    raise SemanticError(
                        f"cfg substitutes {name} <- {self.cfg.substitutions[name]}, which is not defined",
                        "config",
                    )
                d.replacement = target
            elif name in self.cfg.constants:
                d.value = self.cfg.constants[name]
                d.has_value = True
        for name in list(self.cfg.constants) + list(self.cfg.substitutions):
            if name not in ms.names:
                if name in stdlib.NAMED:
                    # overriding a standard operator (e.g. Nat <- 0..5, Seq <- BoundedSeq)
                    cd = ConstDef(name, 0, None, ms)
                    if name in self.cfg.substitutions:
                        cd.replacement = ms.lookup(self.cfg.substitutions[name])
                    else:
                        cd.value = self.cfg.constants[name]
                        cd.has_value = True
                    ms.names[name] = cd
                    self.comp.std_overrides[name] = cd
                # TLC accepts (and ignores) assignments to names the spec does not declare
                continue
            d2 = ms.names[name]
            if isinstance(d2, OpDef) and name in self.cfg.substitutions:
                target = ms.lookup(self.cfg.substitutions[name])
                if target is not None:
                    ms.names[name] = target
                continue
            if isinstance(d2, OpDef) and name in self.cfg.constants:
                v = self.cfg.constants[name]
                d2.const_state = 1
                d2.value = v
                d2.fn = lambda c, e, v=v: v
        for name, d in ms.names.items():
            if isinstance(d, ConstDef) and not d.has_value and d.replacement is None:
                raise SemanticError(f"constant {name} is not assigned a value in the cfg", "config")

    # --------------------------------------------------------------- definitions

    def named(self, name: str, what: str) -> OpDef:
        d = self.ms.lookup(name)
        if not isinstance(d, OpDef):
            raise SemanticError(f"the cfg names {what} {name}, which is not a defined operator", "config")
        return d

    def expr_of(self, name: str, what: str) -> Fn:
        d = self.named(name, what)
        if d.params:
            raise SemanticError(f"{what} {name} takes arguments", "config")
        return self.comp.eval0(d)

    def expand(self, p: Part) -> Part:
        """Follow parentheses and operator references down to a structural node."""
        for _ in range(200):
            n, t = p.node, p.node.type
            if t == "parentheses":
                p = Part(kids(n)[0], p.ms, p.loc, p.env)
                continue
            if t == "label":
                p = Part(n.child_by_field_name("expression"), p.ms, p.loc, p.env)
                continue
            if t in ("identifier_ref", "bound_op", "prefixed_op"):
                ms = p.ms
                node = n
                if t == "prefixed_op":
                    ms, node = self.comp.resolve_prefixed(n, p.ms)
                if node.type == "identifier_ref":
                    name, args = ms.module.text(node), []
                elif node.type == "bound_op":
                    name = ms.module.text(node.child_by_field_name("name"))
                    args = [a for a in node.children_by_field_name("parameter") if a.is_named]
                else:
                    return p
                if name in p.loc and ms is p.ms:
                    return p
                d = ms.lookup(name)
                if isinstance(d, SubstDef) and not args:
                    p = Part(d.node, d.ms, {}, {})
                    continue
                if not isinstance(d, OpDef) or d.fn_bounds is not None or len(args) != len(d.params):
                    return p
                env = {}
                for (pn, arity), a in zip(d.params, args, strict=True):
                    f = self.comp.op_value(a, p.ms, p.loc, arity) if arity else self.comp.expr(a, p.ms, p.loc)
                    env[pn] = f(CONST_CTX, p.env)
                loc = {pn: ("op" if ar else "val") for pn, ar in d.params}
                p = Part(d.body, d.ms, loc, env)
                continue
            return p
        raise SemanticError("definition expansion too deep")

    def conjuncts(self, p: Part) -> list[Part]:
        p = self.expand(p)
        n, t = p.node, p.node.type
        if t == "conj_list":
            out = []
            for i in kids(n):
                if i.type == "conj_item":
                    out.extend(self.conjuncts(Part(kids(i)[-1], p.ms, p.loc, p.env)))
            return out
        if t == "bound_infix_op" and n.child_by_field_name("symbol").type == "land":
            return self.conjuncts(Part(n.child_by_field_name("lhs"), p.ms, p.loc, p.env)) + self.conjuncts(
                Part(n.child_by_field_name("rhs"), p.ms, p.loc, p.env)
            )
        if (
            t == "bounded_quantification"
            and n.child_by_field_name("quantifier").type == "forall"
            and self.level(n, p.ms) == 2
        ):
            pats, sets, loc2, body = self.comp._quant_parts(n, p.ms, p.loc)
            from tlacheck.builtin.compiler import _env_gen

            out = []
            for env in _env_gen(pats, sets)(CONST_CTX, p.env):
                out.extend(self.conjuncts(Part(body, p.ms, loc2, env)))
            return out
        return [p]

    def level(self, n: Node, ms: ModScope) -> int:
        """0 = state/constant, 1 = action, 2 = temporal (syntactic, through definitions)."""
        t = n.type
        if t == "bound_postfix_op" and n.child_by_field_name("symbol").type == "prime":
            return 1
        if t in ("step_expr_or_stutter", "step_expr_no_stutter"):
            return 1
        if t == "fairness":
            return 2
        if t == "bound_prefix_op":
            st = n.child_by_field_name("symbol").type
            if st in ("always", "eventually"):
                return 2
            if st == "enabled":
                return 0
            if st == "unchanged":
                return 1
        if t == "bound_infix_op" and n.child_by_field_name("symbol").type == "leads_to":
            return 2
        lv = 0
        if t in ("identifier_ref", "bound_op", "prefixed_op"):
            sub, node = ms, n
            if t == "prefixed_op":
                try:
                    sub, node = self.comp.resolve_prefixed(n, ms)
                except (Unsupported, SemanticError):
                    return 0
            name_node = node if node.type == "identifier_ref" else node.child_by_field_name("name")
            if name_node is not None and name_node.type == "identifier_ref":
                d = sub.lookup(sub.module.text(name_node))
                if isinstance(d, OpDef):
                    key = id(d)
                    if key not in self._level_memo:
                        self._level_memo[key] = 0
                        self._level_memo[key] = self.level(d.body, d.ms)
                    lv = self._level_memo[key]
                elif isinstance(d, SubstDef):
                    lv = self.level(d.node, d.ms)
        for ch in n.named_children:
            if lv == 2:
                break
            lv = max(lv, self.level(ch, ms))
        return lv

    # --------------------------------------------------------------- spec

    def build(self) -> Model:
        self.apply_constants()
        cfg = self.cfg
        comp = self.comp
        fairness: list[Fairness] = []
        if cfg.specification:
            spec = self.named(cfg.specification, "SPECIFICATION")
            if spec.params:
                raise SemanticError("SPECIFICATION takes arguments", "config")
            init_parts: list[Part] = []
            next_part: Part | None = None
            next_vars: Node | None = None
            for part in self.conjuncts(Part(spec.body, spec.ms, {}, {})):
                n = part.node
                if n.type == "bound_prefix_op" and n.child_by_field_name("symbol").type == "always":
                    inner = self.expand(Part(n.child_by_field_name("rhs"), part.ms, part.loc, part.env))
                    if inner.node.type == "step_expr_or_stutter":
                        ks = kids(inner.node)
                        next_part = Part(ks[0], inner.ms, inner.loc, inner.env)
                        next_vars = ks[-1]
                        continue
                    raise comp.err(part.ms, n, "[] formula in SPECIFICATION other than [][Next]_v")
                if n.type == "fairness":
                    fairness.append(self.fairness(part))
                    continue
                lv = self.level(n, part.ms)
                if lv == 0:
                    init_parts.append(part)
                else:
                    raise comp.err(part.ms, n, "SPECIFICATION conjunct")
            if next_part is None:
                raise SemanticError(
                    f"SPECIFICATION {cfg.specification} has no [][Next]_vars conjunct", "config"
                )
            if not init_parts:
                raise SemanticError(f"SPECIFICATION {cfg.specification} has no initial predicate", "config")
            del next_vars
            init = self._conj_action(init_parts, init=True)
            nxt = self._conj_action([next_part], init=False)
        elif not cfg.init and not cfg.next:
            # no behaviour to check: TLC only evaluates the ASSUMEs
            init = nxt = None  # type: ignore[assignment]
        else:
            if not cfg.init or not cfg.next:
                raise SemanticError("the cfg names only one of INIT and NEXT", "config")
            di = self.named(cfg.init, "INIT")
            dn = self.named(cfg.next, "NEXT")
            init = self._conj_action([Part(di.body, di.ms, {}, {})], init=True)
            nxt = self._conj_action([Part(dn.body, dn.ms, {}, {})], init=False, label=dn.name)
        model = Model(comp, self.ms, list(comp.variables), init, nxt, fairness=fairness)
        model.check_deadlock = cfg.check_deadlock
        model.invariants = [(n, self.expr_of(n, "INVARIANT")) for n in cfg.invariants]
        model.invariant_reads = [variables_read(self.named(n, "INVARIANT")) for n in cfg.invariants]
        model.constraints = [(n, self.expr_of(n, "CONSTRAINT")) for n in cfg.constraints]
        model.action_constraints = [(n, self.expr_of(n, "ACTION_CONSTRAINT")) for n in cfg.action_constraints]
        if cfg.view:
            model.view = self.expr_of(cfg.view, "VIEW")
        if cfg.symmetry:
            perms = self.expr_of(cfg.symmetry, "SYMMETRY")(CONST_CTX, {})
            model.symmetry = permutation_group([p for p in iter_set(perms) if isinstance(p, FV)])
        for prop in cfg.properties:
            self.property(model, prop)
        for node, ms in comp.assumptions:
            body = kids(node)[-1]
            label = ms.module.where(node)
            nm = node.child_by_field_name("name")
            if nm is not None:
                label = ms.module.text(nm)
            if _has_unbounded_quantifier(body):
                # TLC cannot evaluate these either; such ASSUMEs document intent (proof-only)
                continue
            model.assumptions.append((label, comp.expr(body, ms, {})))
        return model

    def _conj_action(self, parts: list[Part], init: bool, label: str = "") -> Act:
        acts = []
        for p in parts:
            a = self.comp.action(p.node, p.ms, p.loc, top=not init, init=init)
            env = p.env
            acts.append((a, env))
        if len(acts) == 1:
            a0, env0 = acts[0]

            def one(c: Ctx, e: dict[str, Any], k: Any) -> None:
                c.label = label
                a0(c, env0, k)

            return one

        def chain(i: int, c: Ctx, k: Any) -> None:
            if i == len(acts):
                k()
                return
            a, env = acts[i]
            a(c, env, lambda: chain(i + 1, c, k))

        return lambda c, e, k: chain(0, c, k)

    def fairness(self, p: Part) -> Fairness:
        n = p.node
        strong = n.children[0].type == "SF_"
        ks = kids(n)
        vars_n, act_n = ks[0], ks[-1]
        act = self.comp.action(act_n, p.ms, p.loc, top=False, init=False)
        v = self.comp.expr(vars_n, p.ms, p.loc)
        return Fairness(strong, act, v, p.env, p.ms.module.text(n))

    def property(self, model: Model, name: str) -> None:
        d = self.named(name, "PROPERTY")
        for part in self.conjuncts(Part(d.body, d.ms, {}, {})):
            self._property_part(model, name, part)

    def _sym(self, n: Node) -> str:
        if n.type in ("bound_prefix_op", "bound_infix_op"):
            return str(n.child_by_field_name("symbol").type)
        return ""

    def _sub(self, p: Part, field_name: str) -> Part:
        return self.expand(Part(p.node.child_by_field_name(field_name), p.ms, p.loc, p.env))

    def _property_part(self, model: Model, name: str, part: Part) -> None:
        comp = self.comp
        n, ms, loc, env = part.node, part.ms, part.loc, part.env
        lv = self.level(n, ms)
        if lv == 0:
            model.init_props.append((name, comp.expr(n, ms, loc), env))
            return
        t, sym = n.type, self._sym(n)
        if t == "bound_prefix_op" and sym == "always":
            inner = self._sub(part, "rhs")
            it, isym = inner.node.type, self._sym(inner.node)
            if (it == "bound_infix_op" and isym == "leads_to") or (
                it == "bound_prefix_op" and isym == "always"
            ):
                # [](P ~> Q) is P ~> Q and [][]F is []F: both already hold at every point
                self._property_part(model, name, inner)
                return
            if it == "step_expr_or_stutter":
                model.action_props.append((name, comp.expr(inner.node, inner.ms, inner.loc), inner.env))
                return
            if self.level(inner.node, inner.ms) == 0:
                model.prop_invariants.append((name, comp.expr(inner.node, inner.ms, inner.loc), inner.env))
                return
            if it == "bound_infix_op" and isym == "implies":
                lhs = Part(inner.node.child_by_field_name("lhs"), inner.ms, inner.loc, inner.env)
                rhs = self._sub(inner, "rhs")
                if self.level(lhs.node, lhs.ms) == 0 and rhs.node.type == "bound_prefix_op":
                    rsym = self._sym(rhs.node)
                    rr = self._sub(rhs, "rhs")
                    if rsym == "eventually" and self.level(rr.node, rr.ms) == 0:
                        model.liveness.append(Liveness(name, "leads", self._pred(lhs), self._pred(rr), env))
                        return
                    if rsym == "always" and self.level(rr.node, rr.ms) == 0:
                        model.liveness.append(
                            Liveness(name, "always_after", self._pred(lhs), self._pred(rr), env)
                        )
                        return
                    if rsym == "eventually" and self._sym(rr.node) == "always":
                        q = self._sub(rr, "rhs")
                        if self.level(q.node, q.ms) == 0:
                            model.liveness.append(
                                Liveness(name, "stab_after", self._pred(lhs), self._pred(q), env)
                            )
                            return
        if t == "bound_infix_op" and sym == "leads_to":
            lhs = Part(n.child_by_field_name("lhs"), ms, loc, env)
            rhs = Part(n.child_by_field_name("rhs"), ms, loc, env)
            if self.level(lhs.node, ms) == 0 and self.level(rhs.node, ms) == 0:
                model.liveness.append(Liveness(name, "leads", self._pred(lhs), self._pred(rhs), env))
                return
        if t == "bound_prefix_op" and sym == "eventually":
            inner = self._sub(part, "rhs")
            if inner.node.type == "bound_prefix_op" and self._sym(inner.node) == "eventually":
                self._property_part(model, name, inner)  # <><>F is <>F
                return
            if self.level(inner.node, inner.ms) == 0:
                model.liveness.append(Liveness(name, "ev", self._pred(inner), None, env))
                return
        # P => <>Q and IF c THEN <>P ELSE <>Q: about the behaviours starting in some initial states
        if t == "bound_infix_op" and sym == "implies":
            lhs = Part(n.child_by_field_name("lhs"), ms, loc, env)
            rhs = self._sub(part, "rhs")
            if self.level(lhs.node, ms) == 0 and self._add_ev(model, name, rhs, self._pred(lhs)):
                return
        if t == "if_then_else":
            cond = Part(n.child_by_field_name("if"), ms, loc, env)
            if self.level(cond.node, ms) == 0:
                c = self._pred(cond)
                notc = _negated(c)
                if self._add_ev(model, name, self._sub(part, "then"), c) and self._add_ev(
                    model, name, self._sub(part, "else"), notc
                ):
                    return
        f = self.gffg(part)
        if f is not None:
            model.liveness.append(Liveness(name, "gffg", None, None, env, conjs=dnf(negate(f))))
            return
        raise comp.err(ms, n, f"temporal property form in {name}")

    def _add_ev(self, model: Model, name: str, p: Part, init_filter: Fn) -> bool:
        if self._sym(p.node) == "eventually":
            inner = self._sub(p, "rhs")
            if self.level(inner.node, inner.ms) == 0:
                model.liveness.append(
                    Liveness(name, "ev", self._pred(inner), None, p.env, init_filter=init_filter)
                )
                return True
        return False

    def gffg(self, p: Part) -> Formula | None:
        """A boolean combination of []<>p / <>[]p / WF / SF, or None."""
        p = self.expand(p)
        n, t, sym = p.node, p.node.type, self._sym(p.node)
        if t == "conj_list" or t == "disj_list":
            items = []
            for i in kids(n):
                if i.type in ("conj_item", "disj_item"):
                    f = self.gffg(Part(kids(i)[-1], p.ms, p.loc, p.env))
                    if f is None:
                        return None
                    items.append(f)
            return And(items) if t == "conj_list" else Or(items)
        if t == "bound_infix_op" and sym in ("land", "lor"):
            a = self.gffg(Part(n.child_by_field_name("lhs"), p.ms, p.loc, p.env))
            b = self.gffg(Part(n.child_by_field_name("rhs"), p.ms, p.loc, p.env))
            if a is None or b is None:
                return None
            return And([a, b]) if sym == "land" else Or([a, b])
        if t == "bounded_quantification":
            q = n.child_by_field_name("quantifier").type
            pats, sets, loc2, body = self.comp._quant_parts(n, p.ms, p.loc)
            from tlacheck.builtin.compiler import _env_gen

            items = []
            for env in _env_gen(pats, sets)(CONST_CTX, p.env):
                f = self.gffg(Part(body, p.ms, loc2, env))
                if f is None:
                    return None
                items.append(f)
            return And(items) if q == "forall" else Or(items)
        if t == "fairness":
            fair = self.fairness(p)
            en = Pred(enabled_of=fair.act, vars=fair.vars, env=fair.env, negated=True)
            taken = Pred(act=fair.act, vars=fair.vars, env=fair.env)
            return Or([FG(en) if fair.strong else GF(en), GF(taken)])
        if t == "bound_prefix_op" and sym in ("always", "eventually"):
            inner = self._sub(p, "rhs")
            isym = self._sym(inner.node)
            want = "eventually" if sym == "always" else "always"
            if inner.node.type == "bound_prefix_op" and isym == want:
                x = self._sub(inner, "rhs")
                pred = self._atom(x)
                if pred is None or (sym == "eventually" and pred.on_steps):
                    return None
                return GF(pred) if sym == "always" else FG(pred)
        return None

    def _atom(self, p: Part) -> Pred | None:
        if p.node.type == "step_expr_no_stutter":
            ks = [x for x in kids(p.node) if x.type not in ("langle_bracket", "rangle_bracket_sub")]
            act = self.comp.action(ks[0], p.ms, p.loc, top=False, init=False)
            return Pred(act=act, vars=self.comp.expr(ks[-1], p.ms, p.loc), env=p.env)
        if self.level(p.node, p.ms) == 0:
            return Pred(state=self.comp.expr(p.node, p.ms, p.loc), env=p.env)
        return None

    def _pred(self, p: Part) -> Fn:
        f = self.comp.expr(p.node, p.ms, p.loc)
        env = p.env
        return lambda c, e: f(c, env) if not e else f(c, {**env, **e})


def permutation_group(gens: list[FV]) -> list[FV]:
    """The group generated by the SYMMETRY permutations (TLC: MVPerm.permutationSubgroup)."""
    if len(gens) > 10_000:
        raise SemanticError("SYMMETRY set too large")

    def norm(p: dict[Any, Any]) -> frozenset[tuple[Any, Any]]:
        return frozenset((k, v) for k, v in p.items() if k != v)

    def compose(p: dict[Any, Any], q: dict[Any, Any]) -> dict[Any, Any]:
        keys = set(p) | set(q)
        return {x: p.get(q.get(x, x), q.get(x, x)) for x in keys}

    seen: dict[frozenset[tuple[Any, Any]], dict[Any, Any]] = {norm({}): {}}
    frontier: list[dict[Any, Any]] = [{}]
    gdicts = [dict(g.d) for g in gens]
    while frontier:
        nxt = []
        for p in frontier:
            for g in gdicts:
                r = compose(g, p)
                k = norm(r)
                if k not in seen:
                    seen[k] = r
                    nxt.append(r)
                    if len(seen) > 100_000:
                        raise SemanticError("SYMMETRY group too large")
        frontier = nxt
    return [FV(dict(k)) for k in seen]


def _negated(f: Fn) -> Fn:
    return lambda c, e: not f(c, e)


def _has_unbounded_quantifier(n: Node) -> bool:
    stack = [n]
    while stack:
        x = stack.pop()
        if x.type == "unbounded_quantification":
            return True
        stack.extend(x.named_children)
    return False


def build_model(spec: Path, cfg: Config) -> Model:
    return ModelBuilder(spec, cfg).build()


def check_assumptions(model: Model) -> tuple[str, str] | None:
    """The first ASSUME that is false: (label, message)."""
    for label, f in model.assumptions:
        try:
            v = f(CONST_CTX, {})
        except NeedsState:
            raise SemanticError(f"ASSUME {label} refers to a state variable") from None
        if not _truth(v, "ASSUME"):
            return label, f"Assumption {label} is false"
    return None


_ = (EvalError, render, ModelValue)
