"""A task registry for tests that run `ringq worker --app worker_sample_app:registry` in a subprocess."""

from __future__ import annotations

import asyncio
import time

from ringq.registry import JobContext, Registry

registry = Registry()


@registry.task("noop")
async def noop(ctx: JobContext) -> None:
    return None


@registry.task("sleepy")
async def sleepy(ctx: JobContext) -> int:
    await asyncio.sleep(float(ctx.payload["s"]))
    return ctx.job_id


not_a_registry = {"noop": noop}


@registry.task("sleepy_sync")
def sleepy_sync(ctx: JobContext) -> int:
    time.sleep(float(ctx.payload["s"]))  # a thread Python cannot cancel
    return ctx.job_id
