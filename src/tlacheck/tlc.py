"""Run TLC (tla2tools.jar) as a subprocess in ``-tool`` mode and parse its framed output."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from tlacheck.result import CheckResult
from tlacheck.tlc_messages import PROGRESS_STATS, MessageReader, Progress, TLCRun, parse_progress

JAR_ENV = "TLA2TOOLS_JAR"


class TLCUnavailable(RuntimeError):
    """No usable tla2tools.jar or java; the message says how to get them."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tlacheck"


def cached_jar_path() -> Path:
    """Where ``tlacheck fetch-tlc`` installs the jar."""
    return cache_dir() / "tla2tools.jar"


def find_jar() -> Path | None:
    """``$TLA2TOOLS_JAR`` if set (even if missing, so a typo is not silently ignored), else the cache."""
    env = os.environ.get(JAR_ENV)
    if env:
        path = Path(env).expanduser()
        return path if path.is_file() else None
    cached = cached_jar_path()
    return cached if cached.is_file() else None


@lru_cache(maxsize=8)
def _java_runs(java: str) -> bool:
    try:
        proc = subprocess.run([java, "-version"], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def find_java() -> str | None:
    """``java`` from PATH, if it starts."""
    java = shutil.which("java")
    return java if java and _java_runs(java) else None


def available() -> bool:
    return find_jar() is not None and find_java() is not None


def unavailable_reason() -> str:
    env = os.environ.get(JAR_ENV)
    if env and not Path(env).expanduser().is_file():
        return f"{JAR_ENV}={env} does not name a file; point it at tla2tools.jar or unset it."
    if find_jar() is None:
        return (
            f"TLC backend needs tla2tools.jar: set {JAR_ENV}=/path/to/tla2tools.jar, "
            f"or run `tlacheck fetch-tlc` to download the pinned release into {cached_jar_path()}."
        )
    if find_java() is None:
        return (
            "TLC backend needs a Java runtime (11 or newer): `java` was not found on PATH or does not start."
        )
    return ""


def command(jar: Path, java: str, spec: Path, config: Path | None, workers: int, metadir: Path) -> list[str]:
    cmd = [
        java,
        "-XX:+UseParallelGC",
        "-cp",
        str(jar),
        "tlc2.TLC",
        "-tool",
        "-workers",
        str(workers),
        "-noGenerateSpecTE",
        "-cleanup",
        "-metadir",
        str(metadir),
    ]
    if config is not None:
        cmd += ["-config", str(config)]
    return [*cmd, spec.name]


def run(
    spec: Path,
    config: Path | None = None,
    *,
    workers: int = 1,
    max_states: int | None = None,
    progress: Callable[[Progress], None] | None = None,
    timeout_s: float | None = None,
) -> CheckResult:
    """Check `spec` with TLC. Raises TLCUnavailable when there is no jar or java.

    TLC has no state limit of its own: `max_states` stops the run at the first progress
    report (TLC prints one a minute) that exceeds it, with outcome "error".
    """
    jar, java = find_jar(), find_java()
    if jar is None or java is None:
        raise TLCUnavailable(unavailable_reason())
    spec = spec.resolve()
    started = time.monotonic()
    run_state = TLCRun()
    reader = MessageReader()
    stopped: list[tuple[str, str]] = []  # (error_kind, message)
    with tempfile.TemporaryDirectory(prefix="tlacheck-tlc-") as tmp:
        cmd = command(jar, java, spec, config.resolve() if config else None, workers, Path(tmp) / "states")
        # TLC resolves EXTENDS against the spec's directory, so it runs there.
        try:
            proc = subprocess.Popen(
                cmd, cwd=spec.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
            )
        except OSError as exc:
            raise TLCUnavailable(f"could not start {java}: {exc}") from exc

        def stop(kind: str, reason: str) -> None:
            if proc.poll() is None:
                stopped.append((kind, reason))
                proc.kill()

        watchdog = None
        if timeout_s is not None:
            watchdog = threading.Timer(
                timeout_s, stop, ["timeout", f"stopped: TLC ran longer than {timeout_s:g}s"]
            )
            watchdog.daemon = True
            watchdog.start()
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                msg = reader.feed(line)
                if msg is None:
                    continue
                run_state.add(msg)
                if msg.code != PROGRESS_STATS:
                    continue
                report = parse_progress(msg.body, time.monotonic() - started)
                if report is None:
                    continue
                if progress is not None:
                    progress(report)
                if max_states is not None and report.distinct > max_states:
                    stop("max_states", f"stopped after {report.distinct} distinct states (max_states)")
        finally:
            if watchdog is not None:
                watchdog.cancel()
            if proc.poll() is None and sys.exc_info()[0] is not None:
                proc.kill()
            exit_code = proc.wait()
        tail = reader.close()
        if tail is not None:
            run_state.add(tail)
    result = run_state.result(exit_code)
    result.elapsed_s = time.monotonic() - started
    result.workers = workers
    if stopped:
        result.outcome, result.violated = "error", None
        result.error_kind, result.message = stopped[0]
    return result
