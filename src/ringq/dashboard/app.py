"""The dashboard's ASGI app: routes, the pages' data, and the action endpoints.

Everything goes through ringq's public API (`ringq.Queue`, `ringq.doctor.diagnose`) except the
timings and attempt history that API lacks, which `readonly_sql` reads. Database calls are
blocking psycopg calls, run in Starlette's thread pool.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ringq.admin import JobAlreadyTerminal
from ringq.client import Queue
from ringq.clock import Clock, SystemClock
from ringq.dashboard import graph, readonly_sql
from ringq.dashboard.security import LOGIN_COOKIE, SESSION_COOKIE, Auth, new_login_nonce, nonce_ok
from ringq.errors import InvalidInput, JobNotFound, RingqError

HERE = Path(__file__).parent
RATE_WINDOW_S = 300.0  # rates and pickup latency are over the last 5 minutes
DLQ_PAGE_LIMIT = 500
POOL_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The only messages a redirect may ask a page to show (no free text from the query string).
NOTICES = {
    "retried": "re-enqueued {n} dead-lettered job(s)",
    "purged": "purged {n} dead-lettered job(s)",
    "cancelled_queued": "job cancelled (it was queued)",
    "cancelled_deferred": "job cancelled (it was deferred)",
    "cancelled_running": "job cancelled (it was running: its worker loses the lease)",
    "login": "logged in: actions are enabled",
    "logout": "logged out",
}


@dataclass
class Settings:
    database_url: str
    schema: str = "ringq"
    token: str | None = None
    # Host headers accepted (DNS-rebinding guard); "*" accepts any.
    allowed_hosts: Sequence[str] = ("127.0.0.1", "localhost", "[::1]", "::1")
    clock: Clock = field(default_factory=SystemClock)
    rate_window: float = RATE_WINDOW_S
    pool_timeout: float = POOL_TIMEOUT_S  # how long a page waits for a connection before its 503


def public_database(url: str) -> str:
    """user@host:port/dbname, never the password (nor any other conninfo option)."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(unparsable database URL)"
    host = str(info.get("host") or "localhost")
    if host.startswith("/"):
        host = f"socket {host}"
    user = str(info.get("user") or "")
    port = str(info.get("port") or "")
    db = str(info.get("dbname") or "")
    return f"{user + '@' if user else ''}{host}{':' + port if port else ''}/{db}"


def _scrub(text: str, url: str) -> str:
    """An error message with the URL's password (if any) blanked out."""
    try:
        password = conninfo_to_dict(url).get("password")
    except psycopg.ProgrammingError:
        password = None
    if password:
        text = text.replace(str(password), "********")
    return text


class SecurityHeaders:
    """Pure ASGI middleware: CSP and friends on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cache-control", b"no-store"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Dashboard:
    """State shared by the routes: settings, auth, templates, and a lazily opened pool."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.auth = Auth(settings.token)
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.filters["ago"] = self._ago
        self.templates.env.filters["seconds"] = _seconds
        self.templates.env.filters["pretty"] = _pretty
        self.database = public_database(settings.database_url)
        self._pool: ConnectionPool | None = None
        self._queue: Queue | None = None

    # -- database ---------------------------------------------------------------------------

    def pool(self) -> ConnectionPool:
        if self._pool is None:
            self._pool = ConnectionPool(
                self.settings.database_url,
                min_size=1,
                max_size=4,
                open=True,
                timeout=self.settings.pool_timeout,
                kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
                name="ringq-dashboard",
            )
        return self._pool

    def queue(self) -> Queue:
        if self._queue is None:
            self._queue = Queue(self.pool(), schema=self.settings.schema, clock=self.settings.clock)
        return self._queue

    def read(self, fn: Callable[[psycopg.Connection], Any]) -> Any:
        with self.pool().connection() as conn:
            return fn(conn)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
            self._queue = None

    # -- rendering --------------------------------------------------------------------------

    def _ago(self, when: datetime | None) -> str:
        if when is None:
            return "—"
        delta = (self.settings.clock.now() - when).total_seconds()
        return _seconds(delta) + " ago" if delta >= 0 else "in " + _seconds(-delta)

    def page(self, request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
        session = request.cookies.get(SESSION_COOKIE)
        logged_in = self.auth.valid_session(session)
        notice = request.query_params.get("notice")
        n = request.query_params.get("n", "")
        context.update(
            database=self.database,
            schema=self.settings.schema,
            actions_enabled=self.auth.actions_enabled,
            logged_in=logged_in,
            can_act=logged_in,
            csrf=self.auth.csrf_for(session) if logged_in and session else "",
            notice=NOTICES[notice].format(n=n if n.isdigit() else "?") if notice in NOTICES else None,
            nav=template.removesuffix(".html"),
        )
        return self.templates.TemplateResponse(request, template, context, status_code=status_code)

    def error_page(self, request: Request, status: int, message: str) -> Response:
        message = _scrub(message, self.settings.database_url)
        return self.page(request, "error.html", status_code=status, status=status, message=message)

    # -- the gate in front of every action --------------------------------------------------

    async def action_form(self, request: Request) -> FormData:
        """The POSTed form of an action, or HTTPException(403) when actions are not allowed."""
        if not self.auth.actions_enabled:
            raise HTTPException(403, "read-only dashboard: start it with --token to enable actions")
        self._check_origin(request)
        session = request.cookies.get(SESSION_COOKIE)
        if not self.auth.valid_session(session):
            raise HTTPException(403, "log in with the dashboard token first")
        form = await request.form()
        csrf = form.get("csrf")
        if not self.auth.csrf_ok(session, csrf if isinstance(csrf, str) else None):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
        return form

    @staticmethod
    def _check_origin(request: Request) -> None:
        origin = request.headers.get("origin")
        if origin and origin != "null":
            host = request.headers.get("host", "")
            if origin.split("://", 1)[-1] != host:
                raise HTTPException(403, "cross-origin form post refused")


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    v = abs(value)
    if v < 1:
        return f"{value * 1000:.0f} ms"
    if v < 90:
        return f"{value:.1f} s"
    if v < 7200:
        return f"{value / 60:.1f} min"
    if v < 172800:
        return f"{value / 3600:.1f} h"
    return f"{value / 86400:.1f} d"


def _pretty(value: Any) -> str:
    if value is None:
        return "—"
    return json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _ids(values: list[Any]) -> list[int]:
    ids = []
    for v in values:
        if not isinstance(v, str) or not v.isdigit() or len(v) > 19:
            raise HTTPException(400, f"not a job id: {str(v)[:40]!r}")
        ids.append(int(v))
    return ids


def _dlq_back(queue: str | None, notice: str, n: int) -> RedirectResponse:
    from urllib.parse import urlencode

    params = {"notice": notice, "n": str(n)}
    if queue:
        params["queue"] = queue
    return RedirectResponse("/dlq?" + urlencode(params), status_code=303)


def create_app(settings: Settings) -> Starlette:
    dash = Dashboard(settings)

    async def overview(request: Request) -> Response:
        now = settings.clock.now()
        stats = await run_in_threadpool(dash.queue().stats)
        timings = await run_in_threadpool(
            dash.read, lambda c: readonly_sql.queue_timings(c, settings.schema, now, settings.rate_window)
        )
        per_min = 60.0 / settings.rate_window
        rows = []
        for s in stats:
            t = timings.get(s.queue)
            rows.append({"stats": s, "t": t, "per_min": per_min})
        totals = {
            k: sum(getattr(s, k) for s in stats)
            for k in ("queued", "deferred", "running", "completed", "cancelled", "dlq")
        }
        return dash.page(
            request,
            "overview.html",
            rows=rows,
            totals=totals,
            window_min=settings.rate_window / 60,
            now=now,
        )

    async def dlq(request: Request) -> Response:
        queue_name = request.query_params.get("queue") or None
        try:
            entries = await run_in_threadpool(dash.queue().dlq_list, queue_name, DLQ_PAGE_LIMIT)
        except InvalidInput as exc:
            return dash.error_page(request, 400, str(exc))
        stats = await run_in_threadpool(dash.queue().stats)
        return dash.page(
            request,
            "dlq.html",
            entries=entries,
            queue=queue_name,
            queues=[s.queue for s in stats if s.dlq],
            limit=DLQ_PAGE_LIMIT,
        )

    async def dlq_action(request: Request) -> Response:
        action = request.path_params["action"]
        if action not in ("retry", "purge"):
            raise HTTPException(404, "no such action")
        form = await dash.action_form(request)
        scope = form.get("scope")
        queue_name = form.get("queue") or None
        if queue_name is not None and not isinstance(queue_name, str):
            raise HTTPException(400, "bad queue")
        ids: list[int] | None
        if scope == "selected":
            ids = _ids(form.getlist("job_id"))
            if not ids:
                raise HTTPException(400, "select at least one job")
            queue_name = None
        elif scope == "queue" and queue_name:
            ids = None
        elif scope == "all":
            ids, queue_name = None, None
        else:
            raise HTTPException(400, "say which jobs: selected, a queue, or all")
        call = dash.queue().dlq_retry if action == "retry" else dash.queue().dlq_purge
        try:
            n = await run_in_threadpool(lambda: call(ids, queue=queue_name))
        except InvalidInput as exc:
            raise HTTPException(400, str(exc)) from exc
        back = form.get("back_queue")
        return _dlq_back(
            back if isinstance(back, str) else None, "retried" if action == "retry" else "purged", n
        )

    async def jobs(request: Request) -> Response:
        raw = request.query_params.get("id", "").strip()
        if not raw:
            return dash.page(request, "job.html", job=None, job_id=None, history=None)
        if not raw.isdigit() or len(raw) > 19 or int(raw) < 1:
            return dash.page(
                request,
                "job.html",
                status_code=400,
                job=None,
                job_id=raw,
                history=None,
                lookup_error=f"not a job id: {raw[:40]!r}",
            )
        job_id = int(raw)
        info = await run_in_threadpool(dash.queue().job, job_id)
        history = await run_in_threadpool(
            dash.read, lambda c: readonly_sql.job_history(c, settings.schema, job_id)
        )
        if info is None:
            return dash.page(
                request,
                "job.html",
                status_code=404,
                job=None,
                job_id=job_id,
                history=None,
                lookup_error=f"no job {job_id}: unknown, or its history was pruned",
            )
        return dash.page(request, "job.html", job=info, job_id=job_id, history=history)

    async def job_cancel(request: Request) -> Response:
        await dash.action_form(request)
        job_id = _ids([request.path_params["job_id"]])[0]
        try:
            outcome = await run_in_threadpool(dash.queue().cancel, job_id)
        except JobAlreadyTerminal as exc:
            raise HTTPException(409, f"job {job_id} already finished ({exc.outcome or 'terminal'})") from exc
        except JobNotFound as exc:
            raise HTTPException(404, f"no job {job_id}") from exc
        notice = f"&notice={outcome}" if outcome in NOTICES else ""
        return RedirectResponse(f"/jobs?id={job_id}{notice}", status_code=303)

    async def doctor(request: Request) -> Response:
        from ringq.doctor import DoctorError, diagnose
        from ringq.invariants import DB_CHECKABLE, LOG_CHECKABLE

        try:
            report = await run_in_threadpool(diagnose, settings.database_url, settings.schema)
        except DoctorError as exc:
            return dash.error_page(request, 503, f"the doctor could not run: {exc}")
        by_inv: dict[str, list[Any]] = {}
        for r in report.results:
            by_inv.setdefault(r.check.invariant, []).append(r)
        return dash.page(
            request,
            "doctor.html",
            report=report,
            by_inv=by_inv,
            described=DB_CHECKABLE,
            log_only={k: v for k, v in LOG_CHECKABLE.items() if k not in DB_CHECKABLE},
            row_limit=10,
        )

    async def model(request: Request) -> Response:
        config = request.query_params.get("config") or graph.DEFAULT_CONFIG
        configs: list[str] = []
        problem = None
        try:
            configs = await run_in_threadpool(graph.available_configs)
            await run_in_threadpool(graph.render_svg, config)
        except graph.GraphUnavailable as exc:
            problem = str(exc)
        return dash.page(request, "model.html", config=config, configs=configs, problem=problem)

    async def model_svg(request: Request) -> Response:
        config = request.query_params.get("config") or graph.DEFAULT_CONFIG
        try:
            svg = await run_in_threadpool(graph.render_svg, config)
        except graph.GraphUnavailable as exc:
            return Response(str(exc), status_code=404, media_type="text/plain")
        return Response(svg, media_type="image/svg+xml")

    async def login(request: Request) -> Response:
        if request.method == "GET":
            nonce = new_login_nonce()
            response = dash.page(request, "login.html", nonce=nonce, failed=False)
            response.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="strict", path="/login")
            return response
        if not dash.auth.actions_enabled:
            raise HTTPException(403, "read-only dashboard: start it with --token to enable actions")
        Dashboard._check_origin(request)
        form = await request.form()
        given = form.get("nonce")
        if not nonce_ok(request.cookies.get(LOGIN_COOKIE), given if isinstance(given, str) else None):
            raise HTTPException(403, "the login form expired: reload it and try again")
        token = form.get("token")
        if not isinstance(token, str) or not dash.auth.token_matches(token):
            fresh = new_login_nonce()
            response = dash.page(request, "login.html", status_code=403, nonce=fresh, failed=True)
            response.set_cookie(LOGIN_COOKIE, fresh, httponly=True, samesite="strict", path="/login")
            return response
        dash.auth.close_session(request.cookies.get(SESSION_COOKIE))
        session = dash.auth.open_session()
        response = RedirectResponse("/?notice=login", status_code=303)
        response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="strict", path="/")
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    async def logout(request: Request) -> Response:
        await dash.action_form(request)
        dash.auth.close_session(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/?notice=logout", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return dash.error_page(request, exc.status_code, str(exc.detail))

    async def ringq_error(request: Request, exc: Exception) -> Response:
        return dash.error_page(request, 503, f"{type(exc).__name__}: {_first_line(exc)}")

    async def database_error(request: Request, exc: Exception) -> Response:
        return dash.error_page(request, 503, f"database unavailable: {_first_line(exc)}")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await run_in_threadpool(dash.close)

    from psycopg_pool import PoolTimeout

    hosts = list(settings.allowed_hosts)
    app = Starlette(
        routes=[
            Route("/", overview),
            Route("/dlq", dlq),
            Route("/dlq/{action:str}", dlq_action, methods=["POST"]),
            Route("/jobs", jobs),
            Route("/jobs/{job_id:str}/cancel", job_cancel, methods=["POST"]),
            Route("/doctor", doctor),
            Route("/model", model),
            Route("/model/graph.svg", model_svg),
            Route("/login", login, methods=["GET", "POST"]),
            Route("/logout", logout, methods=["POST"]),
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(TrustedHostMiddleware, allowed_hosts=hosts if "*" not in hosts else ["*"]),
        ],
        exception_handlers={
            HTTPException: http_error,
            RingqError: ringq_error,
            psycopg.Error: database_error,
            PoolTimeout: database_error,
        },
        lifespan=lifespan,
    )
    app.state.dashboard = dash
    return app
