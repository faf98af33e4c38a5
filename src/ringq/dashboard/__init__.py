"""`ringq dashboard`: a small web UI over ringq's public API (Starlette + Jinja2, served by uvicorn).

Pages: per-queue overview, dead-letter queue (retry, purge), job lookup (attempts, result,
progress, error, cancel), `ringq doctor` results, and the storage model's state graph.

Read-only unless started with a token (`--token` or `$RINGQ_DASHBOARD_TOKEN`); actions then need
a login (HttpOnly, SameSite=Strict session cookie) and a CSRF token on every form. Binds
127.0.0.1 by default. `create_app` (ringq.dashboard.app) builds the ASGI app; this package's
`__init__` imports nothing web-related so `ringq --help` works without the `dashboard` extra.
"""
