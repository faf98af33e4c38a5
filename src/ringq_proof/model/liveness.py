"""EventuallyTerminal under the spec's Fairness (weak fairness), checked on the state graph.

`\\A j : (j \\in enqueued) ~> (j \\in terminal)` fails iff some behaviour reaches a state where j is
enqueued but not terminal and then stays non-terminal forever while being weakly fair. In the
graph restricted to such states that is either
  * a state where no weakly-fair action is enabled (the behaviour may stutter there forever), or
  * a strongly connected component (with an edge inside) in which every weakly-fair action is
    taken on some inner edge or disabled in some state of the component.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import networkx as nx

from ringq_proof.model.core import Model
from ringq_proof.model.explore import explore

# Fairness == \A w : WF(Claim(w)), WF(Complete(w)), WF(AdvanceCursor(w)), WF(WriteResult(w))
#             /\ WF(Tick) /\ WF(Rescue) /\ WF(Promote)
#             /\ \A j : WF(EnqueueCommit(j)) /\ WF(EnqueueAbort(j))
WORKER_FAIR = ("Claim", "Complete", "AdvanceCursor", "WriteResult")
GLOBAL_FAIR = ("Tick", "Rescue", "Promote")
JOB_FAIR = ("EnqueueCommit", "EnqueueAbort")  # an open enqueue transaction does not stay open forever


def fairness_class(action: str, params: dict[str, Any]) -> Hashable | None:
    if action in WORKER_FAIR:
        return (action, params["w"])
    if action in JOB_FAIR:
        return (action, params["j"])
    if action in GLOBAL_FAIR:
        return action
    return None


def all_fair_classes(model: Model) -> set[Hashable]:
    return (
        {(a, w) for a in WORKER_FAIR for w in model.cfg.workers}
        | {(a, j) for a in JOB_FAIR for j in model.cfg.jobs}
        | set(GLOBAL_FAIR)
    )


def EventuallyTerminal(model: Model) -> str | None:
    """None when the property holds; otherwise a one-line description of a fair lasso."""
    ex = explore(model, check=False, keep_graph=True)
    classes = all_fair_classes(model)
    enabled = [{c for a, p, _ in out if (c := fairness_class(a, p)) is not None} for out in ex.edges]
    for job in model.cfg.jobs:
        pending = {i for i, s in enumerate(ex.states) if job in s.enqueued and job not in s.terminal}
        for i in pending:
            if not enabled[i]:
                return f"{job} never terminal: it can stay forever in a state with no fair action enabled (state #{i})"
        g = nx.DiGraph()
        g.add_nodes_from(pending)
        for i in pending:
            for a, p, j in ex.edges[i]:
                if j in pending:
                    g.add_edge(i, j, fc=fairness_class(a, p))
        for comp in nx.strongly_connected_components(g):
            inner = [(u, v, d) for u, v, d in g.subgraph(comp).edges(data=True)]
            if not inner:
                continue
            taken = {d["fc"] for _, _, d in inner if d["fc"] is not None}
            if all(c in taken or _disabled_somewhere(c, comp, enabled) for c in classes):
                return f"{job} never terminal: a weakly fair cycle through {len(comp)} states avoids it (state #{min(comp)})"
    return None


def _disabled_somewhere(c: Hashable, comp: Iterable[int], enabled: list[set[Hashable]]) -> bool:
    return any(c not in enabled[i] for i in comp)


PROPERTIES = {"EventuallyTerminal": EventuallyTerminal}
