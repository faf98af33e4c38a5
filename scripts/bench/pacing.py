"""Open-loop pacing shared by the bench producer (proc.py) and the latency probe (probe.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator


async def paced(
    t0: float, rate: float, duration: float, tick: float, max_batch: int | None = None
) -> AsyncIterator[range]:
    """Yield the sequence numbers due every `tick` seconds so that `rate` per second have been
    offered since `t0`, until `duration` has passed. A slow consumer is caught up, not queued:
    after an overrun the tick count jumps to the present (at most `max_batch` per yield)."""
    sent = k = 0
    while time.time() - t0 < duration:
        due = int(rate * (time.time() - t0)) + 1 - sent
        if max_batch is not None:
            due = min(due, max_batch)
        if due > 0:
            yield range(sent, sent + due)
            sent += due
        k += 1
        delay = t0 + k * tick - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            k = int((time.time() - t0) / tick)
