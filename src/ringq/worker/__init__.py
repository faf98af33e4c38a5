"""The ringq worker runtime (asyncio): `Worker` and its `WorkerConfig`, plus `run_until_signalled`
for processes."""

from ringq.worker.config import WorkerConfig
from ringq.worker.runtime import StopReport, Worker, default_worker_name
from ringq.worker.signals import run_until_signalled

__all__ = ["StopReport", "Worker", "WorkerConfig", "default_worker_name", "run_until_signalled"]
