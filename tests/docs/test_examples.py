"""Every code example in README.md, CONTRIBUTING.md and docs/*.md runs (issue 15, item 4), and no
markdown link in README.md, CONTRIBUTING.md, docs/ or spec/ leaves the repository.

A fenced block labelled `python` is run as a script; one labelled `sh`/`bash`/`shell` is run line
by line with bash (.venv/bin first on PATH). Blocks of one file run in order, in one fresh
database whose URL is in `RINGQ_DATABASE_URL` (examples read it from there), in a scratch
directory. Markers, HTML comments on the line right above the fence (visible in the markdown):

    <!-- not-run: REASON -->          the block is not run; the reason is reported and counted
    <!-- run-for: SECONDS -->         a block that serves until stopped: it must still be running
                                      (or have exited 0) after SECONDS; then it gets SIGTERM
    <!-- exits: 0 0 12 -->           expected exit status of each command of a shell block

Blocks without a language (transcripts, synopses, trees) and other languages are not code to run.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_FILES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK_FILES = [
    ROOT / "README.md",
    ROOT / "CONTRIBUTING.md",
    *sorted((ROOT / "docs").rglob("*.md")),
    *sorted((ROOT / "spec").rglob("*.md")),
]
RUN_LANGS = {"python", "py", "sh", "bash", "shell", "console"}
BIN = Path(sys.executable).parent

# Blocks in files this test's authors do not maintain (another session owns them) that carry no
# marker yet: (file, first line of the block) -> why it is not run. Each should become a marker.
PENDING_MARKERS: dict[tuple[str, str], str] = {
    ("docs/benchmarks.md", "python3 scripts/bench.py --setup"): "creates .venv-bench (network)",
    ("docs/benchmarks.md", "python3 scripts/bench.py --quick"): "benchmark runs of minutes to an hour",
    ("docs/benchmarks.md", ".venv/bin/python scripts/bench/probe.py --drain 20000"): "benchmark runs",
}
# Markdown links that leave the repository, in files owned elsewhere (to be fixed there).
PENDING_EXTERNAL_LINKS: set[tuple[str, str]] = set()

MARKER = re.compile(r"^<!--\s*(not-run|run-for|exits)\s*:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(```+|~~~+)\s*([\w+-]*)")


@dataclass
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    markers: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def first_line(self) -> str:
        return next((ln.strip() for ln in self.text.splitlines() if ln.strip()), "")

    def pending(self) -> str | None:
        rel = str(self.path.relative_to(ROOT))
        for (file, start), reason in PENDING_MARKERS.items():
            if file == rel and self.first_line.startswith(start):
                return reason
        return None


def blocks(path: Path) -> list[Block]:
    found: list[Block] = []
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang = m.group(1), m.group(2).lower()
        markers: dict[str, str] = {}
        j = i - 1
        while j >= 0 and (mm := MARKER.match(lines[j].strip())):
            markers[mm.group(1)] = mm.group(2)
            j -= 1
        end = i + 1
        while end < len(lines) and not lines[end].startswith(fence[:3]):
            end += 1
        found.append(Block(path, i + 1, lang, "\n".join(lines[i + 1 : end]) + "\n", markers))
        i = end + 1
    return found


ALL_BLOCKS = [b for f in EXAMPLE_FILES for b in blocks(f)]


def runnable(block: Block) -> bool:
    return block.lang in RUN_LANGS and "not-run" not in block.markers and block.pending() is None


def shell_commands(text: str) -> list[str]:
    """The block's commands: continuation lines joined, comments and blank lines dropped."""
    commands, current = [], ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip() and not current.strip().startswith("#"):
            commands.append(current.strip())
        current = ""
    return commands


@pytest.fixture
def fresh_database(db_url: str) -> Iterator[str]:
    """A database of its own, so examples may use the default schema `ringq` and plain tables."""
    name = f"docs_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield _with_dbname(db_url, name)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _with_dbname(url: str, name: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = name
    user = params.pop("user", "postgres")
    host = params.pop("host", "127.0.0.1")
    port = params.pop("port", "5432")
    password = params.pop("password", None)
    auth = f"{user}:{password}" if password else str(user)
    query = "&".join(f"{k}={v}" for k, v in params.items() if k != "dbname")
    return f"postgresql://{auth}@{host}:{port}/{name}" + (f"?{query}" if query else "")


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["RINGQ_DATABASE_URL"] = url
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "100"
    return env


def _run_python(block: Block, cwd: Path, env: dict[str, str]) -> str | None:
    script = cwd / f"example_{block.line}.py"
    script.write_text(block.text)
    if "run-for" in block.markers:
        seconds = float(block.markers["run-for"].split()[0])
        proc = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=60)
            return None  # still serving after `seconds`: what it should do
        _, err = proc.communicate()
        return (
            None if proc.returncode == 0 else f"exited {proc.returncode} within {seconds} s:\n{err[-3000:]}"
        )
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return None if done.returncode == 0 else f"exited {done.returncode}:\n{done.stderr[-3000:]}"


def _run_shell(block: Block, cwd: Path, env: dict[str, str]) -> str | None:
    commands = shell_commands(block.text)
    statuses = itertools.takewhile(str.isdigit, block.markers.get("exits", "").split())
    expected = [int(x) for x in statuses] or [0] * len(commands)
    if len(expected) != len(commands):
        return f"<!-- exits: --> lists {len(expected)} statuses for {len(commands)} commands"
    for command, status in zip(commands, expected, strict=True):
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != status or "Traceback" in done.stderr:
            return f"`{command}` exited {done.returncode} (expected {status}):\n{done.stderr[-3000:]}"
    return None


# Read from the scratch directory as from a checkout: `.venv/bin/ringq`, `correctness/...`.
REPO_VIEW = (".venv", "correctness", "examples", "scripts", "spec", "src", "tests")


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_example_of_the_file_runs(path: Path, fresh_database: str, tmp_path: Path) -> None:
    env = _env(fresh_database)
    for name in REPO_VIEW:
        target = BIN.parent if name == ".venv" else ROOT / name
        if target.exists():
            (tmp_path / name).symlink_to(target)
    failures = []
    ran = 0
    for block in blocks(path):
        if not runnable(block):
            continue
        run = _run_python if block.lang in ("python", "py") else _run_shell
        error = run(block, tmp_path, env)
        ran += 1
        if error:
            failures.append(f"{block.name} ({block.lang}): {error}")
    print(f"\n{path.relative_to(ROOT)}: {ran} block(s) run")
    assert not failures, "\n\n".join(failures)


def test_every_code_block_is_run_or_marked_not_run() -> None:
    """The count of what runs and what does not, with the reasons; a python/shell block without
    a marker runs, and a not-run marker needs a reason."""
    run, marked, pending, text = [], [], [], []
    for block in ALL_BLOCKS:
        if block.lang not in RUN_LANGS:
            text.append(block)
        elif "not-run" in block.markers:
            assert block.markers["not-run"], f"{block.name}: <!-- not-run: --> needs a reason"
            marked.append(block)
        elif block.pending() is not None:
            pending.append(block)
        else:
            run.append(block)
    print(
        f"\nexamples: {len(run)} run, {len(marked)} marked not-run, {len(pending)} pending a marker (owned elsewhere), "
        f"{len(text)} text blocks"
    )
    for block in marked:
        print(f"  not run  {block.name}: {block.markers['not-run']}")
    for block in pending:
        print(f"  pending  {block.name}: {block.pending()}")
    assert len(run) >= 6
    # A pending entry that no longer matches a block is stale: drop it from PENDING_MARKERS.
    for (file, start), _ in PENDING_MARKERS.items():
        assert any(
            b.pending() and str(b.path.relative_to(ROOT)) == file and b.first_line.startswith(start)
            for b in pending
        ), (file, start)


# -- links -----------------------------------------------------------------------------------------

INLINE_LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^>\s]+)>")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")


def _without_code(text: str) -> str:
    """The markdown without fenced blocks and inline code (a link inside code is not a link)."""
    out, fence = [], None
    for line in text.splitlines():
        m = FENCE.match(line)
        if m and fence is None:
            fence = m.group(1)[:3]
            out.append("")
            continue
        if fence is not None:
            if line.startswith(fence):
                fence = None
            out.append("")
            continue
        out.append(re.sub(r"`[^`]*`", "", line))
    return "\n".join(out)


def links(path: Path) -> list[tuple[int, str]]:
    text = _without_code(path.read_text())
    found = []
    for pattern in (INLINE_LINK, REFERENCE_LINK, AUTOLINK):
        for m in pattern.finditer(text):
            found.append((text.count("\n", 0, m.start()) + 1, m.group(1)))
    return found


def test_no_markdown_link_leaves_the_repository_and_every_target_exists() -> None:
    problems, checked = [], 0
    for path in LINK_FILES:
        rel = str(path.relative_to(ROOT))
        for line, target in links(path):
            checked += 1
            if SCHEME.match(target):
                if (rel, target) not in PENDING_EXTERNAL_LINKS:
                    problems.append(f"{rel}:{line}: {target} leaves the repository")
                continue
            file_part = target.split("#", 1)[0]
            if not file_part:
                continue  # an anchor in the same file
            resolved = (
                (ROOT / file_part.lstrip("/")) if file_part.startswith("/") else (path.parent / file_part)
            )
            if not resolved.exists():
                problems.append(f"{rel}:{line}: {target} does not exist")
            elif ROOT not in resolved.resolve().parents and resolved.resolve() != ROOT:
                problems.append(f"{rel}:{line}: {target} points outside the repository")
    print(f"\n{checked} markdown links checked in {len(LINK_FILES)} files")
    assert checked > 10 and not problems, "\n".join(problems)


def test_the_link_checker_sees_what_it_must() -> None:
    sample = 'see [a](docs/x.md), ![img](img/p.png "t"), <https://example.com> and `[no](http://x)`\n[ref]: http://y\n'
    tmp = ROOT / ".pytest_cache" / f"links_{uuid.uuid4().hex[:6]}.md"
    tmp.parent.mkdir(exist_ok=True)
    tmp.write_text(sample)
    try:
        assert [t for _, t in links(tmp)] == ["docs/x.md", "img/p.png", "http://y", "https://example.com"]
    finally:
        tmp.unlink()


def test_the_block_parser_honours_markers(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text(
        "<!-- not-run: serves forever -->\n```sh\nringq dashboard\n```\n\n"
        "<!-- exits: 0 12 -->\n```sh\nringq model list\nringq model check \\\n  -c X\n```\n```\nplain\n```\n"
    )
    first, second, third = blocks(doc)
    assert first.markers == {"not-run": "serves forever"} and not runnable(first)
    commands = [" ".join(c.split()) for c in shell_commands(second.text)]
    assert second.markers == {"exits": "0 12"} and commands == ["ringq model list", "ringq model check -c X"]
    assert third.lang == "" and not runnable(third)
