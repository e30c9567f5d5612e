#!/usr/bin/env bash
# A three-node Tether cluster on this machine, with one local Cassandra, all on loopback.
#
#   cluster-config/scripts/local-cluster.sh start    # Cassandra, migrate, nodes local1..3
#   cluster-config/scripts/local-cluster.sh status   # which processes are up, /ready of each node
#   cluster-config/scripts/local-cluster.sh stop     # nodes leave one by one, then Cassandra drains
#
# Nodes answer HTTP on 8081, 8082, 8083 (local1..3.conf); CQL on $TETHER_CLUSTER_CQL_PORT (9142).
# State and logs live in $TETHER_HOME/cluster (default .tether/cluster, git-ignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${TETHER_HOME:-$ROOT/.tether}/cluster"
JAR="$ROOT/runtime/target/tether.jar"
LIB="$ROOT/persistence/cassandra-server/target/lib"
CQL_PORT="${TETHER_CLUSTER_CQL_PORT:-9142}"
STORAGE_PORT="${TETHER_CLUSTER_STORAGE_PORT:-17142}"
NODE_OPTS="${TETHER_NODE_OPTS:--Xms128m -Xmx512m}"
export TETHER_CASSANDRA_CONTACT_POINTS="127.0.0.1:$CQL_PORT"

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() { # wait_for <seconds> <description> <command...>
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@"; do
    if (( SECONDS > deadline )); then echo "local-cluster: $what did not happen in time" >&2; return 1; fi
    sleep 0.5
  done
}

ready() { curl -sf -o /dev/null "http://127.0.0.1:$1/ready"; }

# Authentication is on in a cluster: one token secret and one operator secret for all three
# nodes, made once per state folder (or taken from the environment).
auth_secrets() {
  if [[ ! -f "$STATE/auth.env" ]]; then
    umask 077
    {
      echo "TETHER_AUTH_TOKEN_SECRET=${TETHER_AUTH_TOKEN_SECRET:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
      echo "TETHER_AUTH_ADMIN_SECRET=${TETHER_AUTH_ADMIN_SECRET:-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
    } > "$STATE/auth.env"
  fi
  set -a; source "$STATE/auth.env"; set +a
}

start() {
  [[ -f "$JAR" ]] || "$ROOT/tether" build
  mkdir -p "$STATE"
  auth_secrets
  if pid_alive "$STATE/cassandra.pid"; then
    echo "local-cluster: already running (stop it first)" >&2; exit 1
  fi
  echo "local-cluster: starting Cassandra on 127.0.0.1:$CQL_PORT"
  : > "$STATE/cassandra.out"
  nohup java -Xms64m -Xmx256m \
    -Dtether.cassandra.local.home="$STATE/cassandra" \
    -Dtether.cassandra.local.lib-dir="$LIB" \
    -Dtether.cassandra.local.native-port="$CQL_PORT" \
    -Dtether.cassandra.local.storage-port="$STORAGE_PORT" \
    -cp "$JAR" io.tether.persistence.cassandra.LocalCassandraMain --no-stdin \
    >> "$STATE/cassandra.out" 2>&1 &
  echo $! > "$STATE/cassandra.pid"
  wait_for 180 "Cassandra start" grep -q '^CONTACT_POINT=' "$STATE/cassandra.out" \
    || { tail -40 "$STATE/cassandra.out" >&2; exit 1; }

  echo "local-cluster: creating the schema (tether migrate)"
  java -Dconfig.resource=local1.conf -jar "$JAR" migrate > "$STATE/migrate.log" 2>&1 \
    || { tail -40 "$STATE/migrate.log" >&2; exit 1; }

  for i in 1 2 3; do
    echo "local-cluster: starting node local$i (http://127.0.0.1:808$i)"
    # shellcheck disable=SC2086
    nohup java $NODE_OPTS -Dconfig.resource="local$i.conf" -jar "$JAR" node \
      > "$STATE/node$i.log" 2>&1 &
    echo $! > "$STATE/node$i.pid"
  done
  for i in 1 2 3; do
    wait_for 120 "node local$i ready" ready "808$i" || { tail -40 "$STATE/node$i.log" >&2; exit 1; }
  done
  echo "local-cluster: up. Nodes on 8081, 8082, 8083; logs in $STATE"
  echo "local-cluster: auth is on; issue tokens with the operator secret in $STATE/auth.env:"
  echo "  curl -X POST localhost:8081/admin/tokens -H \"Authorization: Bearer \$TETHER_AUTH_ADMIN_SECRET\" ..."
}

stop_pid() { # stop_pid <pidfile> <name>
  if pid_alive "$1"; then
    local pid; pid="$(cat "$1")"
    kill -TERM "$pid"
    wait_for 60 "$2 exit" bash -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid"
  fi
  rm -f "$1"
}

stop() {
  for i in 3 2 1; do
    echo "local-cluster: node local$i leaves"
    stop_pid "$STATE/node$i.pid" "node local$i"
  done
  echo "local-cluster: Cassandra drains and stops"
  stop_pid "$STATE/cassandra.pid" "Cassandra"
}

status() {
  for i in 1 2 3; do
    if pid_alive "$STATE/node$i.pid"; then
      if ready "808$i"; then echo "local$i: ready"; else echo "local$i: running, not ready"; fi
    else
      echo "local$i: stopped"
    fi
  done
  if pid_alive "$STATE/cassandra.pid"; then echo "cassandra: running"; else echo "cassandra: stopped"; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
