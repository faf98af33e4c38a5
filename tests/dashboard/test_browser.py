"""The dashboard in a real headless browser (Debian's chromium driven by playwright): pages load
without console errors (a CSP violation is one), tables show the seeded jobs, a DLQ retry works
with the token and is refused without. Skips, saying why, when no browser can be had."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dashboard.browser import BrowserMissing, close, launch
from dashboard.conftest import TOKEN, Server
from dashboard.seed import Seeded
from ringq import Queue

Serve = Callable[[str | None], Server]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        pw, browser = launch()
    except BrowserMissing as exc:
        print(f"\ndashboard browser tests skipped: {exc}")
        pytest.skip(f"no headless browser: {exc}")
    yield browser
    close(pw, browser)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "requestfailed",
        # ERR_ABORTED: a request cut short by the next navigation (a favicon), not a failure
        lambda r: None if "ERR_ABORTED" in (r.failure or "") else problems.append(f"request failed: {r.url}"),
    )
    page.problems = problems
    yield page
    context.close()


def goto(page: Any, url: str, status: int = 200) -> None:
    response = page.goto(url)
    assert response is not None and response.status == status, f"{url}: {response and response.status}"


def test_pages_load(seeded: Seeded, serve: Serve, page: Any) -> None:
    server = serve(None)
    for path, heading in (
        ("", "Queues"),
        ("dlq", "Dead-letter queue"),
        (f"jobs?id={seeded.completed[0]}", "Job lookup"),
        ("doctor", "Doctor"),
        ("model", "Storage model"),
        ("login", "Log in"),
    ):
        goto(page, server.url + path)
        assert page.locator("h1").first.inner_text().startswith(heading)
        assert page.locator("link[rel=stylesheet]").count() == 1
        # the stylesheet applied: the top bar is dark
        assert (
            page.locator("header.top").evaluate("e => getComputedStyle(e).backgroundColor")
            == "rgb(31, 41, 51)"
        )
    assert page.problems == []


def test_tables_show_the_seeded_jobs(seeded: Seeded, serve: Serve, page: Any) -> None:
    server = serve(None)
    goto(page, server.url)
    queues = page.locator("#queues tbody tr")
    assert [queues.nth(i).get_attribute("data-queue") for i in range(queues.count())] == [
        "billing",
        "email",
        "images",
        "reports",
    ]
    images = page.locator('#queues tr[data-queue="images"] td')
    assert images.nth(3).inner_text() == "8"  # completed
    assert images.nth(5).inner_text() == "4"  # dlq
    # the DLQ link leads to that queue's dead letters
    images.nth(5).locator("a").click()
    page.wait_for_url("**/dlq?queue=images")
    rows = page.locator("#dlq tbody tr")
    assert sorted(int(rows.nth(i).get_attribute("data-job")) for i in range(rows.count())) == sorted(
        seeded.dlq
    )
    # a job's page from the DLQ table: attempts with the error
    page.locator(f'#dlq tr[data-job="{seeded.dlq[0]}"] a').click()
    page.wait_for_url(f"**/jobs?id={seeded.dlq[0]}")
    assert page.locator("#attempts tbody tr").count() == 1
    assert "dlq" in page.locator("#attempts").inner_text()
    # lookup form
    page.fill("input[name=id]", str(seeded.running[0]))
    page.click("button:text('look up')")
    page.wait_for_url(f"**/jobs?id={seeded.running[0]}")
    assert "rendering" in page.locator("#attempts").inner_text()  # heartbeat progress
    assert page.problems == []


def test_dlq_retry_with_the_token(seeded: Seeded, serve: Serve, page: Any, db_url: str, schema: str) -> None:
    server = serve(TOKEN)
    goto(page, server.url + "dlq")
    assert page.locator("#retry-selected").count() == 0  # not logged in yet
    page.click("text=Log in")
    page.fill("input[name=token]", TOKEN)
    page.click("#login")
    page.wait_for_url(server.url + "?notice=login")
    assert "actions enabled" in page.locator("header").inner_text()
    cookie = next(c for c in page.context.cookies() if c["name"] == "ringq_dashboard_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # invisible to scripts
    goto(page, server.url + "dlq")
    target = seeded.dlq[0]
    page.check(f'input[name=job_id][value="{target}"]')
    page.click("#retry-selected")
    page.wait_for_selector(".notice")
    assert page.locator(".notice").inner_text() == "re-enqueued 1 dead-lettered job(s)"
    assert page.locator(f'#dlq tr[data-job="{target}"]').count() == 0
    with Queue(db_url, schema=schema) as q:
        info = q.job(target)
        assert info is not None and info.state == "queued"
    # purge the rest, accepting the confirmation dialog
    page.once("dialog", lambda d: d.accept())
    page.click("#purge-all")
    page.wait_for_selector(".notice")
    assert page.locator(".notice").inner_text() == f"purged {len(seeded.dlq) - 1} dead-lettered job(s)"
    assert "is empty" in page.locator("main").inner_text()
    assert page.problems == []


def test_dlq_retry_refused_without_the_token(
    seeded: Seeded, serve: Serve, page: Any, db_url: str, schema: str
) -> None:
    for token in (None, TOKEN):  # read-only; and with a token but not logged in
        server = serve(token)
        goto(page, server.url + "dlq")
        assert page.locator("#dlq tbody tr").count() == len(seeded.dlq)
        assert page.locator("button:text('Retry')").count() == 0
        assert page.locator("input[name=job_id]").count() == 0
        # a forged post with the browser's cookies is refused (the page's CSP blocks fetch() itself)
        response = page.request.post(
            server.url + "dlq/retry", form={"scope": "selected", "job_id": str(seeded.dlq[0])}
        )
        assert response.status == 403
        # and so is a real form submission
        page.evaluate(
            """(id) => { const f = document.createElement('form'); f.method = 'post';
                 f.action = '/dlq/retry';
                 for (const [k, v] of [['scope', 'selected'], ['job_id', id]]) {
                   const i = document.createElement('input'); i.name = k; i.value = v; f.appendChild(i); }
                 document.body.appendChild(f); f.submit(); }""",
            str(seeded.dlq[0]),
        )
        page.wait_for_selector("#error")
        assert "403" in page.locator("h1").inner_text()
    with Queue(db_url, schema=schema) as q:
        assert sorted(e.job_id for e in q.dlq_list()) == sorted(seeded.dlq)
    assert json.dumps(page.problems).count("403") == len(page.problems)  # only the refusals


def test_select_all_and_a_declined_purge(
    seeded: Seeded, serve: Serve, page: Any, db_url: str, schema: str
) -> None:
    server = serve(TOKEN)
    goto(page, server.url + "login")
    page.fill("input[name=token]", TOKEN)
    page.click("#login")
    page.wait_for_url("**/?notice=login")
    goto(page, server.url + "dlq?queue=images")
    page.check("#select-all")  # the dashboard's script ticks every row
    assert page.locator("input[name=job_id]:checked").count() == len(seeded.dlq)
    page.once("dialog", lambda d: d.dismiss())  # "Delete ... for good?" -> no
    page.click("#purge-selected")
    page.wait_for_timeout(300)
    with Queue(db_url, schema=schema) as q:
        assert len(q.dlq_list()) == len(seeded.dlq)  # nothing purged
    page.click("#retry-queue")
    page.wait_for_selector(".notice")
    assert page.locator(".notice").inner_text() == f"re-enqueued {len(seeded.dlq)} dead-lettered job(s)"
    assert "queue=images" in page.url  # back on the page it was done from
    # log out: the buttons are gone
    page.click("button:text('log out')")
    page.wait_for_url("**/?notice=logout")
    goto(page, server.url + "dlq")
    assert page.locator("#retry-selected").count() == 0
    assert page.problems == []
