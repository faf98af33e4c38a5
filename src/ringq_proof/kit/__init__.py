"""A toolkit to check another queue design the way ringq is checked.

You bring three things:

* a **model**: a Python state machine (`init()`, `successors(s)` yielding `(action, params,
  next_state)`, `observe(s)` giving the variables the database holds, `invariants`), or a TLA+
  spec explored through tlacheck (`TlaModel`);
* a **system**: your SQL behind `reset()`, `apply(action, params, before, after, crash)` (one
  transaction per model action; with `crash`, kill it before COMMIT and raise `Crashed`) and
  `observe()` — the abstraction from your tables to the model's variables;
* optionally a **TLA+ spec** for trace validation.

You get: `explore` (states, transitions and invariant report of the model), `exhaustive` (every
transition of the model's graph replayed on the database, crash points included, observation =
model after every step), `machine` (a Hypothesis state machine over the same actions, with crash
injection at transaction boundaries) and `check_trace` (a recorded trace of the real system
checked against the TLA+ spec by tlacheck). docs/toolkit.md walks through it;
examples/skiplocked_queue/ is a complete user.
"""

from ringq_proof.kit.core import Crashed, Divergence, ModelLike, SystemLike, explore, invariant_report
from ringq_proof.kit.hypo import machine
from ringq_proof.kit.replay import ExhaustiveReport, exhaustive
from ringq_proof.kit.trace import TlaModel, check_trace

__all__ = [
    "Crashed",
    "Divergence",
    "ExhaustiveReport",
    "ModelLike",
    "SystemLike",
    "TlaModel",
    "check_trace",
    "exhaustive",
    "explore",
    "invariant_report",
    "machine",
]
