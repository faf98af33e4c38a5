"""Adapter registry: name -> adapter class, imported lazily so a missing peer only
disables itself."""

from __future__ import annotations

import importlib

from bench.adapters.base import Adapter

# name -> "module:Class"; order is the default presentation order
REGISTRY: dict[str, str] = {
    "ringq": "bench.adapters.ringq_adapter:RingqAdapter",
    "raw": "bench.adapters.raw:RawAdapter",
    "awa": "bench.adapters.awa_adapter:AwaAdapter",
    "pgqueuer": "bench.adapters.pgqueuer_adapter:PgqueuerAdapter",
    "procrastinate": "bench.adapters.procrastinate_adapter:ProcrastinateAdapter",
    "chancy": "bench.adapters.chancy_adapter:ChancyAdapter",
    # variants: only when named in --systems
    "ringq-listen": "bench.adapters.ringq_adapter:RingqListenAdapter",
    "ringq-poll": "bench.adapters.ringq_adapter:RingqPollAdapter",
    "ringq-oldworker": "bench.adapters.ringq_adapter:RingqOldWorkerAdapter",
}
VARIANTS = ("ringq-listen", "ringq-poll", "ringq-oldworker")
DEFAULT_SYSTEMS = ("ringq", "raw", "awa", "pgqueuer", "procrastinate", "chancy")

# the "Python peers" the throughput target is measured against
PYTHON_PEERS = ("pgqueuer", "procrastinate", "chancy")


# settings a system spec may carry, "system[key=value,...]" (the issue 18 grid):
#   procs   worker processes (each with the given concurrency)      every system
#   c       handler concurrency per process                          every system
#   driver  psycopg | asyncpg | asyncpgpool                          pgqueuer
#   batch   QueueManager.run(batch_size=...)                         pgqueuer
#   lanes   jobs spread over N lanes (queues x 3 priorities)         ringq
OPTION_KEYS = ("procs", "c", "driver", "batch", "lanes")


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """'pgqueuer[driver=asyncpg,batch=100]' -> ('pgqueuer', {'driver': 'asyncpg', 'batch': '100'})."""
    base, sep, rest = spec.partition("[")
    options: dict[str, str] = {}
    if sep:
        if not rest.endswith("]"):
            raise ValueError(f"bad system spec {spec!r}: expected name[key=value,...]")
        for item in filter(None, (x.strip() for x in rest[:-1].split(","))):
            key, eq, value = item.partition("=")
            if not eq or key not in OPTION_KEYS:
                raise ValueError(f"bad option {item!r} in {spec!r}; options: {', '.join(OPTION_KEYS)}")
            options[key] = value
    return base, options


def spec_label(spec: str) -> str:
    """'ringq (c=64, procs=2)': the adapter's label with the spec's settings."""
    base, opts = parse_spec(spec)
    label = get_adapter(base).label
    return f"{label} ({', '.join(f'{k}={v}' for k, v in opts.items())})" if opts else label


def get_adapter(name: str) -> Adapter:
    base, options = parse_spec(name)
    try:
        spec = REGISTRY[base]
    except KeyError:
        raise ValueError(f"unknown system {base!r}; choose from {', '.join(REGISTRY)}") from None
    module, cls = spec.split(":")
    adapter: Adapter = getattr(importlib.import_module(module), cls)()
    adapter.options = options
    adapter.spec = name
    return adapter
