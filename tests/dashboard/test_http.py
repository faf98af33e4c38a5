"""HTTP-level tests of the dashboard (Starlette's TestClient) against a real PostgreSQL."""

from __future__ import annotations

import re

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from dashboard.conftest import TOKEN, MakeClient
from dashboard.seed import Seeded
from ringq import Queue
from ringq.dashboard import graph
from ringq.dashboard.app import public_database
from ringq.dashboard.security import SESSION_COOKIE

PAGES = ["/", "/dlq", "/jobs", "/doctor", "/model", "/login"]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def login(client: object, token: str = TOKEN) -> str:
    """Log in through the form; returns the CSRF token of the new session."""
    page = client.get("/login")  # type: ignore[attr-defined]
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert nonce
    response = client.post("/login", data={"nonce": nonce.group(1), "token": token})  # type: ignore[attr-defined]
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/dlq").text)  # type: ignore[attr-defined]


def dlq_ids(db_url: str, schema: str) -> list[int]:
    with Queue(db_url, schema=schema) as q:
        return [e.job_id for e in q.dlq_list()]


def test_overview_shows_every_queue_and_its_numbers(seeded: Seeded, make_client: MakeClient) -> None:
    client = make_client()
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    for queue in ("billing", "email", "images", "reports"):
        assert f'<tr data-queue="{queue}">' in html
    # images: 8 completed, 4 dead-lettered (linked to its DLQ page); reports: 3 queued minutes old
    row = html.split('<tr data-queue="images">')[1].split("</tr>")[0]
    cells = re.findall(r'<td class="n">(.*?)</td>', row, re.S)
    assert cells[:6] == ["0", "0", "0", "8", "0", '<a class="bad" href="/dlq?queue=images">4</a>']
    reports = html.split('<tr data-queue="reports">')[1].split("</tr>")[0]
    assert "min ago" in reports  # oldest queued job age
    email = html.split('<tr data-queue="email">')[1].split("</tr>")[0]
    assert re.search(r"\d+(\.\d)? s / \d+(\.\d)? s", email)  # pickup p50 / p95


def test_empty_schema_says_so(db_url: str, schema: str, make_client: MakeClient) -> None:
    from ringq import install

    with psycopg.connect(db_url, autocommit=True) as conn:
        install(conn, schema)
    html = make_client().get("/").text
    assert "No queues yet" in html


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_with_security_headers_and_no_outside_links(
    seeded: Seeded, make_client: MakeClient, path: str
) -> None:
    response = make_client().get(path)
    assert response.status_code == 200, response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    for url in re.findall(r'(?:href|src|action)="([^"]*)"', response.text):
        assert url.startswith("/"), f"{path}: {url} leaves the dashboard"


def test_static_assets_are_served(make_client: MakeClient, seeded: Seeded) -> None:
    client = make_client()
    for asset in ("/static/dashboard.css", "/static/dashboard.js", "/static/favicon.svg"):
        assert client.get(asset).status_code == 200


def test_read_only_without_token_hides_buttons_and_refuses_actions(
    seeded: Seeded, make_client: MakeClient, db_url: str, schema: str
) -> None:
    client = make_client(token=None)
    html = client.get("/dlq").text
    assert "Retry selected" not in html and "Purge" not in html and 'name="csrf"' not in html
    assert "read-only" in html
    assert "Cancel job" not in client.get(f"/jobs?id={seeded.running[0]}").text
    before = dlq_ids(db_url, schema)
    for path, data in (
        ("/dlq/retry", {"scope": "all"}),
        ("/dlq/purge", {"scope": "all"}),
        (f"/jobs/{seeded.running[0]}/cancel", {}),
        ("/login", {"token": "anything", "nonce": "x"}),
        ("/logout", {}),
    ):
        response = client.post(path, data=data)
        assert response.status_code == 403, path
        assert "read-only" in response.text
    assert dlq_ids(db_url, schema) == before


def test_token_actions_need_login_and_csrf(
    seeded: Seeded, make_client: MakeClient, db_url: str, schema: str
) -> None:
    client = make_client(token=TOKEN)
    html = client.get("/dlq").text
    assert "Retry selected" not in html and "Log in" in html
    target = seeded.dlq[0]
    # not logged in
    assert client.post("/dlq/retry", data={"scope": "selected", "job_id": str(target)}).status_code == 403
    # wrong token
    page = client.get("/login")
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert nonce
    wrong = client.post("/login", data={"nonce": nonce.group(1), "token": "wrong"})
    assert wrong.status_code == 403 and "Wrong token" in wrong.text
    assert SESSION_COOKIE not in client.cookies
    # right token: an HttpOnly, SameSite=Strict session cookie
    page = client.get("/login")
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert nonce
    ok = client.post("/login", data={"nonce": nonce.group(1), "token": TOKEN})
    assert ok.status_code == 303
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    html = client.get("/dlq").text
    assert "Retry selected" in html
    csrf = csrf_of(html)
    # logged in, but no / a wrong CSRF token
    for bad in ({}, {"csrf": "0" * 64}):
        response = client.post("/dlq/retry", data={"scope": "selected", "job_id": str(target), **bad})
        assert response.status_code == 403 and "CSRF" in response.text
    # a cross-origin post is refused even with the cookie and token
    response = client.post(
        "/dlq/retry",
        data={"scope": "selected", "job_id": str(target), "csrf": csrf},
        headers={"origin": "http://evil.example"},
    )
    assert response.status_code == 403
    assert target in dlq_ids(db_url, schema)
    # all right
    response = client.post("/dlq/retry", data={"scope": "selected", "job_id": str(target), "csrf": csrf})
    assert response.status_code == 303
    assert "re-enqueued 1 dead-lettered job(s)" in client.get(response.headers["location"]).text
    assert target not in dlq_ids(db_url, schema)
    with Queue(db_url, schema=schema) as q:
        info = q.job(target)
    assert info is not None and info.state == "queued"


def test_login_needs_its_form_nonce(seeded: Seeded, make_client: MakeClient) -> None:
    client = make_client(token=TOKEN)
    response = client.post("/login", data={"token": TOKEN, "nonce": "forged"})
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_purge_a_queue_and_logout(seeded: Seeded, make_client: MakeClient, db_url: str, schema: str) -> None:
    client = make_client(token=TOKEN)
    csrf = login(client)
    response = client.post("/dlq/purge", data={"scope": "queue", "queue": "images", "csrf": csrf})
    assert response.status_code == 303
    assert "purged 4 dead-lettered job(s)" in client.get(response.headers["location"]).text
    assert dlq_ids(db_url, schema) == []
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    assert client.post("/dlq/retry", data={"scope": "all", "csrf": csrf}).status_code == 403


def test_dlq_action_input_is_checked(seeded: Seeded, make_client: MakeClient) -> None:
    client = make_client(token=TOKEN)
    csrf = login(client)
    assert client.post("/dlq/retry", data={"scope": "selected", "csrf": csrf}).status_code == 400
    assert client.post("/dlq/retry", data={"scope": "?", "csrf": csrf}).status_code == 400
    bad_id = client.post("/dlq/retry", data={"scope": "selected", "job_id": "1; DROP", "csrf": csrf})
    assert bad_id.status_code == 400
    bad_queue = client.post("/dlq/retry", data={"scope": "queue", "queue": "no such queue!", "csrf": csrf})
    assert bad_queue.status_code == 400
    assert client.post("/dlq/explode", data={"csrf": csrf}).status_code == 404


def test_dlq_page_filters_by_queue(seeded: Seeded, make_client: MakeClient) -> None:
    client = make_client()
    html = client.get("/dlq?queue=images").text
    assert sorted(int(j) for j in re.findall(r'<tr data-job="(\d+)">', html)) == sorted(seeded.dlq)
    assert "is empty" in client.get("/dlq?queue=email").text
    assert client.get("/dlq?queue=bad name!").status_code == 400


def test_job_lookup_shows_attempts_result_progress_and_error(seeded: Seeded, make_client: MakeClient) -> None:
    client = make_client()
    done = client.get(f"/jobs?id={seeded.completed[0]}").text
    assert "state-completed" in done and "message_id" in done and "worker-a:1234" in done
    running = client.get(f"/jobs?id={seeded.running[0]}").text
    assert "rendering" in running and "state-running" in running  # the heartbeat's progress
    dead = client.get(f"/jobs?id={seeded.dlq[0]}").text
    assert "state-dlq" in dead and "Traceback" in dead
    retried = client.get(f"/jobs?id={seeded.retried[0]}").text
    assert "SMTPServerDisconnected" in retried and "state-retried" in retried
    flaky = client.get(f"/jobs?id={seeded.flaky}").text
    attempts = flaky.split('id="attempts"')[1]
    assert attempts.count("<tr>") == 3  # header + two attempts
    assert "state-retried" in attempts and "state-completed" in attempts and "captured" in attempts
    assert "ch_3Nf0a2" in flaky and "ConnectionResetError" in flaky
    assert client.get("/jobs?id=999999").status_code == 404
    assert client.get("/jobs?id=abc").status_code == 400
    assert "&lt;script&gt;" in client.get("/jobs?id=<script>").text  # escaped, never markup


def test_cancel_from_the_job_page(seeded: Seeded, make_client: MakeClient, db_url: str, schema: str) -> None:
    client = make_client(token=TOKEN)
    csrf = login(client)
    job = seeded.queued[0]
    assert "Cancel job" in client.get(f"/jobs?id={job}").text
    response = client.post(f"/jobs/{job}/cancel", data={"csrf": csrf})
    assert response.status_code == 303
    assert "job cancelled (it was queued)" in client.get(response.headers["location"]).text
    again = client.post(f"/jobs/{job}/cancel", data={"csrf": csrf})
    assert again.status_code == 409
    assert client.post("/jobs/999999/cancel", data={"csrf": csrf}).status_code == 404


def test_doctor_page_runs_the_checks(seeded: Seeded, make_client: MakeClient) -> None:
    html = make_client().get("/doctor").text
    assert "All invariants hold" in html
    for invariant in ("NoLostJob", "FencedFinalize", "CountersMatch"):
        assert invariant in html


def test_doctor_page_shows_a_violation(
    seeded: Seeded, make_client: MakeClient, db_url: str, schema: str
) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:  # break CountersMatch on purpose
        conn.execute(f'UPDATE "{schema}".lanes SET next_seq = next_seq + 5')
    html = make_client().get("/doctor").text
    assert "Violated:" in html and "CountersMatch" in html and "VIOLATED" in html


def test_model_page_draws_the_state_graph(seeded: Seeded, make_client: MakeClient) -> None:
    pytest.importorskip("ringq_proof.model.graph", reason="the toolkit extra is not installed")
    pytest.importorskip("matplotlib", reason="the plot extra is not installed")
    client = make_client()
    html = client.get("/model").text
    assert 'id="model-graph"' in html
    svg = client.get(f"/model/graph.svg?config={graph.DEFAULT_CONFIG}")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in svg.content
    too_big = client.get("/model?config=SegmentedStorage_base").text
    assert "more than 400 states" in too_big
    assert "unknown model config" in client.get("/model?config=nope").text


def test_model_page_without_the_toolkit_says_what_to_install(
    seeded: Seeded, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    for name in ("ringq_proof.model.graph", "ringq_proof.model.config", "ringq_proof.checkout"):
        monkeypatch.setitem(sys.modules, name, None)  # import now raises ImportError
    monkeypatch.setattr(graph, "_cache", {})
    html = make_client().get("/model").text
    assert "install the toolkit extra" in html and "pip install" in html


def test_no_password_in_any_page(db_url: str, schema: str, seeded: Seeded, make_client: MakeClient) -> None:
    info = conninfo_to_dict(db_url)
    secret = str(info.get("password") or "pw-that-must-not-show")
    url = make_conninfo(db_url, password=secret)
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError:
        pytest.skip("this server checks passwords: cannot add a dummy one")
    client = make_client(url=url)
    for path in PAGES:
        assert secret not in client.get(path).text
    assert secret not in public_database(url)
    assert "postgresql" not in public_database(url)


def test_unreachable_database_is_a_page_not_a_traceback(schema: str, make_client: MakeClient) -> None:
    client = make_client(
        url="postgresql://postgres:hunter2@127.0.0.1:1/nowhere?connect_timeout=1", pool_timeout=1.0
    )
    response = client.get("/")
    assert response.status_code == 503
    assert "database unavailable" in response.text and "hunter2" not in response.text
    assert "Traceback" not in response.text


def test_foreign_host_header_is_refused(seeded: Seeded, make_client: MakeClient) -> None:
    response = make_client().get("/", headers={"host": "attacker.example"})
    assert response.status_code == 400
