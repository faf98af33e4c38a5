"""Turning raw timestamps into the numbers the report shows."""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from typing import Any


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of an already sorted sequence (q in [0, 100])."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, math.ceil(q / 100.0 * len(sorted_values)) - 1))
    return float(sorted_values[k])


def summarize(values: Iterable[float]) -> dict[str, float | int | None]:
    v = sorted(values)
    return {
        "n": len(v),
        "p50": percentile(v, 50),
        "p95": percentile(v, 95),
        "p99": percentile(v, 99),
        "max": v[-1] if v else None,
        "mean": (sum(v) / len(v)) if v else None,
    }


def commit_times(batches: Sequence[tuple[int, int, float]]) -> dict[int, float]:
    out: dict[int, float] = {}
    for lo, hi, t in batches:
        for s in range(lo, hi):
            out[s] = t
    return out


def count_le(sorted_times: Sequence[float], t: float) -> int:
    return bisect.bisect_right(sorted_times, t)


def depth_series(
    enq: Sequence[float], started: Sequence[float], t0: float, t1: float, step: float = 0.25
) -> list[tuple[float, int]]:
    """Jobs enqueued (committed) but not yet started, sampled every `step` seconds."""
    e, s = sorted(enq), sorted(started)
    out: list[tuple[float, int]] = []
    t = t0
    while t <= t1 + 1e-9:
        out.append((round(t - t0, 3), count_le(e, t) - count_le(s, t)))
        t += step
    if out and out[-1][0] < round(t1 - t0, 3):
        out.append((round(t1 - t0, 3), count_le(e, t1) - count_le(s, t1)))
    return out


def analyse_jobs(
    batches: Sequence[tuple[int, int, float]],
    records: Sequence[tuple[str, int, float]],
    completions: dict[str, float],
) -> dict[str, Any]:
    """Join producer commits, handler starts and completion commits by seq / job key."""
    commits = commit_times(batches)
    start_lat: list[float] = []
    done_lat: list[float] = []
    starts: list[float] = []
    done_times: list[float] = []
    seen: set[int] = set()
    duplicates = 0
    for key, seq, t in records:
        if seq in seen:
            duplicates += 1
            continue
        seen.add(seq)
        starts.append(t)
        c = commits.get(seq)
        if c is not None:
            start_lat.append(t - c)
        d = completions.get(key)
        if d is not None:
            done_times.append(d)
            if c is not None:
                done_lat.append(d - c)
    return {
        "enqueued": len(commits),
        "started": len(seen),
        "duplicates": duplicates,
        "completed_seen": len(done_times),
        "start_latency": summarize(start_lat),
        "completion_latency": summarize(done_lat),
        "starts": sorted(starts),
        "done_times": sorted(done_times),
        "enqueue_times": sorted(commits.values()),
    }
