#!/usr/bin/env bash
# Stops the broker, its S3 server (when started with --persistent) and ClickHouse started by
# deploy/local/start.sh, the broker first so that it never outlives its storage. With --clean,
# also deletes their data (ClickHouse's and the persistent broker's).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="${VIGIE_LOCAL_DIR:-$here/../../.local}"
for name in tansu s3rver clickhouse; do
  pidfile="$state/run/$name.pid"
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    echo "[stop] $name stopped"
  fi
  rm -f "$pidfile"
done
rm -f "$state/run/tansu.mode"
if [ "${1:-}" = "--clean" ]; then rm -rf "$state/clickhouse" "$state/s3" "$state/log"; echo "[stop] data removed"; fi
