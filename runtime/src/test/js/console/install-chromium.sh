#!/usr/bin/env bash
# Installs Debian's chromium for the console's browser tests when it is missing. The tests drive
# it with playwright-core (executablePath /usr/bin/chromium); Playwright's own browser download
# is never used. Needs root (CI and the dev machines run as root) or a chromium already there.
set -euo pipefail
if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
if [[ "$(id -u)" != "0" ]]; then
  echo "install-chromium: /usr/bin/chromium is missing; run as root: apt-get install -y chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium
/usr/bin/chromium --version
