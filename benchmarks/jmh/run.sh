#!/usr/bin/env bash
# Builds the JMH module and runs Tether's microbenchmarks, with allocation profiling (-prof gc),
# writing benchmarks/results/jmh/jmh.json (JMH's JSON) and jmh.md (a table headed by the machine).
#
#   benchmarks/jmh/run.sh                  quick: 1 fork, 2 x 1 s warm-up, 3 x 1 s measured
#   benchmarks/jmh/run.sh --long           2 forks, 5 x 2 s warm-up, 5 x 2 s measured
#   benchmarks/jmh/run.sh -- Offset        anything after -- goes to JMH as it is: benchmark
#   benchmarks/jmh/run.sh -- -p items=16 Stream    regexes, -p, -jvmArgs, -prof ...
#   benchmarks/jmh/run.sh --ref HEAD       benchmark a commit, not the working tree
#
# Options: --long, --no-build (reuse benchmarks/jmh/target), --ref REF, --out DIR (default
# benchmarks/results/jmh), --note TEXT (printed in bold at the top of jmh.md, e.g. "the machine
# was shared"). MVN_ARGS is added to the mvn command (e.g. MVN_ARGS=-o for offline). Forks run
# with -Xms1g -Xmx1g unless -jvmArgs is given after --.
# See benchmarks/jmh/README.md for what each benchmark measures.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/benchmarks/results/jmh"
# A fixed heap so that runs compare; -jvmArgs after -- replaces it.
declare -A SETTING=([f]=1 [wi]=2 [i]=3 [w]=1s [r]=1s [jvmArgs]="-Xms1g -Xmx1g")
BUILD=1
REF=""
NOTE=""
JMH_ARGS=()

while [[ $# -gt 0 ]]; do
  case "$1" in
    --long) SETTING[f]=2 SETTING[wi]=5 SETTING[i]=5 SETTING[w]=2s SETTING[r]=2s; shift ;;
    --no-build) BUILD=0; shift ;;
    --ref) REF="$2"; shift 2 ;;
    --out) OUT="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --note) NOTE="$2"; shift 2 ;;
    --) shift; JMH_ARGS=("$@"); break ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "jmh: unknown option $1 (JMH's own options go after --)" >&2; exit 2 ;;
  esac
done

# The command as recorded in jmh.md (the note is printed there already).
INVOCATION="benchmarks/jmh/run.sh"
[[ "${SETTING[f]}" == 2 ]] && INVOCATION+=" --long"
[[ "$BUILD" == 0 ]] && INVOCATION+=" --no-build"
[[ -n "$REF" ]] && INVOCATION+=" --ref $REF"
[[ -n "$NOTE" ]] && INVOCATION+=" --note ..."
[[ ${#JMH_ARGS[@]} -gt 0 ]] && INVOCATION+=" -- ${JMH_ARGS[*]}"

SRC="$ROOT"
COMMIT="$(git -C "$ROOT" rev-parse --short HEAD)"
if [[ -n "$REF" ]]; then
  COMMIT="$(git -C "$ROOT" rev-parse --short "$REF^{commit}")"
  SRC="${TMPDIR:-/tmp}/tether-jmh-src-$COMMIT"
  if [[ ! -d "$SRC" ]]; then
    echo "jmh: exporting $REF ($COMMIT) into $SRC ..." >&2
    mkdir -p "$SRC.tmp"
    git -C "$ROOT" archive "$COMMIT" | tar -x -C "$SRC.tmp"
    mv "$SRC.tmp" "$SRC"
  fi
  DESCRIBE="commit $COMMIT (exported with git archive)"
elif [[ -n "$(git -C "$ROOT" status --porcelain -- actors http-api persistence)" ]]; then
  DESCRIBE="working tree at $COMMIT with uncommitted changes in actors/, http-api/ or persistence/"
else
  DESCRIBE="commit $COMMIT (clean working tree)"
fi

if [[ "$BUILD" == 1 ]]; then
  echo "jmh: building benchmarks/jmh and the modules it depends on ..." >&2
  (cd "$SRC" && mvn -B -q ${MVN_ARGS:-} -pl benchmarks/jmh -am package -DskipTests)
fi
TARGET="$SRC/benchmarks/jmh/target"
[[ -f "$TARGET/classes/META-INF/BenchmarkList" && -f "$TARGET/jmh.classpath" ]] \
  || { echo "jmh: $SRC/benchmarks/jmh is not built (run without --no-build)" >&2; exit 1; }
CP="$TARGET/classes:$(cat "$TARGET/jmh.classpath")"

# JMH refuses an option given twice: one passed after -- replaces the default.
for arg in "${JMH_ARGS[@]}"; do
  case "$arg" in -f|-wi|-i|-w|-r|-jvmArgs) unset "SETTING[${arg#-}]" ;; esac
done
SETTINGS=()
for key in f wi i w r jvmArgs; do
  [[ -n "${SETTING[$key]:-}" ]] && SETTINGS+=("-$key" "${SETTING[$key]}")
done

mkdir -p "$OUT"
read -r L1 L5 L15 _ < /proc/loadavg
echo "jmh: running (${SETTINGS[*]} -prof gc ${JMH_ARGS[*]:-}) ..." >&2
java -cp "$CP" org.openjdk.jmh.Main "${SETTINGS[@]}" -prof gc \
  -rf json -rff "$OUT/jmh.json" "${JMH_ARGS[@]}"

REPORT=(--in "$OUT/jmh.json" --out "$OUT/jmh.md" --commit "$DESCRIBE"
  --command "$INVOCATION" --load-start "$L1, $L5, $L15")
[[ -n "$NOTE" ]] && REPORT+=(--note "$NOTE")
java -cp "$CP" io.tether.benchmarks.jmh.JmhReport "${REPORT[@]}"
echo "jmh: wrote $OUT/jmh.json and $OUT/jmh.md" >&2
