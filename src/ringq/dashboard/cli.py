"""`ringq dashboard [--host H] [--port P] [--token T]`: serve the web UI (ringq.cli.app PLUGINS).

Mistakes (bad port or host, port in use, unreachable database, ringq not installed, the
`dashboard` extra missing) print one line on stderr and exit non-zero, never a traceback: they
raise CliError, which `ringq.cli.app` turns into that line.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from typing import Any

from ringq.cli.failure import CliError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8321
ENV_TOKEN = "RINGQ_DASHBOARD_TOKEN"
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535: {text}")
    return value


def listen(host: str, port: int) -> socket.socket:
    """A bound, listening socket for uvicorn, or CliError (in use, bad host, no permission)."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise CliError(f"cannot listen on {host!r}: {exc}", 2) from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", 2) from exc
    sock.set_inheritable(True)
    return sock


def allowed_hosts(host: str, port: int) -> list[str]:
    """Host headers the app answers (a DNS-rebinding guard); any when bound to every address."""
    if host in WILDCARD_HOSTS:
        return ["*"]
    hosts = {"127.0.0.1", "localhost", "::1", "[::1]", host}
    if ":" in host and not host.startswith("["):
        hosts.add(f"[{host}]")
    return sorted(hosts)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ringq.dashboard.app import Settings, create_app, public_database
    except ModuleNotFoundError as exc:
        from ringq.extras import missing_extra_message

        top = (exc.name or "?").split(".")[0]
        hint = missing_extra_message(exc) or f"the dashboard cannot start: {top} is not installed"
        raise CliError(hint) from exc
    from ringq.cli.db import require_installed, resolve_url
    from ringq.validation import check_schema

    token = args.token if args.token is not None else os.environ.get(ENV_TOKEN) or None
    if token is not None and not token.strip():
        raise CliError("--token must not be empty", 2)
    schema = getattr(args, "schema", None) or "ringq"
    try:
        check_schema(schema)
    except ValueError as exc:
        raise CliError(str(exc), 2) from exc
    url = resolve_url(getattr(args, "database_url", None))
    require_installed(url, schema)  # unreachable database / not installed: one line, exit 1
    from ringq.client import Queue

    with Queue(url, schema=schema, pool_size=1) as queue:
        queue.stats()  # a storage version mismatch or missing grant: one line now, not a 503 later
    sock = listen(args.host, args.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    app = create_app(
        Settings(database_url=url, schema=schema, token=token, allowed_hosts=allowed_hosts(args.host, port))
    )
    mode = "actions need the token (log in at /login)" if token else "read-only (no --token)"
    sys.stderr.write(
        f"ringq dashboard: http://{shown}:{port}/ - database {public_database(url)}, schema {schema}, {mode}\n"
    )
    sys.stderr.flush()
    verbose = bool(getattr(args, "verbose", False))
    config = uvicorn.Config(
        app,
        log_config=None,  # ringq.logs already configured logging
        log_level=logging.DEBUG if verbose else logging.WARNING,
        access_log=verbose,
        server_header=False,
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0


def register(subparsers: Any) -> None:
    """Add `dashboard` to the `ringq` command line (ringq.cli.app PLUGINS)."""
    p = subparsers.add_parser(
        "dashboard",
        help="serve the web dashboard (queues, DLQ, jobs, doctor, model graph)",
        description="Serve ringq's web dashboard. Read-only unless started with a token.",
    )
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default: {DEFAULT_HOST})")
    p.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help=f"port to bind, 0 for any free one (default: {DEFAULT_PORT})",
    )
    p.add_argument(
        "--token",
        default=None,
        help=f"enable actions (retry, purge, cancel) for whoever logs in with this token "
        f"(default: ${ENV_TOKEN}, which keeps it out of `ps`; none: read-only)",
    )
    p.add_argument(
        "--database-url",
        default=argparse.SUPPRESS,
        help="PostgreSQL URL (default: $RINGQ_DATABASE_URL, else the embedded server in .ringq/pg)",
    )
    p.add_argument("--schema", default=argparse.SUPPRESS, help="ringq schema (default: ringq)")
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="debug logging and the access log",
    )
    p.set_defaults(func=run)
