"""`ringq model check|graph|list`: explore the storage model from the command line.

`register(subparsers)` plugs the `model` command group into the `ringq` CLI; `main(argv)` runs it
standalone (`python -m ringq_proof.model check --config SegmentedStorage_base`). User mistakes (unknown
config, bad switch) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ringq_proof.model.config import Config, ConfigError, available_configs, load_config
from ringq_proof.model.core import Model
from ringq_proof.model.explore import explore
from ringq_proof.model.state import to_canonical, variables

DEFAULT_CONFIG = "SegmentedStorage_base"
EXIT_VIOLATION = 12  # TLC's exit code for a violated invariant / property


def _switch(text: str) -> tuple[str, bool]:
    name, sep, value = text.partition("=")
    value = value.strip().upper() if sep else "TRUE"
    if value not in ("TRUE", "FALSE", "1", "0"):
        raise argparse.ArgumentTypeError(f"switch {text!r}: expected NAME=TRUE or NAME=FALSE")
    return name.strip(), value in ("TRUE", "1")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        "-c",
        default=DEFAULT_CONFIG,
        help=f"shipped cfg name or path to a .cfg (default {DEFAULT_CONFIG}; see `ringq model list`)",
    )
    p.add_argument(
        "--switch",
        "-s",
        action="append",
        type=_switch,
        default=[],
        metavar="NAME=TRUE|FALSE",
        help="override a bug switch (e.g. BugNoFence=TRUE); repeatable",
    )


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `model` command group to an argparse subparsers object."""
    model = subparsers.add_parser("model", help="explore the executable storage model")
    sub = model.add_subparsers(dest="model_command", metavar="{check,graph,list}")
    sub.required = True
    check = sub.add_parser("check", help="explore every reachable state and check the invariants")
    _add_common(check)
    check.add_argument("--no-liveness", action="store_true", help="skip EventuallyTerminal")
    check.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    check.set_defaults(model_func=cmd_check)
    graph = sub.add_parser("graph", help="export the state graph (GraphML/DOT) and render it (SVG/PNG)")
    _add_common(graph)
    graph.add_argument("--out", "-o", default="model-graph", help="output path without suffix")
    graph.add_argument(
        "--format",
        "-f",
        action="append",
        choices=("graphml", "dot", "svg", "png"),
        help="formats to write (repeatable; default graphml, dot, svg)",
    )
    graph.add_argument("--max-states", type=int, default=400, help="refuse larger graphs (default 400)")
    graph.set_defaults(model_func=cmd_graph)
    lst = sub.add_parser("list", help="list the shipped configs")
    lst.set_defaults(model_func=cmd_list)
    model.set_defaults(func=run_parsed)
    return model


def _config(args: argparse.Namespace) -> Config:
    cfg = load_config(args.config)
    if args.switch:
        cfg = cfg.with_switches(dict(args.switch))
    return cfg


def cmd_list(args: argparse.Namespace) -> int:
    for name, path in available_configs().items():
        cfg = load_config(str(path))
        bugs = ", ".join(sorted(cfg.bugs)) or "-"
        print(f"{name:45s} {cfg.spec:24s} bugs: {bugs}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    cfg = _config(args)
    model = Model(cfg)

    def progress(distinct: int, generated: int, depth: int, elapsed: float) -> None:
        print(f"  {distinct} distinct, {generated} generated, depth {depth}, {elapsed:.1f}s", file=sys.stderr)

    r = explore(model, progress=None if args.quiet else progress)
    print(
        f"{cfg.name}: {r.distinct} distinct states, {r.generated} generated, depth {r.depth}, {r.elapsed_s:.2f}s"
    )
    if r.violated:
        print(f"Invariant {r.violated} is violated; shortest trace ({len(r.trace)} states):")
        for i, step in enumerate(r.trace, 1):
            params = ", ".join(f"{k}={v}" for k, v in step.params.items())
            print(f"  {i}. {step.action}({params})")
            canon = to_canonical(step.state, cfg)
            for var in variables(cfg):
                print(f"       {var} = {_tla(canon[var])}")
        return EXIT_VIOLATION
    if cfg.properties and not args.no_liveness:
        from ringq_proof.model.liveness import PROPERTIES

        for name in cfg.properties:
            verdict = PROPERTIES[name](model)
            if verdict is not None:
                print(f"Property {name} is violated: {verdict}")
                return EXIT_VIOLATION
            print(f"Property {name} holds.")
    print("No invariant violated.")
    return 0


def _tla(v: Any) -> str:
    from tlacheck.canonical import to_tla

    return to_tla(v)


def cmd_graph(args: argparse.Namespace) -> int:
    from ringq_proof.model.graph import build_graph, write_graph

    cfg = _config(args)
    g = build_graph(Model(cfg), max_states=args.max_states)
    written = write_graph(g, args.out, args.format or ["graphml", "dot", "svg"])
    print(f"{cfg.name}: {g.number_of_nodes()} states, {g.number_of_edges()} edges")
    for path in written:
        print(f"  wrote {path}")
    return 0


def run_parsed(args: argparse.Namespace) -> int:
    try:
        return int(args.model_func(args))
    except (ConfigError, KeyError, ValueError) as e:
        msg = e.args[0] if e.args else str(e)
        print(f"ringq model: error: {msg}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ringq")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["model", *(sys.argv[1:] if argv is None else argv)])
    return run_parsed(args)
