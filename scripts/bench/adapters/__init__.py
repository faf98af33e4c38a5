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


def get_adapter(name: str) -> Adapter:
    try:
        spec = REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown system {name!r}; choose from {', '.join(REGISTRY)}") from None
    module, cls = spec.split(":")
    return getattr(importlib.import_module(module), cls)()  # type: ignore[no-any-return]
