"""`ringq worker --app module:registry`: run a worker process until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys
import threading
import time
from typing import Any

from ringq.cli.argtypes import port, positive_float, positive_int, queue_name
from ringq.cli.db import require_installed, resolve_url
from ringq.cli.failure import CliError
from ringq.client import public_location
from ringq.logs import get_logger
from ringq.registry import Registry
from ringq.worker.runtime import TASK_THREAD_PREFIX

log = get_logger("ringq.cli")


def load_registry(app: str) -> Registry:
    """Import `module:attribute` (the current directory is importable) and check it is a Registry."""
    module_name, sep, attr = app.partition(":")
    if not sep or not module_name or not attr:
        raise CliError(f"--app must look like 'module:registry', got {app!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise CliError(f"--app {app}: cannot import module {module_name!r} ({exc})") from exc
    except Exception as exc:
        raise CliError(f"--app {app}: importing {module_name!r} failed: {type(exc).__name__}: {exc}") from exc
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise CliError(f"--app {app}: module {module_name!r} has no attribute {attr!r}")
        target = getattr(target, part)
    if not isinstance(target, Registry):
        raise CliError(f"--app {app}: {attr!r} is a {type(target).__name__}, not a ringq Registry")
    if not len(target):
        raise CliError(f"--app {app}: the registry has no tasks")
    return target


async def _serve(args: argparse.Namespace, url: str, registry: Registry) -> int:
    from ringq.aclient import AsyncQueue
    from ringq.leader import LeaderSettings
    from ringq.metrics import WorkerMetrics
    from ringq.worker import Worker, run_until_signalled

    metrics = WorkerMetrics()
    if args.metrics_port is not None:
        from prometheus_client import start_http_server

        try:
            start_http_server(args.metrics_port, registry=metrics.registry)
        except OSError as exc:  # in use, no permission
            raise CliError(
                f"--metrics-port {args.metrics_port}: cannot listen: {exc.strerror or exc}", 2
            ) from exc
    queue = AsyncQueue(url, schema=args.schema)
    try:
        worker = Worker(
            queue,
            registry,
            queues=args.queues,
            concurrency=args.concurrency,
            lease=args.lease,
            poll_interval=args.poll_interval,
            listen=args.listen,
            listen_poll_interval=args.listen_poll_interval,
            maintenance=not args.no_maintenance,
            leader_settings=LeaderSettings(rotate_interval=args.rotate_interval),
            conninfo=url,
            metrics=metrics,
        )
        report = await run_until_signalled(worker, shutdown_timeout=args.shutdown_timeout)
    finally:
        await queue.close()
    return 0 if report is None or report.unflushed == 0 else 1


async def _maintain(args: argparse.Namespace, url: str) -> int:
    """Run the maintenance leader alone (no registry, no claims) until SIGTERM/SIGINT."""
    import signal

    from ringq.aclient import AsyncQueue
    from ringq.leader import LeaderSettings, MaintenanceLeader

    queue = AsyncQueue(url, schema=args.schema)
    try:
        leader = MaintenanceLeader(
            queue,
            url,
            schema=args.schema,
            settings=LeaderSettings(interval=args.interval, rotate_interval=args.rotate_interval),
            name="maintain",
        )
        loop = asyncio.get_running_loop()
        signals = (signal.SIGTERM, signal.SIGINT)
        for sig in signals:
            loop.add_signal_handler(sig, leader.stop)
        try:
            log.info("maintenance process started", extra={"schema": args.schema})
            await leader.run()
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
        log.info("maintenance process stopped")
    finally:
        await queue.close()
    return 0


def _connected(command: str, url: str, schema: str) -> None:
    """Say where this process works (no password), once the database answered."""
    print(f"ringq {command}: connected to {public_location(url)} schema {schema}", flush=True)


def cmd_maintain(args: argparse.Namespace) -> int:
    url = resolve_url(args.database_url)
    require_installed(url, args.schema)
    _connected("maintain", url, args.schema)
    return asyncio.run(_maintain(args, url))


def cmd_worker(args: argparse.Namespace) -> int:
    registry = load_registry(args.app)
    url = resolve_url(args.database_url)
    require_installed(url, args.schema)
    _connected("worker", url, args.schema)
    code = asyncio.run(_serve(args, url, registry))
    _exit_past_stuck_threads(code)
    return code


def _exit_past_stuck_threads(code: int) -> None:
    """A sync handler abandoned at shutdown keeps its thread (Python cannot kill threads) and the
    interpreter would wait for it at exit. Its attempt is already left for rescue: exit now."""
    stuck = [t for t in threading.enumerate() if t.name.startswith(TASK_THREAD_PREFIX) and t.is_alive()]
    if stuck:
        time.sleep(0.2)  # idle pool threads exit on their own within moments
        stuck = [t for t in stuck if t.is_alive()]
    if stuck:
        log.warning(
            "sync handlers still running at exit; not waiting for them", extra={"threads": len(stuck)}
        )
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("worker", parents=[common], help="run a worker for a task registry")
    p.add_argument("--app", required=True, help="where the Registry lives, as module:attribute")
    p.add_argument(
        "--queues",
        nargs="+",
        type=queue_name,
        default=None,
        metavar="QUEUE",
        help="queues to serve (default: all)",
    )
    p.add_argument("--concurrency", type=positive_int, default=10, help="jobs run at once")
    p.add_argument("--lease", type=positive_float, default=30.0, help="attempt lease in seconds (default 30)")
    p.add_argument(
        "--poll-interval", type=positive_float, default=0.5, help="seconds between claims when idle"
    )
    p.add_argument(
        "--listen",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="wake on NOTIFY (dedicated, health-checked LISTEN connection; the poll stays on as the "
        "fallback). On by default; --no-listen polls only",
    )
    p.add_argument(
        "--listen-poll-interval",
        type=positive_float,
        default=None,
        help="idle poll while the LISTEN connection is healthy (default: --poll-interval)",
    )
    p.add_argument("--shutdown-timeout", type=positive_float, default=30.0, help="drain deadline on SIGTERM")
    _add_rotate_interval(p)
    p.add_argument("--no-maintenance", action="store_true", help="never run promote/rescue/rotate/prune")
    p.add_argument(
        "--metrics-port", type=port, default=None, help="serve Prometheus metrics on this port (default: off)"
    )
    p.add_argument("--log-json", action="store_true", help="JSON-lines logs")
    p.set_defaults(func=cmd_worker)

    m = subparsers.add_parser(
        "maintain",
        parents=[common],
        help="run only maintenance (promote, rescue, rotate, prune) under a role with TRUNCATE; "
        "run the workers with --no-maintenance",
    )
    m.add_argument("--interval", type=positive_float, default=1.0, help="promote/rescue period (default 1)")
    _add_rotate_interval(m)
    m.add_argument("--log-json", action="store_true", help="JSON-lines logs")
    m.set_defaults(func=cmd_maintain)


def _add_rotate_interval(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rotate-interval",
        type=positive_float,
        default=600.0,
        help="ring rotation period in seconds; results are kept ~(slots-1) x this (default 600)",
    )
