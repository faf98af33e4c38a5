"""Tasks for worker processes started by the chaos tests (`--app chaos_app:registry`)."""

from __future__ import annotations

import asyncio
import time

from ringq.registry import JobContext, Registry

registry = Registry()


@registry.task("sleepy")
async def sleepy(ctx: JobContext) -> int:
    """Sleeps payload["s"] seconds; payload["first"] instead on the first attempt, if given."""
    seconds = ctx.payload.get("first", ctx.payload["s"]) if ctx.attempt == 1 else ctx.payload["s"]
    await asyncio.sleep(float(seconds))
    return ctx.job_id


@registry.task("sleepy_sync")
def sleepy_sync(ctx: JobContext) -> int:
    seconds = ctx.payload.get("first", ctx.payload["s"]) if ctx.attempt == 1 else ctx.payload["s"]
    time.sleep(float(seconds))  # a thread Python cannot cancel
    return ctx.job_id
