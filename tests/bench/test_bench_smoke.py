"""Smoke test of the benchmark harness (scripts/bench.py) so it cannot rot.

Runs the raw SQL baseline and ringq through the real harness - fresh template databases,
worker and producer processes, stats snapshots, analysis and the report - on ~200 jobs.
The peers are not installed in the dev venv and are not exercised here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import bench.report as report  # noqa: E402
from bench.metrics import analyse_jobs, depth_series, percentile  # noqa: E402
from bench.runner import Runner, Settings  # noqa: E402
from bench.server import Server  # noqa: E402


def test_percentiles_and_job_join() -> None:
    assert percentile([], 50) is None
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([float(i) for i in range(100)], 99) == 98.0
    batches = [(0, 2, 10.0), (2, 3, 11.0)]
    records = [("a", 0, 10.5), ("b", 1, 10.6), ("c", 2, 11.2), ("c", 2, 11.3)]
    jobs = analyse_jobs(batches, records, {"a": 10.7, "b": 10.8, "c": 11.5})
    assert jobs["started"] == 3 and jobs["duplicates"] == 1 and jobs["completed_seen"] == 3
    assert jobs["start_latency"]["max"] == pytest.approx(0.6)
    assert jobs["completion_latency"]["p50"] == pytest.approx(0.7)
    assert depth_series([10.0, 10.0, 11.0], [10.5, 10.6, 11.2], 10.0, 11.0, step=0.5) == [
        (0.0, 2),
        (0.5, 1),
        (1.0, 1),
    ]


def test_bad_argument_is_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "bench.py"), "--rates", "fast", "--no-reexec"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--rates" in lines[0], proc.stderr


def test_quick_defaults_parse_and_missing_results_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPTS / "bench.py"),
            "--quick",
            "--render",
            str(tmp_path / "nope.json"),
            "--no-reexec",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot read" in lines[0], proc.stderr


def test_raw_and_ringq_through_the_harness(db_url: str) -> None:
    settings = Settings(concurrency=8, drain_batch=100, grace=10.0, stats_settle=0.3, warmup=0.2)
    runner = Runner(Server(url=db_url), settings)
    results: dict[str, Any] = {
        "systems": ["ringq", "raw"],
        "labels": {"ringq": "ringq", "raw": "raw SQL"},
        "versions": {},
        "config": {"drain_n": 200, "concurrency": 8, "reps": 1, "rates": [100.0], "duration": 1.0},
        "drain": {},
        "sweep": {},
    }
    from bench.adapters import get_adapter

    runner.prepare(get_adapter("ringq"))  # from a template; raw installs into each fresh database

    drain = runner.drain("ringq", 200, lambda _a, _b: None)
    assert drain["started"] == 200 and drain["duplicates"] == 0, drain
    assert drain["completed_seen"] == 200  # completion commits read back from ringq's tables
    assert drain["drain_rate"] > 0 and drain["enqueue_rate"] > 0
    assert drain["cost"]["commits"] > 0 and drain["cost"]["wal_bytes"] > 0
    results["drain"]["ringq"] = [drain]

    offered = runner.offered("raw", 200.0, 1.0, lambda _a, _b: None)
    assert offered["enqueued"] >= 180, offered
    assert offered["started"] == offered["enqueued"] and offered["duplicates"] == 0
    assert offered["completion_coverage"] > 0.98
    assert offered["start_latency"]["p50"] is not None and offered["dead_tuples"]
    assert offered["cost"]["wal_bytes"] > 0
    assert offered["cost"]["worker_commits_per_job"] is not None
    results["sweep"]["raw"] = [offered]
    results["config"]["rates"] = [200.0]
    results["bloat_rate"] = 200.0

    results["targets"] = report.targets(results)
    assert any("drain" in t["target"] for t in results["targets"])
    console = Console(record=True, width=160)
    report.render(results, console)
    text = console.export_text()
    assert "1. drain" in text and "2. offered load" in text and "targets" in text


def test_ringq_variants_differ_only_in_worker_options() -> None:
    from bench.adapters import get_adapter

    assert get_adapter("ringq").worker_options == {}  # the Worker's own defaults
    assert get_adapter("ringq-listen").worker_options == {"listen": True}
    assert get_adapter("ringq-poll").worker_options == {"listen": False}
    old = get_adapter("ringq-oldworker").worker_options
    assert old == {"listen": False, "prefetch": 0, "flush_interval": 0.02}


def test_archived_results_render_from_gzip(tmp_path: Path) -> None:
    import gzip
    import json

    results: dict[str, Any] = {
        "systems": [],
        "labels": {},
        "versions": {},
        "config": {},
        "drain": {},
        "sweep": {},
    }
    path = tmp_path / "results.json.gz"
    path.write_bytes(gzip.compress(json.dumps(results).encode()))
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "bench.py"), "--render", str(path), "--no-plots", "--no-reexec"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "cannot read" not in proc.stderr


def test_slow_producers_through_the_harness(db_url: str) -> None:
    """Issue 12 item 7: producers that enqueue inside transactions they hold open, plus one
    session idle in transaction with an enqueued job that rolls back at the window's end."""
    settings = Settings(concurrency=8, grace=10.0, stats_settle=0.3, warmup=0.2)
    runner = Runner(Server(url=db_url), settings)
    from bench.adapters import get_adapter

    runner.prepare(get_adapter("ringq"))
    plan = {"mode": "slow", "producers": 3, "hold": 0.2, "leak": True}
    res = runner.offered("ringq", 150.0, 1.0, lambda _a, _b: None, plan_extra=plan)
    assert res["enqueued"] >= 140 and res["started"] == res["enqueued"], res["enqueued"]
    assert res["duplicates"] == 0
    assert res["jobs_per_transaction"] > 1  # several arrivals per held transaction
    assert res["enqueue_latency"]["n"] > 0 and res["enqueue_latency"]["p99"] is not None
    assert res["leak"]["held_seconds"] >= 0.9  # idle in transaction for the whole window
    assert res["throughput"] > 0
    assert res["producer_plan"]["hold"] == 0.2

    results: dict[str, Any] = {
        "systems": ["ringq"],
        "labels": {"ringq": "ringq"},
        "versions": {},
        "config": {
            "slow_rate": 150.0,
            "slow_duration": 1.0,
            "slow_producers": 3,
            "slow_holds": ["0", "1000"],
        },
        "slow": {"ringq": {"0": res, "1000": res}},
    }
    results["targets"] = report.targets(results)
    assert any("slow producers" in t["target"] for t in results["targets"])
    console = Console(record=True, width=200)
    report.render(results, console)
    assert "5. slow producers" in console.export_text()


def test_slow_holds_argument() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "bench.py"), "--slow-holds", "0,soon", "--no-reexec"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2 and "--slow-holds" in proc.stderr, proc.stderr


def test_system_specs_and_grid_cells() -> None:
    from bench.adapters import get_adapter, parse_spec
    from bench.grid import CELLS, best_cells, cells_for, is_equal_settings

    assert parse_spec("pgqueuer[driver=asyncpg,batch=100]") == (
        "pgqueuer",
        {"driver": "asyncpg", "batch": "100"},
    )
    assert parse_spec("ringq") == ("ringq", {})
    with pytest.raises(ValueError):
        parse_spec("ringq[speed=11]")
    a = get_adapter("ringq[c=64,procs=2]")
    assert (a.name, a.spec, a.processes(), a.concurrency(16)) == ("ringq", "ringq[c=64,procs=2]", 2, 64)
    assert get_adapter("ringq").concurrency(16) == 16
    for spec, cite in CELLS:  # every cell names an installed adapter and where its setting is from
        assert get_adapter(spec).name == parse_spec(spec)[0] and cite
    order = cells_for(["ringq", "raw"])
    assert order[:2] == ["ringq[c=16]", "raw[c=16]"]  # systems take turns
    assert is_equal_settings("ringq[c=16]") and is_equal_settings("pgqueuer")
    assert not is_equal_settings("ringq[c=64,procs=2]")
    best = best_cells(
        {"ringq[c=16]": {"drain_rate": 1.0}, "ringq[c=64]": {"drain_rate": 2.0}, "raw": {"error": "x"}}
    )
    assert best == {"ringq": ("ringq[c=64]", {"drain_rate": 2.0})}


def test_two_worker_processes_through_the_harness(db_url: str) -> None:
    settings = Settings(concurrency=4, drain_batch=100, grace=10.0, stats_settle=0.3, warmup=0.2)
    runner = Runner(Server(url=db_url), settings)
    from bench.adapters import get_adapter

    runner.prepare(get_adapter("ringq"))
    drain = runner.drain("ringq[c=4,procs=2]", 200, lambda _a, _b: None)
    assert drain["started"] == 200 and drain["duplicates"] == 0, drain
    assert drain["completed_seen"] == 200


def test_ringq_lanes_setting_spreads_jobs() -> None:
    from bench.adapters import get_adapter
    from bench.adapters.ringq_adapter import lane_of

    assert lane_of(7, 1) == ("bench", 0)
    lanes = {lane_of(s, 300) for s in range(900)}
    assert len(lanes) == 300 and {p for _, p in lanes} == {0, 1, 2}
    assert len({q for q, _ in lanes}) == 100
    assert get_adapter("ringq[lanes=300]").options == {"lanes": "300"}
