"""Compiles tree-sitter TLA+ expressions into Python closures.

Expressions compile to `f(c, e) -> value` (c: Ctx, e: bound names). Actions (Init / Next and
everything TLC enumerates) compile to `a(c, e, k)` in continuation-passing style: `a` calls
`k()` once for every way it can be satisfied, with the assignment it made present in the
target dict (c.p for Next, c.s for Init) and undone afterwards.

`loc` maps the names bound around an expression at compile time to their kind:
"val" (a value in e), "op" (an operator value in e: callable(c, *args)), "lazy" (a LET
zero-arity definition in e, a runtime.Lazy).

The compiler is assembled from parts with one job each:

* core.py: shared state, name resolution, the expression dispatch table (`x_<node type>`)
* loading.py: modules into scopes (EXTENDS, INSTANCE, ASSUME)
* definitions.py: operator definitions and references to names
* expressions.py: literals, logic, control flow and binders
* operators.py: infix/prefix/postfix operators
* structures.py: sets, tuples, records, functions
* actions.py: actions, dispatched through a table of action forms
* ops.py: helpers the compiled closures call at run time
"""

from __future__ import annotations

from pathlib import Path

from tlacheck.builtin.actions import Actions
from tlacheck.builtin.definitions import Definitions
from tlacheck.builtin.expressions import Expressions
from tlacheck.builtin.loading import ModuleLoading
from tlacheck.builtin.operators import Operators
from tlacheck.builtin.ops import Found, _env_gen, _truth, _update
from tlacheck.builtin.scope import ModScope
from tlacheck.builtin.structures import Structures
from tlacheck.builtin.syntax import ModuleLoader, parse_file

__all__ = ["Compiler", "Found", "_env_gen", "_truth", "_update", "compile_root"]


class Compiler(ModuleLoading, Definitions, Expressions, Operators, Structures, Actions):
    """Loads modules into scopes and compiles expressions and actions."""


def compile_root(path: Path) -> tuple[Compiler, ModScope]:
    comp = Compiler(ModuleLoader(path.parent))
    ms = comp.load_root(parse_file(path))
    return comp, ms
