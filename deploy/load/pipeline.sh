#!/usr/bin/env bash
# The pipeline load run: a fresh local stack (in-memory broker restarted empty, ClickHouse
# 18.16 with a scratch database), `vigie ingest`, `enrich` and `alerting` in release, then
# `vigie load` through ingest's front door with the options given here (see `vigie load --help`),
# e.g.
#   deploy/load/pipeline.sh --mentions 400000 --watches 10000
#   deploy/load/pipeline.sh --mentions 400000 --rate 20000
#   deploy/load/pipeline.sh --mentions 400000 --parts     (the broker and ClickHouse alone)
# Prints the load tool's report and the CPU each process used (core-seconds per million
# mentions), read from /proc before and after the run.
#
# Environment: VIGIE_SERVICES_BIN (the vigie binary whose services are measured, e.g. an
# older build to compare with; default: this checkout's, built here in release; the load tool
# is always this checkout's), LOAD_ENRICH / LOAD_ALERTING (instances of each,
# default 1), LOAD_PARTITIONS (partitions per topic, default 6), LOAD_KEEP=1 (leave the
# services running), LOAD_PERSISTENT=1 (the persistent broker, Tansu on S3 storage, instead
# of the in-memory one; needs deploy/local/install.sh --persistent), LOAD_KILL="enrich1:12 alerting2:15" (SIGKILL that instance that many
# seconds after the load starts) and LOAD_ADD="enrich:10" (start one more instance then): a
# rebalance mid-stream, after which the report must still show every acknowledged mention in
# ClickHouse exactly once. Needs deploy/local/install.sh; stops and restarts the local stack.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$(pwd)"
work_bin="$(mktemp -d /tmp/vigie-load-bin.XXXXXX)"
cargo build --release --bin vigie
# A copy, so that a build during the run cannot change what is measured.
cp target/release/vigie "$work_bin/vigie"
LOAD_BIN="$work_bin/vigie"
VIGIE_BIN="${VIGIE_SERVICES_BIN:-$LOAD_BIN}"
deploy/local/stop.sh >/dev/null
if [ "${LOAD_PERSISTENT:-0}" = 1 ]; then
  # The persistent broker's S3 data goes too: the run starts from empty topics either way.
  rm -rf .local/s3
  deploy/local/start.sh --persistent >/dev/null
else
  deploy/local/start.sh >/dev/null
fi
work="$(mktemp -d /tmp/vigie-load.XXXXXX)"
# Tansu's S3 engine loses a retried batch of an idempotent producer (see the README's faults
# section): non-idempotent producers there.
idempotence=true
[ "${LOAD_PERSISTENT:-0}" = 1 ] && idempotence=false
cat >"$work/vigie.toml" <<CFG
[kafka]
brokers = "127.0.0.1:9092"
partitions = ${LOAD_PARTITIONS:-6}
idempotence = $idempotence
[clickhouse]
url = "http://127.0.0.1:8123"
database = "vigie_load_pipeline"
validation = false
[ingest]
http_listen = "127.0.0.1:18080"
metrics_listen = "127.0.0.1:18100"
grpc_listen = "127.0.0.1:18051"
[enrich]
metrics_listen = "127.0.0.1:0"
[alerting]
metrics_listen = "127.0.0.1:0"
CFG
export VIGIE_CONFIG="$work/vigie.toml" RUST_LOG="${RUST_LOG:-warn}"
curl -sf http://127.0.0.1:8123/ --data-binary "DROP DATABASE IF EXISTS vigie_load_pipeline" >/dev/null
"$LOAD_BIN" migrate >/dev/null
pids=()      # every measured process
names=()
services=()  # the Vigie services started here
start() { # name, subcommand, metrics port
  VIGIE_ENRICH__METRICS_LISTEN="127.0.0.1:$3" VIGIE_ALERTING__METRICS_LISTEN="127.0.0.1:$3" \
    "$VIGIE_BIN" "$2" >"$work/$1.log" 2>&1 &
  pids+=($!)
  services+=($!)
  names+=("$1")
}
metrics=()
# `--parts` measures the broker and ClickHouse alone: no Vigie service runs.
case " $* " in *" --parts "*) parts=1 ;; *) parts=0 ;; esac
if [ "$parts" = 0 ]; then
  start ingest ingest 18099
  for i in $(seq 1 "${LOAD_ENRICH:-1}"); do start "enrich$i" enrich $((19100 + i)); metrics+=("127.0.0.1:$((19100 + i))"); done
  for i in $(seq 1 "${LOAD_ALERTING:-1}"); do start "alerting$i" alerting $((19200 + i)); metrics+=("127.0.0.1:$((19200 + i))"); done
fi
chaos=()  # the subshells that kill or add members on time
cleanup() {
  for p in "${chaos[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ "${LOAD_KEEP:-0}" != 1 ] && [ "${#services[@]}" -gt 0 ]; then
    for p in "${services[@]}" $(cat "$work"/added-*.pid 2>/dev/null); do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
  fi
}
trap cleanup EXIT
measured=(tansu clickhouse)
[ "${LOAD_PERSISTENT:-0}" = 1 ] && measured+=(s3rver)
for p in "${measured[@]}"; do pids+=("$(cat .local/run/$p.pid)"); names+=("$p"); done
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
declare -A before
for i in "${!pids[@]}"; do before[$i]=$(ticks "${pids[$i]}"); done
# Members killed or added mid-stream (the load tool's warm-up takes a few seconds first). A
# killed member's CPU is read just before the kill; an added one's from its start.
for spec in ${LOAD_KILL:-}; do
  name=${spec%%:*}; at=${spec##*:}
  for i in "${!names[@]}"; do
    if [ "${names[$i]}" = "$name" ]; then
      (sleep "$at"; ticks "${pids[$i]}" >"$work/$name.ticks"
       kill -9 "${pids[$i]}" 2>/dev/null && echo "[pipeline] killed $name (SIGKILL) at ${at}s" >&2) &
      chaos+=($!)
    fi
  done
done
added=0
for spec in ${LOAD_ADD:-}; do
  kind=${spec%%:*}; at=${spec##*:}; added=$((added + 1))
  (sleep "$at"; port=$((19300 + added))
   VIGIE_ENRICH__METRICS_LISTEN="127.0.0.1:$port" VIGIE_ALERTING__METRICS_LISTEN="127.0.0.1:$port" \
     "$VIGIE_BIN" "$kind" >"$work/added-$added-$kind.log" 2>&1 &
   echo "$!" >"$work/added-$added.pid"; echo "$kind" >"$work/added-$added.kind"
   echo "[pipeline] added a $kind member at ${at}s" >&2) &
  chaos+=($!)
done
load_out="$work/load.out"
metrics_arg=$(IFS=,; echo "${metrics[*]}")
status=0
/usr/bin/time -f "%U %S" -o "$work/load.time" "$LOAD_BIN" load --metrics "$metrics_arg" "$@" | tee "$load_out" || status=$?
hz=$(getconf CLK_TCK)
mentions=$(awk '/^measured / { print $2 }' "$load_out")
mentions=${mentions:-0}
echo "cpu (core-seconds per million mentions; whole process, run included warm-up):"
row() { # name, ticks used
  awk -v n="$1" -v u="$2" -v hz="$hz" -v m="$mentions" \
    'BEGIN { printf "  %-10s %8.2f s  %8.1f per million\n", n, u / hz, (m > 0 ? u / hz / m * 1e6 : 0) }'
}
for i in "${!pids[@]}"; do
  now=$(ticks "${pids[$i]}")
  [ -f "$work/${names[$i]}.ticks" ] && now=$(cat "$work/${names[$i]}.ticks")
  row "${names[$i]}" $((now - ${before[$i]}))
done
for f in "$work"/added-*.pid; do
  [ -f "$f" ] || continue
  row "$(cat "${f%.pid}.kind") (added)" "$(ticks "$(cat "$f")")"
done
# GNU time puts a "Command exited with non-zero status" line first when the load failed.
tail -n 1 "$work/load.time" | awk -v m="$mentions" '{ printf "  %-10s %8.2f s  %8.1f per million\n", "load tool", $1 + $2, (m > 0 ? ($1 + $2) / m * 1e6 : 0) }'
echo "logs: $work"
exit "$status"
