"""Worker knobs are validated up front (InvalidInput), and the claim batch never exceeds what one
claim statement accepts — a bad knob must not turn into a worker that logs errors forever."""

from __future__ import annotations

import math
from typing import Any

import pytest

from ringq.aclient import AsyncQueue
from ringq.errors import InvalidInput
from ringq.registry import JobContext, Registry
from ringq.worker import Worker
from ringq.worker.runtime import MAX_CLAIM_LIMIT
from ringq.worker.wakeup import notify_channel

registry = Registry()


@registry.task("noop")
async def noop(ctx: JobContext) -> None:
    return None


BAD: list[dict[str, Any]] = [
    {"concurrency": 0},
    {"concurrency": 2.5},
    {"concurrency": True},
    {"claim_batch": 0},
    {"lease": 0},
    {"lease": math.inf},
    {"lease": math.nan},
    {"lease": 8 * 24 * 3600},
    {"poll_interval": 0},
    {"poll_interval": math.inf},
    {"poll_interval": "1"},
    {"flush_interval": -1},
    {"flush_batch": 0},
    {"listen_poll_interval": math.inf},
    {"prefetch": -1},
    {"prefetch": 1.5},
    {"prefetch": True},
    {"listen_health_interval": 0},
]


@pytest.mark.parametrize("kwargs", BAD, ids=[next(iter(k)) + "=" + repr(v) for k in BAD for v in k.values()])
def test_bad_knobs_are_rejected(kwargs: dict[str, Any]) -> None:
    queue = AsyncQueue("postgresql://unused.invalid/x", schema="s")
    with pytest.raises(InvalidInput):
        Worker(queue, registry, maintenance=False, **kwargs)


def test_claim_batch_is_capped_and_listen_needs_a_dsn() -> None:
    queue = AsyncQueue("postgresql://unused.invalid/x", schema="s")
    worker = Worker(queue, registry, concurrency=10**9, maintenance=False)
    assert worker.claim_batch == MAX_CLAIM_LIMIT
    listening = Worker(queue, registry, maintenance=False, listen=True)
    assert listening.listener is not None and listening.listener.channel == notify_channel("s")


def test_the_channel_fits_namedatalen_for_any_schema_name() -> None:
    for schema in ("s", "x" * 63, "Mixed_Case_1"):
        channel = notify_channel(schema)
        assert channel.startswith("ringq_") and len(channel) == 38


def test_prefetch_defaults_to_three_times_concurrency_and_zero_turns_it_off() -> None:
    queue = AsyncQueue("postgresql://unused.invalid/x", schema="s")
    assert Worker(queue, registry, concurrency=4, maintenance=False).prefetch == 12
    assert Worker(queue, registry, concurrency=4, maintenance=False, prefetch=0).prefetch == 0


def test_ringq_worker_listens_by_default_and_no_listen_polls_only() -> None:
    from ringq.cli.app import build_parser

    parser = build_parser()
    assert parser.parse_args(["worker", "--app", "m:r"]).listen is True
    assert parser.parse_args(["worker", "--app", "m:r", "--no-listen"]).listen is False
