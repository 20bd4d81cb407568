#!/usr/bin/env bash
# Starts a local Kafka-protocol broker (Tansu) and a ClickHouse server as background processes,
# with all their files under .local/, and waits until they answer.
#   deploy/local/start.sh               broker with in-memory storage: topics and records are
#                                       lost when it stops (fast; what the tests use)
#   deploy/local/start.sh --persistent  broker with Tansu's s3:// storage engine against a local
#                                       S3 server (s3rver with conditional writes, run by
#                                       deploy/local/s3rver.js; data under .local/s3), so topics,
#                                       topic ids, records and committed offsets survive a
#                                       restart, as with a production broker (install it with
#                                       `deploy/local/install.sh --persistent`)
# Ports: Kafka 127.0.0.1:9092, ClickHouse HTTP 127.0.0.1:8123 (native 9000), S3 127.0.0.1:4568;
# VIGIE_LOCAL_KAFKA_PORT, VIGIE_LOCAL_CH_HTTP_PORT, VIGIE_LOCAL_CH_TCP_PORT, VIGIE_LOCAL_S3_PORT
# and VIGIE_LOCAL_DIR (instead of .local/) change them. Stop with deploy/local/stop.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="$(mkdir -p "${VIGIE_LOCAL_DIR:-$here/../../.local}" && cd "${VIGIE_LOCAL_DIR:-$here/../../.local}" && pwd)"
KAFKA_PORT="${VIGIE_LOCAL_KAFKA_PORT:-9092}"
CH_HTTP_PORT="${VIGIE_LOCAL_CH_HTTP_PORT:-8123}"
CH_TCP_PORT="${VIGIE_LOCAL_CH_TCP_PORT:-9000}"
S3_PORT="${VIGIE_LOCAL_S3_PORT:-4568}"
mode=memory
for arg in "$@"; do
  case "$arg" in
    --persistent) mode=s3 ;;
    *) echo "usage: $0 [--persistent]" >&2; exit 2 ;;
  esac
done
mkdir -p "$state/run" "$state/log"

running() { [ -f "$state/run/$1.pid" ] && kill -0 "$(cat "$state/run/$1.pid")" 2>/dev/null; }

wait_for() { # name, seconds, command...
  local name=$1 secs=$2; shift 2
  for _ in $(seq 1 $((secs * 10))); do
    if "$@" >/dev/null 2>&1; then echo "[start] $name ready"; return 0; fi
    sleep 0.1
  done
  echo "[start] $name did not become ready within ${secs}s; its log:" >&2
  tail -n 30 "$state/log/$name.log" >&2 || true
  return 1
}

# --- S3 server for the persistent broker ------------------------------------------------------
# s3rver keeps every object as plain files under $state/s3 (fixed credentials S3RVER/S3RVER);
# deploy/local/s3rver.js runs it with the conditional writes Tansu's s3:// engine relies on.
if [ "$mode" = s3 ] && ! running s3rver; then
  [ -f "$state/s3rver/node_modules/s3rver/package.json" ] ||
    { echo "[start] no S3 server under $state/s3rver: run deploy/local/install.sh --persistent" >&2; exit 1; }
  mkdir -p "$state/s3"
  NODE_PATH="$state/s3rver/node_modules" nohup node "$here/s3rver.js" "$state/s3" "$S3_PORT" tansu \
    >>"$state/log/s3rver.log" 2>&1 &
  echo $! >"$state/run/s3rver.pid"
fi
if [ "$mode" = s3 ]; then wait_for s3rver 20 curl -s -o /dev/null "http://127.0.0.1:$S3_PORT/"; fi

# --- Kafka-protocol broker -------------------------------------------------------------------
if running tansu; then
  was="$(cat "$state/run/tansu.mode" 2>/dev/null || echo memory)"
  if [ "$was" != "$mode" ]; then
    echo "[start] the broker already runs with $was storage; stop it first (deploy/local/stop.sh)" >&2
    exit 1
  fi
else
  [ -x "$state/bin/tansu" ] || { echo "[start] no broker at $state/bin/tansu: run deploy/local/install.sh" >&2; exit 1; }
  if [ "$mode" = s3 ]; then
    storage="s3://tansu/"
    # Tansu's s3:// engine reads the AWS_* variables (object_store's AmazonS3Builder::from_env).
    s3_env=(AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
            AWS_ENDPOINT="http://127.0.0.1:$S3_PORT" AWS_ALLOW_HTTP=true)
  else
    storage="memory://tansu/"
    s3_env=()
  fi
  env -u AWS_SESSION_TOKEN -u AWS_PROFILE "${s3_env[@]}" nohup "$state/bin/tansu" broker \
    --listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
    --advertised-listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
    --storage-engine "$storage" >>"$state/log/tansu.log" 2>&1 &
  echo $! >"$state/run/tansu.pid"
  echo "$mode" >"$state/run/tansu.mode"
fi
wait_for tansu 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$KAFKA_PORT"

# --- ClickHouse --------------------------------------------------------------------------------
CH_BIN="$(command -v clickhouse-server || echo /usr/bin/clickhouse-server)"
if ! running clickhouse; then
  ch="$state/clickhouse"
  mkdir -p "$ch/data" "$ch/tmp" "$ch/user_files" "$ch/format_schemas"
  cat >"$ch/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>$state/log/clickhouse.log</log>
        <errorlog>$state/log/clickhouse.err.log</errorlog>
        <size>100M</size>
        <count>2</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$CH_HTTP_PORT</http_port>
    <tcp_port>$CH_TCP_PORT</tcp_port>
    <max_connections>256</max_connections>
    <keep_alive_timeout>10</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <path>$ch/data/</path>
    <tmp_path>$ch/tmp/</tmp_path>
    <user_files_path>$ch/user_files/</user_files_path>
    <format_schema_path>$ch/format_schemas/</format_schema_path>
    <users_config>$ch/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <mark_cache_size>536870912</mark_cache_size>
    <uncompressed_cache_size>536870912</uncompressed_cache_size>
</yandex>
XML
  cat >"$ch/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas><default></default></quotas>
</yandex>
XML
  nohup "$CH_BIN" --config-file="$ch/config.xml" >"$state/log/clickhouse.stdout.log" 2>&1 &
  echo $! >"$state/run/clickhouse.pid"
fi
wait_for clickhouse 60 curl -sf "http://127.0.0.1:$CH_HTTP_PORT/ping"
if [ "$mode" = s3 ]; then
  echo "[start] Kafka at 127.0.0.1:$KAFKA_PORT (persistent: s3://tansu/ on 127.0.0.1:$S3_PORT, data in $state/s3), ClickHouse at http://127.0.0.1:$CH_HTTP_PORT"
else
  echo "[start] Kafka at 127.0.0.1:$KAFKA_PORT (in memory), ClickHouse at http://127.0.0.1:$CH_HTTP_PORT"
fi
