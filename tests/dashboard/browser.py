"""Headless Chromium for the dashboard's browser tests and screenshots: Debian's `chromium`
driven by playwright's Python package (no browser download). `launch()` raises BrowserMissing
with the reason when no browser can be had."""

from __future__ import annotations

import os
import shutil
from typing import Any

CHROMIUM = os.environ.get("RINGQ_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class BrowserMissing(Exception):
    pass


def launch() -> tuple[Any, Any]:
    """(playwright, browser); stop both with `close()`."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BrowserMissing(
            "the playwright package is not installed (pip install playwright; it is in the dev extra)"
        ) from exc
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        found = shutil.which("chromium")
        hint = f" (a chromium is at {found}; set RINGQ_CHROMIUM)" if found else ""
        raise BrowserMissing(f"no browser at {CHROMIUM}{hint}: run scripts/setup-browser.sh as root")
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    except Exception as exc:
        pw.stop()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BrowserMissing(f"{CHROMIUM} did not start: {first}") from exc
    return pw, browser


def close(pw: Any, browser: Any) -> None:
    try:
        browser.close()
    finally:
        pw.stop()
