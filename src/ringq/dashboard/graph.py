"""The storage model's state graph as SVG, for the dashboard's model page.

The renderer (`ringq_proof.model.graph`, the code behind `ringq model graph`) belongs to the
optional proof toolkit: it is imported lazily, and when it (or networkx, or matplotlib for the
SVG) is missing the page says which extra to install instead of failing. The toolkit reads the
model cfgs from a source checkout; without one the page says so too. Renders are cached per config and
serialised (matplotlib's pyplot is not thread-safe).
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CONFIG = "SegmentedStorage_BugResultAfterClosure"  # small enough to draw (90 states)
MAX_STATES = 400
MISSING_TOOLKIT = (
    "the state graph needs ringq's proof toolkit and matplotlib ({missing} is not installed): "
    "install the toolkit extra: pip install 'ringq[toolkit,plot]'"
)

_lock = threading.Lock()
_cache: dict[str, bytes] = {}


class GraphUnavailable(Exception):
    """The graph cannot be drawn; the message is one sentence for the page."""


@dataclass(frozen=True)
class GraphInfo:
    config: str
    states: int
    edges: int
    svg: bytes


def available_configs() -> list[str]:
    try:
        from ringq_proof.checkout import CheckoutNotFound
        from ringq_proof.model.config import available_configs as configs
    except ImportError as exc:
        raise GraphUnavailable(_missing(exc)) from exc
    try:
        return sorted(configs())
    except CheckoutNotFound as exc:
        raise GraphUnavailable(f"the model cfgs are not here: {exc}") from exc


def _missing(exc: ImportError) -> str:
    return MISSING_TOOLKIT.format(missing=(exc.name or "a module").split(".")[0])


def render_svg(config: str) -> bytes:
    """SVG of the whole reachable graph of `config`; GraphUnavailable when it can't be drawn."""
    with _lock:
        if config in _cache:
            return _cache[config]
        try:
            from ringq_proof.model.config import ConfigError, load_config
            from ringq_proof.model.core import Model
            from ringq_proof.model.graph import build_graph, write_graph
        except ImportError as exc:
            raise GraphUnavailable(_missing(exc)) from exc
        if config not in available_configs():
            raise GraphUnavailable(f"unknown model config {config!r}")
        try:
            g = build_graph(Model(load_config(config)), max_states=MAX_STATES)
        except ConfigError as exc:
            raise GraphUnavailable(str(exc)) from exc
        with tempfile.TemporaryDirectory(prefix="ringq-dashboard-") as tmp:
            try:
                (path,) = write_graph(g, str(Path(tmp) / "graph"), ["svg"])
            except ImportError as exc:  # matplotlib is imported only when rendering
                raise GraphUnavailable(_missing(exc)) from exc
            svg = path.read_bytes()
        _cache[config] = svg
        return svg
