#!/usr/bin/env bash
# Runs the chat example's Java agent, building it first when its jar is missing or older than
# its sources or the client's. Arguments go to the agent (see README.md); so do TETHER_URL,
# TETHER_TOKEN, CHAT_PREFIX, AGENT_DEVICE and SCRIPTED_DELAY_MS.
#
#   examples/chat/agent-java/run.sh                       # every chat-* session of the node
#   examples/chat/agent-java/run.sh --session chat-demo   # one session
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
JAR="$HERE/target/chat-agent.jar"

if [[ ! -f "$JAR" || -n "$(find "$HERE/src" "$HERE/pom.xml" "$ROOT/clients/java/src/main" "$ROOT/clients/java/pom.xml" -newer "$JAR" -print -quit)" ]]; then
  echo "chat agent (java): building (mvn package -DskipTests) ..." >&2
  mvn -q -B -f "$ROOT/pom.xml" -pl examples/chat/agent-java -am package -DskipTests >&2
fi
exec java ${AGENT_JAVA_OPTS:--Xms32m -Xmx256m} -jar "$JAR" "$@"
