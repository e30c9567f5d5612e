#!/usr/bin/env bash
# Runs Tether's benchmark scenario set against the Durable Streams reference server (the peer)
# and against Tether (./tether dev), one after the other on this machine, and writes
# results.json, results.md and PNG plots into benchmarks/results/.
#
#   benchmarks/run.sh                         full set, both targets (tens of minutes)
#   benchmarks/run.sh --quick                 scaled-down set (about 1-2 minutes of load per target)
#   benchmarks/run.sh --targets peer          only the peer
#   benchmarks/run.sh --target tether=http://127.0.0.1:8200 --pid tether=12345
#                                             an already running server (pid for memory figures)
#   benchmarks/run.sh --scenarios catch-up,fan-out --live long-poll
#
# See benchmarks/README.md for the scenarios and their parameters.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

LOAD="$HERE/load"
echo "bench: building the load generator (benchmarks/load) ..." >&2
mvn -B -q ${MVN_ARGS:-} -f "$LOAD/pom.xml" package -DskipTests

# The connections scenario holds 10,000 sockets in this JVM and in the server it starts.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

exec java ${BENCH_JAVA_OPTS:--Xms512m -Xmx2g} \
  -cp "$LOAD/target/classes:$LOAD/target/lib/*" \
  io.tether.benchmarks.load.BenchmarkMain --repo "$ROOT" "$@"
