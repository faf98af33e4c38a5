"""SANY-like semantic checks, run on every module of a spec before anything is evaluated.

TLC refuses a spec whose modules do not pass SANY, even where the faulty part is never used:
* every identifier must be declared or defined where it is used: by the module (constants,
  variables, definitions, instances), by the modules it EXTENDS or INSTANCEs without a name
  (their non-LOCAL names, standard modules included), or by an enclosing binder (operator
  parameters, quantifiers, CHOOSE, set and function constructors, LET, LAMBDA);
* the root module's name must be its file's name.

Both are reported as `SemanticError(message, "semantic")` with file:line:col (exit code 150,
like TLC's parse failure). The check is deliberately lenient where this checker's tree differs
from SANY's: instance-qualified names (`I!Op`), record fields, labels and proofs are not checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tlacheck.builtin.scope import SemanticError
from tlacheck.builtin.syntax import STANDARD_MODULES, Module, ModuleLoader, Node, parse_file

# Names each standard module defines (as identifiers; operator symbols are not identifiers).
STANDARD_NAMES: dict[str, frozenset[str]] = {
    "Naturals": frozenset({"Nat"}),
    "Integers": frozenset({"Nat", "Int"}),
    "Reals": frozenset({"Nat", "Int", "Real", "Infinity"}),
    "Sequences": frozenset({"Seq", "Len", "Append", "Head", "Tail", "SubSeq", "SelectSeq", "Nat"}),
    "FiniteSets": frozenset({"IsFiniteSet", "Cardinality", "Nat", "Int"}),
    "Bags": frozenset(
        {
            "IsABag",
            "BagToSet",
            "SetToBag",
            "BagIn",
            "EmptyBag",
            "CopiesIn",
            "SubBag",
            "BagOfAll",
            "BagCardinality",
            "BagUnion",
        }
    ),
    "TLC": frozenset(
        {
            "Print",
            "PrintT",
            "Assert",
            "JavaTime",
            "TLCGet",
            "TLCSet",
            "Permutations",
            "SortSeq",
            "RandomElement",
            "Any",
            "ToString",
            "TLCEval",
        }
    ),
    "RealTime_builtin": frozenset({"RTnow", "now"}),
}

_DEFS = ("operator_definition", "function_definition", "module_definition")


class _Names:
    def __init__(self, loader: ModuleLoader) -> None:
        self.loader = loader
        self.exported: dict[int, frozenset[str]] = {}
        self.visible: dict[int, frozenset[str]] = {}

    def _module(self, m: Module, name: str) -> Module | None:
        return m.submodules.get(name) or self.loader.load(name)

    def _from(self, m: Module, name: str) -> frozenset[str]:
        """Names a module brings in by EXTENDS / unnamed INSTANCE (its exported names)."""
        sub = self._module(m, name)
        if sub is None:
            return STANDARD_NAMES.get(name, frozenset())
        return self.names(sub, exported=True)

    def names(self, m: Module, exported: bool, parent: frozenset[str] = frozenset()) -> frozenset[str]:
        memo = self.exported if exported else self.visible
        key = id(m)
        if key in memo:
            return memo[key]
        memo[key] = frozenset()  # a cycle of EXTENDS contributes nothing twice
        out: set[str] = set(parent)
        for ext in m.extends:
            out |= self._from(m, ext)
        out.update(c for c, _, _ in m.constants)
        out.update(m.variables)
        for kind, node, local in m.units:
            if local and exported:
                continue
            if kind in _DEFS:
                name = node.child_by_field_name("name")
                if name is not None and name.type == "identifier":
                    out.add(m.text(name))
            elif kind == "assumption":  # ASSUME Name == e
                name = node.child_by_field_name("name")
                if name is not None:
                    out.add(m.text(name))
            elif kind == "instance":
                target = [c for c in node.named_children if c.type == "identifier_ref"]
                if target:
                    out |= self._from(m, m.text(target[0]))
        if m.node is not None:  # THEOREM Name == e (theorems are not units)
            for u in m.node.named_children:
                name = u.child_by_field_name("name") if u.type == "theorem" else None
                if name is not None:
                    out.add(m.text(name))
        r = frozenset(out)
        memo[key] = r
        return r


def _intro_names(m: Module, n: Node) -> Iterator[str]:
    if n.type == "identifier":
        yield m.text(n)
    for c in n.named_children:
        if c.type in ("identifier", "tuple_of_identifiers"):
            yield from _intro_names(m, c)


def _bound_here(m: Module, node: Node) -> set[str]:
    """Names a node binds for its whole subtree (leniently: also in its bound sets)."""
    out: set[str] = set()
    t = node.type
    for i, c in enumerate(node.children):
        f = node.field_name_for_child(i)
        if f == "intro":
            out.update(_intro_names(m, c))
        elif c.type == "quantifier_bound":
            for j, cc in enumerate(c.children):
                if c.field_name_for_child(j) == "intro":
                    out.update(_intro_names(m, cc))
        elif f == "parameter" and t in ("operator_definition", "function_definition", "module_definition"):
            if c.type == "identifier":
                out.add(m.text(c))
            elif c.type == "operator_declaration":
                nm = c.child_by_field_name("name")
                if nm is not None and nm.type == "identifier":
                    out.add(m.text(nm))
        elif f == "definitions" and t == "let_in":
            nm = c.child_by_field_name("name")
            if nm is not None and nm.type == "identifier":
                out.add(m.text(nm))
        elif t == "lambda" and c.type == "identifier":
            out.add(m.text(c))
    if t == "function_definition":
        nm = node.child_by_field_name("name")
        if nm is not None:
            out.add(m.text(nm))
    return out


# identifier_refs that are not references to be resolved here
_SKIP_PARENTS = frozenset({"except_update_record_field", "extends", "subexpr_component"})
_SKIP_SUBTREES = frozenset({"comment", "block_comment", "extramodular_text", "theorem", "proof"})


def _unknown(m: Module, node: Node, scope: frozenset[str]) -> Iterator[Node]:
    bound = _bound_here(m, node)
    if bound:
        scope = scope | bound
    t = node.type
    named = 0
    for i, c in enumerate(node.children):
        if not c.is_named:
            continue
        named += 1
        if c.type in _SKIP_SUBTREES or c.type.startswith("pcal_"):
            continue  # comments (PlusCal algorithms are parsed inside them)
        f = node.field_name_for_child(i)
        if t == "prefixed_op" and f in ("prefix", "op"):
            continue  # I!Op: resolved in the instance
        if t == "record_value" and i > 0:
            continue  # r.field
        if t == "instance" and c.type == "identifier_ref" and named == 1:
            continue  # the instantiated module's name
        if t == "substitution" and named == 1:
            continue  # WITH c <- e: c is the instantiated module's constant
        if c.type == "identifier_ref":
            if t in _SKIP_PARENTS:
                continue
            name = m.text(c)
            if name not in scope and not name.startswith("CM_"):
                yield c
        else:
            yield from _unknown(m, c, scope)


def check_module(m: Module, names: _Names, parent: frozenset[str] = frozenset()) -> None:
    scope = names.names(m, exported=False, parent=parent)
    for sub in m.submodules.values():
        check_module(sub, names, scope)
    for kind, node, _local in m.units:
        if kind not in (*_DEFS, "instance", "assumption"):
            continue
        for ref in _unknown(m, node, scope):
            name = m.text(ref)
            raise SemanticError(f"Unknown operator: `{name}' at {m.where(ref)}", "semantic")


def check_spec(spec: Path) -> None:
    """Raise SemanticError for the first semantic error in the spec or the modules it uses."""
    spec = Path(spec)
    root = parse_file(spec)
    if root.name != spec.stem:
        raise SemanticError(
            f"the module's name {root.name} differs from its file's name {spec.name} (at {spec}:1:1)",
            "semantic",
        )
    loader = ModuleLoader(spec.parent)
    names = _Names(loader)
    seen: set[int] = set()
    todo = [root]
    while todo:
        m = todo.pop()
        if id(m) in seen:
            continue
        seen.add(id(m))
        check_module(m, names)
        for dep in _dependencies(m):
            sub = m.submodules.get(dep) or loader.load(dep)
            if sub is not None and dep not in STANDARD_MODULES:
                todo.append(sub)


def _dependencies(m: Module) -> list[str]:
    out = list(m.extends)
    for kind, node, _local in m.units:
        inst = node.child_by_field_name("definition") if kind == "module_definition" else node
        if kind in ("instance", "module_definition") and inst is not None:
            ks = [c for c in inst.named_children if c.type == "identifier_ref"]
            if ks:
                out.append(m.text(ks[0]))
    return out
