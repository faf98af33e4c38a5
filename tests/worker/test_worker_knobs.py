"""Worker knobs are validated up front (InvalidInput), and the claim batch never exceeds what one
claim statement accepts — a bad knob must not turn into a worker that logs errors forever."""

from __future__ import annotations

import math
from typing import Any

import pytest

from ringq.aclient import AsyncQueue
from ringq.backoff import Backoff, reconnect_delay, retry_delay
from ringq.errors import InvalidInput
from ringq.registry import JobContext, Registry
from ringq.worker import Worker, WorkerConfig
from ringq.worker.runtime import MAX_CLAIM_LIMIT, idle_wait
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


def test_the_knobs_can_come_as_one_worker_config() -> None:
    queue = AsyncQueue("postgresql://unused.invalid/x", schema="s")
    config = WorkerConfig(concurrency=4, queues=["a", "b"], maintenance=False, name="w1")
    worker = Worker(queue, registry, config=config)
    assert worker.config is config and config.queues == ("a", "b")
    assert (worker.concurrency, worker.prefetch, worker.claim_batch, worker.name) == (4, 12, 16, "w1")
    assert worker.queues == ["a", "b"] and worker.listen_poll_interval == config.poll_interval
    same = Worker(queue, registry, concurrency=4, queues=["a", "b"], maintenance=False, name="w1")
    assert same.config == config
    with pytest.raises(InvalidInput, match="not both"):
        Worker(queue, registry, concurrency=8, config=config)


@pytest.mark.parametrize("kwargs", BAD, ids=[next(iter(k)) + "=" + repr(v) for k in BAD for v in k.values()])
def test_a_worker_config_with_a_bad_knob_cannot_be_made(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        WorkerConfig(**kwargs)


def test_the_worker_waits_grow_by_the_one_retry_delay_formula() -> None:
    assert [reconnect_delay(n) for n in (0, 1, 2, 6, 10**6)] == [0.1, 0.2, 0.4, 5.0, 5.0]
    assert idle_wait(0, 0.5) == 0.002 and idle_wait(3, 0.5) == 0.016 and idle_wait(10**6, 0.5) == 0.5
    assert retry_delay(10**6, base=0.0, cap=5.0) == 0.0
    assert Backoff(base=1.0, factor=10.0, cap=300.0, jitter=0.0).bounds(1000) == (300.0, 300.0)


@pytest.mark.parametrize("queues", [["a b"], "mail", [""], ["ok", 7]])
def test_worker_config_rejects_bad_queue_names(queues: object) -> None:
    """The Python API checks queue names as the CLI does (was: only `ringq worker` did)."""
    with pytest.raises(InvalidInput, match="queues"):
        WorkerConfig(queues=queues)  # type: ignore[arg-type]
