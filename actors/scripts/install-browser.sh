#!/usr/bin/env bash
# Installs the harness's browser when it is missing: Debian's chromium (with apt-get, as root)
# and Playwright MCP (@playwright/mcp, pinned in actors/browser/package-lock.json, with npm ci)
# into actors/browser/node_modules. A node runs it in each run's sandbox when a run's policy
# attaches the "browser" MCP server; tether.harness.mcp.browser.dir (TETHER_BROWSER_DIR) names
# actors/browser. Playwright's own browser download is never used. The build runs this before
# the actors module's tests; ./tether dev runs it before starting a node.
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../browser" && pwd)"
if [[ ! -x /usr/bin/chromium ]]; then
  if [[ "$(id -u)" != "0" ]]; then
    echo "install-browser: /usr/bin/chromium is missing; run as root: apt-get install -y chromium" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium fonts-liberation
  /usr/bin/chromium --version
fi
if [[ ! -f "$DIR/node_modules/@playwright/mcp/cli.js" || "$DIR/package-lock.json" -nt "$DIR/node_modules/.package-lock.json" ]]; then
  (cd "$DIR" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
fi
# The sandbox user reads the installation through a read-only mount: it must be readable.
chmod -R a+rX "$DIR/node_modules" "$DIR/playwright-mcp.json"
