"""`tlacheck check`: TLC's summary lines, --json, exit codes and one-line errors.

The TLC-backend cases replay recorded transcripts through a FAKE java (see
test_tlc_subprocess.py); the built-in cases run the real built-in checker on the tiny
specs in tests/data/tla-cli/.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from tlacheck.cli import main
from tlacheck.render import ProgressLine, print_trace
from tlacheck.result import CheckResult, TraceStep

DATA = Path(__file__).resolve().parents[1] / "data"
SPECS = DATA / "tla-cli"
TRANSCRIPTS = DATA / "tlc"

FAKE_JAVA = """#!{python}
# FAKE java for tests: replays a recorded TLC -tool transcript; it is not TLC.
import os, sys
if sys.argv[1:] == ["-version"]:
    sys.exit(0)
sys.stdout.write(open(os.environ["FAKE_TLC_TRANSCRIPT"]).read())
sys.exit(int(os.environ["FAKE_TLC_EXIT"]))
"""


@pytest.fixture
def fake_tlc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    java = bindir / "java"
    java.write_text(FAKE_JAVA.format(python=sys.executable))
    java.chmod(0o755)
    (tmp_path / "tla2tools.jar").write_bytes(b"placeholder")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("TLA2TOOLS_JAR", str(tmp_path / "tla2tools.jar"))


@pytest.fixture
def no_tlc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TLA2TOOLS_JAR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "no-cache"))


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- TLC backend (fake java replaying transcripts) ---------------------------------------

TLC_CASES = [
    (
        "ok",
        0,
        "Counter.cfg",
        [
            "Model checking completed. No error has been found.",
            "The depth of the complete state graph search is 4.",
        ],
    ),
    ("invariant", 12, "CounterSmall.cfg", ["Error: Invariant Small is violated.", "State 3: <Next>"]),
    (
        "deadlock",
        11,
        "Stuck.cfg",
        ["Error: Deadlock reached.", "3 states generated, 3 distinct states found, 0 states left on queue."],
    ),
    ("action_property", 13, "Wrap.cfg", ["Error: Action property Monotonic is violated."]),
    (
        "temporal_lasso",
        13,
        "ToggleLasso.cfg",
        ["Error: Temporal properties were violated.", "Back to state 1"],
    ),
    ("temporal_stuttering", 13, "ToggleStutter.cfg", ["State 2: Stuttering"]),
    (
        "assumption",
        10,
        "Assume.cfg",
        ["Error: Assumption line 5, col 8 to line 5, col 12 of module Assume is false."],
    ),
    ("parse_error", 150, "Broken.cfg", ["Error: Parsing or semantic analysis failed.", "***Parse Error***"]),
    (
        "config_error",
        151,
        "CounterBadCfg.cfg",
        ["Error: The invariant NoSuchInvariant specified in the configuration file"],
    ),
]


SPEC_OF_CFG = {
    "Counter.cfg": "Counter",
    "CounterSmall.cfg": "Counter",
    "CounterBadCfg.cfg": "Counter",
    "Stuck.cfg": "Stuck",
    "Wrap.cfg": "Wrap",
    "ToggleLasso.cfg": "Toggle",
    "ToggleStutter.cfg": "Toggle",
    "Assume.cfg": "Assume",
    "Broken.cfg": "Broken",
}


@pytest.mark.parametrize(("name", "exit_code", "cfg", "lines"), TLC_CASES)
def test_tlc_human_output(
    name: str,
    exit_code: int,
    cfg: str,
    lines: list[str],
    fake_tlc: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FAKE_TLC_TRANSCRIPT", str(TRANSCRIPTS / f"{name}.out"))
    monkeypatch.setenv("FAKE_TLC_EXIT", str(exit_code))
    spec = SPECS / f"{SPEC_OF_CFG[cfg]}.tla"
    code, out, _ = run_cli(capsys, "check", str(spec), "--config", str(SPECS / cfg), "--backend", "tlc")
    assert code == exit_code
    out_lines = out.splitlines()
    for line in lines:
        assert line in out_lines, f"{line!r} not in output:\n{out}"


def test_tlc_json(
    fake_tlc: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_TLC_TRANSCRIPT", str(TRANSCRIPTS / "temporal_lasso.out"))
    monkeypatch.setenv("FAKE_TLC_EXIT", "13")
    code, out, _ = run_cli(
        capsys, "check", str(SPECS / "Toggle.tla"), "-c", str(SPECS / "ToggleLasso.cfg"), "--json"
    )
    data = json.loads(out)
    assert code == 13 == data["exit_code"]
    assert data["outcome"] == "property_violated" and data["backend"] == "tlc"
    assert data["trace"][1] == {"state": {"x": "1"}, "action": "Next", "lasso_back_to": 1}
    assert (data["states_generated"], data["distinct_states"]) == (3, 2)


# --- argument and environment errors ------------------------------------------------------


def test_missing_spec_is_one_line_with_parse_exit_code(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run_cli(capsys, "check", str(tmp_path / "Missing.tla"))
    assert code == 150 and out == ""
    assert err == f"tlacheck: error: spec file not found: {tmp_path / 'Missing.tla'}\n"


def test_missing_config_is_one_line_with_config_exit_code(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run_cli(capsys, "check", str(SPECS / "Counter.tla"), "--config", str(tmp_path / "x.cfg"))
    assert code == 151 and err.count("\n") == 1 and "config file not found" in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["check", "X.tla", "--workers", "0"], "expected a positive integer"),
        (["check", "X.tla", "--backend", "apalache"], "invalid choice"),
        (["check"], "required: spec"),
        ([], "required: command"),
    ],
)
def test_bad_arguments_are_one_line(argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1 and needle in err


def test_backend_tlc_unavailable_is_one_line(no_tlc: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "check", str(SPECS / "Counter.tla"), "--backend", "tlc")
    assert code == 255 and err.count("\n") == 1
    assert "tlacheck fetch-tlc" in err and "TLA2TOOLS_JAR" in err


def test_console_script_has_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tlacheck.cli", "check", str(tmp_path / "Nope.tla")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 150
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


# --- the renderer ringq's suite runner reuses ---------------------------------------------


def test_print_trace_marks_changed_variables_and_the_lasso() -> None:
    result = CheckResult(
        outcome="property_violated",
        violated="Live",
        trace=[
            TraceStep({"x": "0", "y": "a"}, "Initial predicate"),
            TraceStep({"x": "1", "y": "a"}, "Inc"),
            TraceStep({"x": "1", "y": "b"}, "Flip", lasso_back_to=2),
        ],
    )
    console = Console(file=io.StringIO(), record=True, width=100, force_terminal=True)
    print_trace(result, console)
    text = console.export_text(clear=False)
    assert "State 2: <Inc>" in text and "State 3: <Flip>" in text
    lines = text.splitlines()
    assert "* /\\ x = 1" in lines and "  /\\ y = a" in lines  # state 2: only x changed
    assert "* /\\ y = b" in lines and "Back to state 2" in lines
    styled = console.export_html(inline_styles=True)
    assert "font-weight: bold" in styled


def test_progress_line_draws_only_on_a_terminal() -> None:
    report = SimpleNamespace(distinct=1234, generated=5678, queue=9, depth=3, elapsed_s=1.5)
    piped = io.StringIO()
    with ProgressLine(Console(file=piped), delay_s=0) as progress:
        progress(report)
    assert piped.getvalue() == ""
    tty = io.StringIO()
    with ProgressLine(Console(file=tty, force_terminal=True), delay_s=0) as progress:
        progress(report)
    assert "1,234 distinct" in tty.getvalue() and "depth 3" in tty.getvalue()


# --- built-in backend, end to end on tiny specs --------------------------------------------

BUILTIN_CASES = [
    (
        "Counter",
        "Counter",
        0,
        [
            "Model checking completed. No error has been found.",
            "4 states generated, 4 distinct states found, 0 states left on queue.",
            "The depth of the complete state graph search is 4.",
        ],
    ),
    (
        "Counter",
        "CounterSmall",
        12,
        ["Error: Invariant Small is violated.", "State 3: <Next>", "* /\\ x = 2"],
    ),
    ("Stuck", "Stuck", 11, ["Error: Deadlock reached.", "State 3: <Next>", "* /\\ x = 2", "  /\\ y = 0"]),
    ("Wrap", "Wrap", 13, ["Error: Action property Monotonic is violated.", "State 4: <Next>"]),
    (
        "Toggle",
        "ToggleStutter",
        13,
        ["Error: Temporal property EventuallyOne was violated.", "State 2: Stuttering"],
    ),
    (
        "Toggle",
        "ToggleLasso",
        13,
        ["Error: Temporal property SettlesAtZero was violated.", "Back to state 1"],
    ),
    ("Assume", "Assume", 10, []),
    ("Broken", "Broken", 150, []),
    ("Counter", "CounterBadCfg", 151, []),
]


@pytest.mark.parametrize(("spec", "cfg", "exit_code", "lines"), BUILTIN_CASES)
def test_builtin_end_to_end(
    spec: str, cfg: str, exit_code: int, lines: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(
        capsys,
        "check",
        str(SPECS / f"{spec}.tla"),
        "--config",
        str(SPECS / f"{cfg}.cfg"),
        "--backend",
        "builtin",
    )
    assert code == exit_code, out
    out_lines = out.splitlines()
    assert out_lines[0].startswith("Error: ") == (exit_code != 0)
    assert out_lines[-1].startswith("Finished in ") and "backend: builtin" in out_lines[-1]
    for line in lines:
        assert line in out_lines, f"{line!r} not in output:\n{out}"


def test_builtin_json_and_default_cfg(capsys: pytest.CaptureFixture[str]) -> None:
    # No --config: Stuck.cfg beside Stuck.tla is used.
    code, out, _ = run_cli(capsys, "check", str(SPECS / "Stuck.tla"), "--backend", "builtin", "--json")
    data = json.loads(out)
    assert code == 11 == data["exit_code"]
    assert (data["outcome"], data["backend"], data["distinct_states"]) == ("deadlock", "builtin", 3)
    assert data["trace"][-1] == {"state": {"x": "2", "y": "0"}, "action": "Next", "lasso_back_to": None}


def test_no_trace_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys,
        "check",
        str(SPECS / "Counter.tla"),
        "-c",
        str(SPECS / "CounterSmall.cfg"),
        "--no-trace",
        "--backend",
        "builtin",
    )
    assert code == 12 and "State 1" not in out and "Error: Invariant Small is violated." in out.splitlines()


def test_tlc_warnings_are_printed(
    fake_tlc: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    warned = tmp_path / "warned.out"
    warned.write_text(
        "@!@!@STARTMSG 2279:3 @!@!@\nDeclaring symmetry during liveness checking is dangerous.\n@!@!@ENDMSG 2279 @!@!@\n"
        + (TRANSCRIPTS / "ok.out").read_text()
    )
    monkeypatch.setenv("FAKE_TLC_TRANSCRIPT", str(warned))
    monkeypatch.setenv("FAKE_TLC_EXIT", "0")
    code, out, _ = run_cli(capsys, "check", str(SPECS / "Counter.tla"), "--backend", "tlc")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "Model checking completed. No error has been found."
    assert "Warning: Declaring symmetry during liveness checking is dangerous." in lines


def test_assumption_prints_no_statistics(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "check", str(SPECS / "Assume.tla"), "--backend", "builtin")
    assert code == 10 and "states generated" not in out
