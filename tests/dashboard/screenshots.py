"""Screenshots of every dashboard page with seeded data, for docs/dashboard.md.

    .venv/bin/python tests/dashboard/screenshots.py [OUT_DIR]     # default docs/img

Seeds schema `ringq` of a fresh embedded PostgreSQL (or of $RINGQ_DATABASE_URL: use a scratch
database), starts `ringq dashboard` with a token, logs in, and writes dashboard-<page>.png.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from dashboard.browser import close, launch  # noqa: E402
from dashboard.conftest import TOKEN, start_server, stop_server  # noqa: E402
from dashboard.seed import seed  # noqa: E402
from ringq.embedded import database_url  # noqa: E402


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    url = database_url()
    schema = f"shots_{uuid.uuid4().hex[:6]}" if "RINGQ_DATABASE_URL" in __import__("os").environ else "ringq"
    seeded = seed(url, schema)
    server = start_server(url, schema, TOKEN)
    pw, browser = launch()
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(server.url + "login")
        page.screenshot(path=str(out / "dashboard-login.png"))
        page.fill("input[name=token]", TOKEN)
        page.click("#login")
        page.wait_for_url("**/?notice=login")
        shots = {
            "overview": "",
            "dlq": "dlq",
            "job": f"jobs?id={seeded.flaky}",
            "doctor": "doctor",
            "model": "model",
        }
        for name, path in shots.items():
            page.goto(server.url + path)
            page.wait_for_load_state("networkidle")
            if name == "dlq":  # show one traceback
                page.locator("#dlq details").first.evaluate("d => d.open = true")
            target = out / f"dashboard-{name}.png"
            page.screenshot(path=str(target), full_page=True)
            print(f"wrote {target}")
    finally:
        close(pw, browser)
        stop_server(server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/img")))
