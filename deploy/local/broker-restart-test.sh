#!/usr/bin/env bash
# Broker-restart test: ingest, enrich, alerting and api run as separate processes against the
# local stack's broker; the broker is stopped and started again under them; every service must
# still be running afterwards and a mention posted after the restart must flow through
# ingest -> vigie.mentions.raw -> enrich -> vigie.mentions.enriched -> alerting.
#
#   broker-restart-test.sh [--persistent]     (the mode is passed on to deploy/local/start.sh)
#   broker-restart-test.sh --survive-only     in-memory broker: it loses every topic, so nothing
#                                             can flow after the restart; the services must still
#                                             be running and ingest must answer (503) rather than
#                                             crash.
#
# Environment: VIGIE_BIN (the vigie binary), VIGIE_REPO (the checkout with deploy/local), and the
# VIGIE_LOCAL_* variables of deploy/local/start.sh (use a scratch VIGIE_LOCAL_DIR and alternate
# ports to leave a running stack alone). Everything listens on 127.0.0.1.
set -uo pipefail
mode_arg="${1:-}"
survive_only=0
if [ "$mode_arg" = --survive-only ]; then survive_only=1; mode_arg=""; fi
BIN="${VIGIE_BIN:-target/debug/vigie}"
REPO="${VIGIE_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}"
state="${VIGIE_LOCAL_DIR:-$REPO/.local}"
KAFKA_PORT="${VIGIE_LOCAL_KAFKA_PORT:-9092}"
CH_HTTP_PORT="${VIGIE_LOCAL_CH_HTTP_PORT:-8123}"
P="${RESTART_TEST_PORT_BASE:-18000}"   # ingest HTTP $P+80, metrics $P+101..$P+103, gRPC $P+51
work="$(mktemp -d /tmp/vigie-restart-test.XXXXXX)"
export VIGIE_KAFKA__BROKERS="127.0.0.1:$KAFKA_PORT" VIGIE_CLICKHOUSE__URL="http://127.0.0.1:$CH_HTTP_PORT" \
  VIGIE_ENRICH__WRITE_CLICKHOUSE=false VIGIE_ALERTING__WRITE_CLICKHOUSE=false \
  VIGIE_INGEST__HTTP_LISTEN="127.0.0.1:$((P + 80))" VIGIE_API__GRPC_LISTEN="127.0.0.1:$((P + 51))" \
  VIGIE_ENRICH__METRICS_LISTEN="127.0.0.1:$((P + 101))" VIGIE_ALERTING__METRICS_LISTEN="127.0.0.1:$((P + 102))" \
  VIGIE_API__METRICS_LISTEN="127.0.0.1:$((P + 103))" RUST_LOG="${RUST_LOG:-info}"
# Tansu's S3 engine loses a retried batch of an idempotent producer (README: Faults under load).
[ "$mode_arg" = --persistent ] && export VIGIE_KAFKA__IDEMPOTENCE=false
SERVICES=(ingest enrich alerting api)
declare -A PID
fail=0
say() { echo "[restart-test] $*"; }

metric() { # port, metric name, stage: the counter's value (0 when absent)
  curl -s --max-time 5 "http://127.0.0.1:$1/metrics" | awk -v m="$2" -v s="stage=\"$3\"" \
    '$1 ~ "^"m"\\{" && index($1, s) { v = $2 } END { print v + 0 }'
}
wait_until() { # seconds, description, command...
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  while [ "$SECONDS" -lt "$deadline" ]; do "$@" && return 0; sleep 1; done
  say "TIMEOUT after ${secs}s: $what"; return 1
}
post() { # native id: posts one mention, 0 when ingest answered 200
  local code
  code=$(curl -s --max-time 35 -o "$work/post.out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$((P + 80))/v1/mentions" -d "{
    \"tenant\": \"verdier\", \"source\": \"x\", \"native_id\": \"$1\",
    \"text\": \"Intoxication après un wrap @maisonverdier #verdier ($1)\",
    \"author\": {\"handle\": \"restart_test\", \"followers\": 10}}")
  [ "$code" = 200 ]
}
at_least() { [ "$(metric "$1" "$2" "$3")" -ge "$4" ]; }
alive() { kill -0 "${PID[$1]}" 2>/dev/null; }
check_alive() {
  for s in "${SERVICES[@]}"; do
    if alive "$s"; then say "$s (pid ${PID[$s]}) running"; else
      wait "${PID[$s]}"; say "FAIL: $s exited with status $? (log: $work/$s.log)"; fail=1; fi
  done
}
cleanup() {
  for s in "${SERVICES[@]}"; do [ -n "${PID[$s]:-}" ] && kill "${PID[$s]}" 2>/dev/null; done
  for s in "${SERVICES[@]}"; do [ -n "${PID[$s]:-}" ] && wait "${PID[$s]}" 2>/dev/null; done
}
trap cleanup EXIT

"$REPO/deploy/local/start.sh" $mode_arg | tail -1 || exit 1
# auth.required stays on (the default), so ingest and api follow vigie.tokens as in production.
TOKEN="$("$BIN" token create --tenant verdier --role operator --name restart-test 2>"$work/token.log" | head -1)"
[ -n "$TOKEN" ] || { say "cannot create a token: $(tail -3 "$work/token.log")"; exit 1; }
for s in "${SERVICES[@]}"; do "$BIN" "$s" >"$work/$s.log" 2>&1 & PID[$s]=$!; done
# Up means serving: ingest's HTTP, enrich's and alerting's metrics, api's gRPC port (its metrics
# come up before it has read its topics). One deadline for the four, started side by side on a
# small machine; a service that does not come up shows its log.
declare -A UP=([ingest]="http://127.0.0.1:$((P + 80))/healthz" [enrich]="http://127.0.0.1:$((P + 101))/healthz"
  [alerting]="http://127.0.0.1:$((P + 102))/healthz" [api]="http://127.0.0.1:$((P + 51))/")
up_deadline=$((SECONDS + 150))
for s in "${SERVICES[@]}"; do
  until curl -s --max-time 5 -o /dev/null "${UP[$s]}"; rc=$?; [ "$rc" -ne 7 ] && [ "$rc" -ne 28 ]; do
    if [ "$SECONDS" -ge "$up_deadline" ] || ! alive "$s"; then
      say "FAIL: $s not serving after $((SECONDS - up_deadline + 150)) s; its log ends:"; tail -15 "$work/$s.log"; fail=1; break
    fi
    sleep 1
  done
done
say "services up after $((SECONDS - up_deadline + 150)) s"

before="restart-test-$(date +%s%N)-a"
wait_until 60 "mention before the restart accepted" post "$before" || fail=1
wait_until 90 "enrich handed on the first mention" at_least $((P + 101)) vigie_stage_sent_total enrich 1 || fail=1
wait_until 90 "alerting took in the first mention" at_least $((P + 102)) vigie_stage_received_total alerting 1 || fail=1
e1=$(metric $((P + 101)) vigie_stage_sent_total enrich); a1=$(metric $((P + 102)) vigie_stage_received_total alerting)
say "before the restart: enrich sent $e1, alerting received $a1"

bpid="$(cat "$state/run/tansu.pid")"
say "stopping the broker (pid $bpid, SIG${RESTART_TEST_SIGNAL:-TERM})"
kill -"${RESTART_TEST_SIGNAL:-TERM}" "$bpid"; for _ in $(seq 1 150); do kill -0 "$bpid" 2>/dev/null || break; sleep 0.1; done
kill -9 "$bpid" 2>/dev/null
"$REPO/deploy/local/start.sh" $mode_arg | tail -1 || exit 1
say "broker started again; waiting 30 s"
sleep 30
check_alive

if [ "$fail" = 0 ] && [ "$survive_only" = 1 ]; then
  after="restart-test-$(date +%s%N)-b"
  code=$(curl -s --max-time 60 -o "$work/post.out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$((P + 80))/v1/mentions" -d "{\"source\": \"x\", \"native_id\": \"$after\", \"text\": \"x\"}")
  say "ingest answered $code after the broker lost its topics: $(head -c 200 "$work/post.out")"
  case "$code" in 200|503) ;; *) say "FAIL: expected 503 (or 200), got $code"; fail=1 ;; esac
  check_alive
elif [ "$fail" = 0 ]; then
  after="restart-test-$(date +%s%N)-b"
  rm -f "$work/post.out"
  wait_until 120 "mention after the restart accepted" post "$after" || { fail=1; cat "$work/post.out" 2>/dev/null; echo; }
  wait_until 120 "enrich handed on the mention posted after the restart" at_least $((P + 101)) vigie_stage_sent_total enrich $((e1 + 1)) || fail=1
  wait_until 120 "alerting took in the mention posted after the restart" at_least $((P + 102)) vigie_stage_received_total alerting $((a1 + 1)) || fail=1
  say "after the restart: enrich sent $(metric $((P + 101)) vigie_stage_sent_total enrich), alerting received $(metric $((P + 102)) vigie_stage_received_total alerting)"
  check_alive
fi

if [ "$fail" = 0 ]; then say "PASS: every service rode out the broker restart (logs in $work)"; echo "1 passed, 0 failed"
else say "FAIL (logs in $work)"; echo "0 passed, 1 failed"; fi
exit "$fail"
