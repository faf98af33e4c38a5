#!/usr/bin/env bash
# Make a headless browser available for the dashboard's browser tests (tests/dashboard).
#
# The tests drive Debian's `chromium` through playwright's Python package with
# executable_path=/usr/bin/chromium: no browser download. This script installs that package
# when it is missing and we are root with apt-get; otherwise it says why it can't and exits 0
# (the browser tests then skip with a printed reason). Set RINGQ_SKIP_BROWSER_SETUP=1 to skip.
set -uo pipefail

CHROMIUM=${RINGQ_CHROMIUM:-/usr/bin/chromium}

say() { echo "setup-browser: $*"; }

if [ "${RINGQ_SKIP_BROWSER_SETUP:-}" = "1" ]; then
  say "skipped (RINGQ_SKIP_BROWSER_SETUP=1)"
  exit 0
fi
if [ -x "$CHROMIUM" ]; then
  say "found $CHROMIUM ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  say "$CHROMIUM is missing and this is not root: run 'sudo apt-get install -y chromium'; the browser tests will skip"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  say "$CHROMIUM is missing and there is no apt-get here; install chromium yourself; the browser tests will skip"
  exit 0
fi
say "installing chromium with apt-get (takes a minute or two)"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq; then
  say "apt-get update failed; the browser tests will skip"
  exit 0
fi
if ! apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; then
  say "apt-get install chromium failed; the browser tests will skip"
  exit 0
fi
if [ -x "$CHROMIUM" ]; then
  say "installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
else
  say "chromium installed but $CHROMIUM is still missing; the browser tests will skip"
fi
exit 0
