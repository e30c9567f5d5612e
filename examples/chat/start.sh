#!/usr/bin/env bash
# Starts the chat example against a running `./tether dev`: builds the TypeScript packages and
# the page (Vite, from npm, offline once installed), starts an agent, and serves the page with
# a proxy to the node.
#
#   ./tether dev                       # in one terminal (TETHER_HTTP_PORT, default 8080)
#   examples/chat/start.sh             # in another; open http://localhost:5173/?chat=chat-demo
#
#   AGENT=ts (default)   the AI SDK agent in agent/main.ts (scripted offline model)
#   AGENT=java           the Java agent (tether-client + LangChain4j): runs agent-java/run.sh
#   AGENT=none           no agent (bring your own)
#   TETHER_URL           the node (default http://localhost:$TETHER_HTTP_PORT)
#   PORT                 the page's port (default 5173)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORKSPACE="$HERE/../../clients/typescript"
export TETHER_URL="${TETHER_URL:-http://localhost:${TETHER_HTTP_PORT:-8080}}"
AGENT="${AGENT:-ts}"
PORT="${PORT:-5173}"

if ! curl -fsS "$TETHER_URL/ready" >/dev/null 2>&1; then
  echo "chat example: no Tether node answers at $TETHER_URL/ready; start one with ./tether dev" >&2
  exit 1
fi
if [[ ! -f "$WORKSPACE/node_modules/.package-lock.json" || "$WORKSPACE/package-lock.json" -nt "$WORKSPACE/node_modules/.package-lock.json" ]]; then
  (cd "$WORKSPACE" && npm ci --prefer-offline --no-audit --no-fund)
fi
(cd "$WORKSPACE" && npm run build)

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

case "$AGENT" in
  ts)
    (cd "$HERE" && exec node --import tsx agent/main.ts) &
    pids+=($!)
    ;;
  java)
    if [[ ! -x "$HERE/agent-java/run.sh" ]]; then
      echo "chat example: AGENT=java needs examples/chat/agent-java/run.sh (the Java agent)" >&2
      exit 1
    fi
    "$HERE/agent-java/run.sh" &
    pids+=($!)
    ;;
  none) ;;
  *)
    echo "chat example: AGENT is ts, java or none" >&2
    exit 2
    ;;
esac

echo "chat example: open http://localhost:$PORT/?chat=chat-demo (agent: $AGENT, node: $TETHER_URL)"
(cd "$HERE" && exec npx vite preview --port "$PORT" --strictPort) &
pids+=($!)
wait -n "${pids[@]}"
