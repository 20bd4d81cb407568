#!/usr/bin/env bash
# The API load run: one million mentions in ClickHouse (deploy/load/seed.sql), 10,000 alerts on
# vigie.alerts, `vigie api` in release, then 8 concurrent clients per RPC for 15 s each
# (examples/api_load.rs). Prints requests/s and latency percentiles. Needs the local stack's
# installation (deploy/local/install.sh); starts the stack itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/local/start.sh
cargo build --release --bin vigie --example api_load
cfg="$(mktemp)"
cat > "$cfg" <<CFG
[clickhouse]
database = "vigie_load"
validation = false
[api]
grpc_listen = "127.0.0.1:50152"
CFG
export VIGIE_CONFIG="$cfg"
target/release/vigie migrate >/dev/null
have=$(curl -s "http://127.0.0.1:8123/?database=vigie_load" --data-binary "SELECT count() FROM mentions WHERE tenant = 'load'")
if [ "$have" -lt 1000000 ]; then
  echo "[load] seeding one million mentions"
  curl -sf "http://127.0.0.1:8123/?database=vigie_load" --data-binary @deploy/load/seed.sql
fi
target/release/examples/api_load seed_alerts 127.0.0.1:9092
token=$(target/release/vigie token create --tenant load --role reader --name load-run 2>/dev/null)
target/release/vigie api 2>/tmp/vigie-load-api.log &
api=$!
trap 'kill -TERM $api 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  # The API answers once it has read the tokens (and alerts) topics.
  target/release/examples/api_load 127.0.0.1:50152 "$token" list_alerts 1 1 2>/dev/null | grep -q " 0 errors" && break
  sleep 0.5
done
for rpc in list_alerts search stats; do
  target/release/examples/api_load 127.0.0.1:50152 "$token" "$rpc" 8 15
done
