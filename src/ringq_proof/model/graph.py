"""The model's state graph as a networkx DiGraph: export to GraphML/DOT, render to SVG/PNG.

Nodes are coloured by invariant status (green: all hold, red: a cfg invariant is violated,
blue: the initial state); edges are labelled by action and parameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx

from ringq_proof.model.config import ConfigError
from ringq_proof.model.core import Model
from ringq_proof.model.explore import explore

OK_COLOUR, BAD_COLOUR, INIT_COLOUR = "#8fd18f", "#e06666", "#6fa8dc"


def _label(action: str, params: dict[str, Any]) -> str:
    args = ",".join(str(v) for v in params.values())
    return f"{action}({args})" if args else action


def _summary(s: Any) -> str:
    return (
        f"q{s.ring_state.queue}{''.join(x[0] for x in s.slots.queue)} "
        f"c{s.ring_state.claim}{''.join(x[0] for x in s.slots.claim)} "
        f"seq {s.lanes.claim_seq}/{s.lanes.next_seq} open {len(s.claims) - len(s.closures)} "
        f"term {','.join(sorted(s.terminal)) or '-'}"
    )


def build_graph(model: Model, max_states: int = 400) -> nx.DiGraph:
    """The whole reachable graph (no early stop on violations); refuses more than max_states."""
    ex = explore(model, check=False, keep_graph=True, max_states=max_states + 1)
    if ex.distinct > max_states:
        raise ConfigError(
            f"{model.cfg.name} has more than {max_states} states; pick a smaller cfg or raise --max-states"
        )
    g = nx.DiGraph(name=model.cfg.name)
    for i, s in enumerate(ex.states):
        bad = model.violated(s)
        colour = INIT_COLOUR if i == 0 else BAD_COLOUR if bad else OK_COLOUR
        g.add_node(i, label=_summary(s), violated=bad or "", color=colour, state=repr(s))
    for i, out in enumerate(ex.edges):
        for action, params, j in out:
            if g.has_edge(i, j):
                g.edges[i, j]["label"] += " | " + _label(action, params)
            else:
                g.add_edge(i, j, label=_label(action, params), action=action)
    return g


def to_dot(g: nx.DiGraph) -> str:
    def q(x: str) -> str:
        return '"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"digraph {q(str(g.name or 'model'))} {{", "  node [style=filled, shape=box, fontsize=9];"]
    for n, d in g.nodes(data=True):
        lines.append(f"  {n} [label={q(str(n) + ': ' + d['label'])}, fillcolor={q(d['color'])}];")
    for u, v, d in g.edges(data=True):
        lines.append(f"  {u} -> {v} [label={q(d['label'])}, fontsize=8];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_graph(g: nx.DiGraph, out: str, formats: list[str]) -> list[Path]:
    base = Path(out)
    base.parent.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fmt in dict.fromkeys(formats):
        path = base.with_suffix("." + fmt)
        if fmt == "graphml":
            plain = nx.DiGraph(g)
            nx.write_graphml(plain, path)
        elif fmt == "dot":
            path.write_text(to_dot(g))
        else:
            _render(g, path)
        written.append(path)
    return written


def _render(g: nx.DiGraph, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = g.number_of_nodes()
    size = max(6.0, min(40.0, n**0.5 * 2.5))
    fig, ax = plt.subplots(figsize=(size, size))
    layers = nx.single_source_shortest_path_length(g, 0) if n else {}
    for node, depth in layers.items():
        g.nodes[node]["layer"] = depth
    pos = nx.multipartite_layout(g, subset_key="layer", align="horizontal") if layers else {}
    pos = {k: (x, -y) for k, (x, y) in pos.items()}
    nx.draw_networkx_nodes(
        g, pos, node_color=[d["color"] for _, d in g.nodes(data=True)], node_size=120, ax=ax
    )
    nx.draw_networkx_edges(g, pos, arrowsize=6, width=0.5, alpha=0.5, ax=ax)
    if n <= 60:
        nx.draw_networkx_edge_labels(
            g, pos, edge_labels={(u, v): d["action"] for u, v, d in g.edges(data=True)}, font_size=5, ax=ax
        )
        nx.draw_networkx_labels(g, pos, font_size=6, ax=ax)
    ax.set_title(f"{g.name}: {n} states (green ok, red violates an invariant, blue initial)")
    ax.axis("off")
    fig.savefig(path, format=path.suffix[1:], dpi=150, bbox_inches="tight")
    plt.close(fig)
