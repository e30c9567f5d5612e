#!/usr/bin/env bash
# The TypeScript clients' part of `./tether test` (run by clients/typescript/pom.xml in the
# integration-test phase, after runtime/target/tether.jar is built): installs what the suites
# need from the project's own files, builds both packages and the example, and runs every
# vitest suite against one `tether dev` node (test/global-setup.ts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(cd ../.. && pwd)"
bash "$ROOT/runtime/src/test/js/console/install-chromium.sh"
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --prefer-offline --no-audit --no-fund
fi
npm run build
npx vitest run
