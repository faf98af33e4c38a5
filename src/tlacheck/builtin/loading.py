"""Loading modules into scopes: EXTENDS, INSTANCE (with substitutions), definitions, ASSUME."""

from __future__ import annotations

from collections.abc import Callable

from tlacheck.builtin import stdlib
from tlacheck.builtin.core import CompilerCore
from tlacheck.builtin.ops import (
    Loc,
)
from tlacheck.builtin.scope import (
    AliasDef,
    ConstDef,
    Def,
    InstDef,
    ModScope,
    OpDef,
    SubstDef,
    Unsupported,
    VarDef,
)
from tlacheck.builtin.syntax import Module, Node, kids


class ModuleLoading(CompilerCore):
    """Binds the names of loaded modules in ModScopes."""

    def load_root(self, module: Module) -> ModScope:
        ms = ModScope(module, self)
        self.root_ms = ms

        def binder(name: str, arity: int, node: Node, kind: str) -> Def:
            if kind == "var":
                if name not in self.variables:
                    self.variables.append(name)
                return VarDef(name)
            return ConstDef(name, arity, node, ms)

        self._load_into(ms, module, binder)
        return ms

    def _load_into(self, ms: ModScope, module: Module, binder: Callable[[str, int, Node, str], Def]) -> None:
        if module.name in ms.loaded:
            return
        ms.loaded.add(module.name)
        for ext in module.extends:
            sub = module.submodules.get(ext) or self.loader.load(ext)
            if sub is not None:
                self._load_into(ms, sub, binder)
        for name, arity, node in module.constants:
            ms.names[name] = binder(name, arity, node, "const")
        for name in module.variables:
            ms.names[name] = binder(name, 0, None, "var")
        for kind, node, _local in module.units:
            if kind == "operator_definition":
                self._def_operator(ms, module, node)
            elif kind == "function_definition":
                name = module.text(node.child_by_field_name("name"))
                body = node.child_by_field_name("definition")
                ms.names[name] = OpDef(
                    name, [], body, ms, fn_bounds=node, recursive_fn=self._refers_to(module, body, name)
                )
            elif kind == "module_definition":
                name = module.text(node.child_by_field_name("name"))
                params = [module.text(p) for p in node.children_by_field_name("parameter") if p.is_named]
                ms.names[name] = InstDef(name, node.child_by_field_name("definition"), ms, params)
            elif kind == "instance":
                inst = self._instantiate(node, ms)
                for n, d in inst.names.items():
                    if isinstance(d, OpDef | InstDef):
                        ms.names[n] = d
            elif kind == "assumption":
                self.assumptions.append((node, ms))
                nm = node.child_by_field_name("name")
                if nm is not None:  # ASSUME/ASSUMPTION A == P: A names P
                    ms.names[module.text(nm)] = OpDef(module.text(nm), [], kids(node)[-1], ms)
        self._named_theorems(ms, module)
        for (mod_name, name), value in self.scoped_values.items():
            od = ms.names.get(name)
            if mod_name == module.name and isinstance(od, OpDef):
                od.const_state = 1
                od.value = value
                od.fn = lambda c, e, v=value: v
            elif mod_name == module.name and isinstance(od, ConstDef):
                od.value = value
                od.has_value = True
        for (mod_name, const), def_name in self.scoped_overrides.items():
            if (
                mod_name == module.name
                and (const in ms.names or const in stdlib.NAMED)
                and self.root_ms is not None
            ):
                # `C <- [M] D`: C as seen in module M is D of the model (root) module
                ms.names[const] = AliasDef(def_name, self.root_ms)

    def _named_theorems(self, ms: ModScope, module: Module) -> None:
        """THEOREM T == P names P (an ASSUME may refer to it); proofs and ASSUME/PROVE
        statements carry nothing to evaluate."""
        if module.node is None:
            return
        for u in kids(module.node):
            if u.type != "theorem":
                continue
            nm = u.child_by_field_name("name")
            st = u.child_by_field_name("statement")
            if nm is not None and st is not None and st.type != "assume_prove":
                name = module.text(nm)
                if name not in ms.names:
                    ms.names[name] = OpDef(name, [], st, ms)

    def _def_operator(self, ms: ModScope, module: Module, node: Node) -> None:
        name_node = node.child_by_field_name("name")
        name = module.text(name_node)
        params: list[tuple[str, int]] = []
        for p in node.children_by_field_name("parameter"):
            if p.type == "identifier":
                params.append((module.text(p), 0))
            elif p.type == "operator_declaration":
                params.append(
                    (
                        module.text(p.child_by_field_name("name")),
                        sum(1 for c in p.named_children if c.type == "placeholder"),
                    )
                )
        body = node.child_by_field_name("definition")
        ms.names[name] = OpDef(name, params, body, ms)

    def _refers_to(self, module: Module, node: Node, name: str) -> bool:
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "identifier_ref" and module.text(n) == name:
                return True
            stack.extend(n.named_children)
        return False

    def _instantiate(self, inst_node: Node, outer: ModScope, params: Loc | None = None) -> ModScope:
        m = outer.module
        ks = kids(inst_node)
        mod_name = m.text(ks[0])
        target = m.submodules.get(mod_name) or self.loader.load(mod_name)
        if target is None:
            # a standard module: its operators are built in
            return ModScope(Module(mod_name, None, b"", None), self)
        substs: dict[str, Node] = {}
        for s in ks[1:]:
            if s.type == "substitution":
                sk = kids(s)
                lhs = m.text(sk[0])
                substs[lhs] = sk[-1]
        ms = ModScope(target, self)

        def binder(name: str, arity: int, node: Node, kind: str) -> Def:
            if name in substs:
                return SubstDef(name, substs[name], outer)
            return AliasDef(name, outer)

        self._load_into(ms, target, binder)
        return ms

    def instance_scope(self, d: InstDef) -> ModScope:
        if d.params:
            raise Unsupported(f"parameterized INSTANCE definition {d.name} at {d.ms.where(d.node)}")
        if d.inst is None:
            d.inst = self._instantiate(d.node, d.ms)
        return d.inst
