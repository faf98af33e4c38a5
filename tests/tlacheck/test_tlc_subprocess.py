"""The TLC subprocess plumbing, end to end, against a FAKE `java` that replays a transcript.

This tests how tlacheck starts TLC, streams and parses its output, reports progress and
stops it -- not TLC itself, which cannot run here (no tla2tools.jar, no network).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tlacheck import tlc
from tlacheck.api import BackendUnavailable, check, resolve_backend

DATA = Path(__file__).resolve().parents[1] / "data"
TRANSCRIPTS = DATA / "tlc"
SPECS = DATA / "tla-cli"

FAKE_JAVA = """#!{python}
# FAKE java for tests: replays a recorded TLC -tool transcript; it is not TLC.
import json, os, sys, time
args = sys.argv[1:]
if args == ["-version"]:
    sys.stderr.write('openjdk version "17.0.0" (fake java replaying transcripts)\\n')
    sys.exit(0)
with open(os.environ["FAKE_TLC_ARGV"], "w") as f:
    json.dump({{"argv": args, "cwd": os.getcwd()}}, f)
with open(os.environ["FAKE_TLC_TRANSCRIPT"]) as f:
    for line in f:
        sys.stdout.write(line)
        sys.stdout.flush()
time.sleep(float(os.environ.get("FAKE_TLC_SLEEP", "0")))
sys.exit(int(os.environ.get("FAKE_TLC_EXIT", "0")))
"""


@pytest.fixture
def fake_tlc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put the fake java first on PATH and a placeholder jar in TLA2TOOLS_JAR; returns the argv log."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    java = bindir / "java"
    java.write_text(FAKE_JAVA.format(python=sys.executable))
    java.chmod(0o755)
    jar = tmp_path / "tla2tools.jar"
    jar.write_bytes(b"placeholder, never executed")
    argv_log = tmp_path / "argv.json"
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("TLA2TOOLS_JAR", str(jar))
    monkeypatch.setenv("FAKE_TLC_ARGV", str(argv_log))
    return argv_log


def replay(monkeypatch: pytest.MonkeyPatch, name: str, exit_code: int) -> None:
    monkeypatch.setenv("FAKE_TLC_TRANSCRIPT", str(TRANSCRIPTS / f"{name}.out"))
    monkeypatch.setenv("FAKE_TLC_EXIT", str(exit_code))


def test_auto_picks_tlc_when_jar_and_java_exist(fake_tlc: Path) -> None:
    assert tlc.available()
    assert resolve_backend("auto") == "tlc"


def test_tlc_command_line_and_result(fake_tlc: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    replay(monkeypatch, "invariant", 12)
    result = check(SPECS / "Counter.tla", SPECS / "CounterSmall.cfg", backend="tlc", workers=2)
    call = json.loads(fake_tlc.read_text())
    argv = call["argv"]
    assert argv[argv.index("-cp") + 1] == os.environ["TLA2TOOLS_JAR"]
    assert argv[argv.index("-workers") + 1] == "2"
    assert {"-tool", "-noGenerateSpecTE", "-cleanup", "-metadir"} <= set(argv)
    assert argv[argv.index("-config") + 1] == str((SPECS / "CounterSmall.cfg").resolve())
    # TLC runs in the spec's directory and gets the spec by file name.
    assert argv[-1] == "Counter.tla" and Path(call["cwd"]) == SPECS.resolve()
    assert (result.outcome, result.violated, result.backend, result.exit_code) == (
        "invariant_violated",
        "Small",
        "tlc",
        12,
    )
    assert len(result.trace) == 3 and result.elapsed_s > 0


def test_progress_reports_reach_the_callback(fake_tlc: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    replay(monkeypatch, "ok", 0)
    seen: list[tuple[int, int, int]] = []
    result = check(
        SPECS / "Counter.tla",
        backend="tlc",
        progress=lambda p: seen.append((p.distinct, p.generated, p.depth)),
    )
    assert result.outcome == "ok"
    assert seen == [(4, 4, 4)]


def test_max_states_stops_tlc(fake_tlc: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    replay(monkeypatch, "ok", 0)
    monkeypatch.setenv("FAKE_TLC_SLEEP", "30")
    result = tlc.run(SPECS / "Counter.tla", max_states=2)
    assert (result.outcome, result.error_kind) == ("error", "max_states")
    assert "max_states" in result.message and result.elapsed_s < 20


def test_timeout_kills_a_silent_tlc(fake_tlc: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    replay(monkeypatch, "assumption", 10)
    monkeypatch.setenv("FAKE_TLC_SLEEP", "30")
    result = tlc.run(SPECS / "Assume.tla", timeout_s=1.0)
    assert (result.outcome, result.error_kind) == ("error", "timeout")
    assert "longer than 1s" in result.message


def test_exit_code_alone_does_not_make_a_success(fake_tlc: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = fake_tlc.parent / "empty.out"
    empty.write_text("Error: Could not find or load main class tlc2.TLC\n")
    monkeypatch.setenv("FAKE_TLC_TRANSCRIPT", str(empty))
    monkeypatch.setenv("FAKE_TLC_EXIT", "0")
    result = tlc.run(SPECS / "Counter.tla")
    assert result.outcome == "error" and "Could not find or load main class" in result.message


def test_backend_tlc_without_jar_says_how_to_get_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TLA2TOOLS_JAR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    with pytest.raises(BackendUnavailable, match="fetch-tlc") as info:
        check(SPECS / "Counter.tla", backend="tlc")
    assert "TLA2TOOLS_JAR" in str(info.value)


def test_jar_env_pointing_nowhere_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TLA2TOOLS_JAR", str(tmp_path / "missing.jar"))
    assert tlc.find_jar() is None
    assert "does not name a file" in tlc.unavailable_reason()


def test_cached_jar_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TLA2TOOLS_JAR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    jar = tmp_path / "tlacheck" / "tla2tools.jar"
    jar.parent.mkdir()
    jar.write_bytes(b"x")
    assert tlc.find_jar() == jar
