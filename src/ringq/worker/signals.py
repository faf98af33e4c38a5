"""Run a worker until SIGTERM/SIGINT: the first signal drains gracefully, a second forces exit."""

from __future__ import annotations

import asyncio
import signal

from ringq.logs import get_logger
from ringq.worker.runtime import StopReport, Worker

log = get_logger("ringq.worker")

SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def run_until_signalled(worker: Worker, *, shutdown_timeout: float = 30.0) -> StopReport | None:
    loop = asyncio.get_running_loop()
    seen = 0
    # The loop keeps only weak references to tasks: hold the shutdown task here.
    stopping: list[asyncio.Future[StopReport]] = []

    def on_signal(sig: signal.Signals) -> None:
        nonlocal seen
        seen += 1
        if seen == 1:
            log.info(
                "shutdown requested; draining in-flight jobs",
                extra={"signal": sig.name, "deadline": shutdown_timeout},
            )
            stopping.append(asyncio.ensure_future(worker.stop(shutdown_timeout)))
        else:
            log.warning("second signal; abandoning in-flight jobs for rescue", extra={"signal": sig.name})
            worker.force()

    for sig in SHUTDOWN_SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        await worker.run()
    finally:
        for sig in SHUTDOWN_SIGNALS:
            loop.remove_signal_handler(sig)
    return worker.stop_report
