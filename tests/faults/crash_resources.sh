#!/usr/bin/env bash
# crash_resources.sh — drill: resource actors are crashed over and over under load.
#
# Usage: tests/faults/crash_resources.sh [--short | --long]
#   --short  (default) ~15 s: 12 s of load and crashes
#   --long   60 s of load and crashes
#   env: TROUPE_BIN (default <repo>/build/app/troupe), FAULTS_KEEP=1 keeps logs
#
# What it does: starts its own redis-server (AOF, appendfsync always) and
# troupe over it, registers 20 resources (10 small enough to sell out during
# the run, 10 that do not), runs concurrent clients placing orders (each
# request sent once, every answer recorded, 5 s client timeout) and, all the
# while, every 300 ms POSTs /admin/faults {"crash":{"randomResources":3}}:
# the supervisor must restart each crashed resource actor from the store.
#
# What it checks:
#   lost_acked=0  every order answered 2xx is present and "confirmed"
#   oversold=0    no resource has more confirmed units than its capacity
#   duplicate=0   no orderId was acknowledged twice
#   and: every order was answered 201, 409 or 503 (no other 5xx, no 4xx, no
#   dropped connection, no client timeout); /admin/actors shows the
#   "resources" supervisor restarted actors; nothing held at rest; the books
#   agree with the store; no order left half-done in the store.
# recovered_in_ms = time from the last crash until every resource answers GET 200.
# Prints one summary line on stdout; exit code non-zero if anything broke.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
faults_init crash_resources "$@"

if [[ $MODE == short ]]; then
  DURATION=12; SMALL=100; BIG=100000
else
  DURATION=60; SMALL=600; BIG=100000
fi
RECOVER_BOUND_S=30
TROUPE_ARGS=(--payment-latency-ms "1,10")

redis_start
troupe_start
troupe_wait_ready 30 >/dev/null || fail "troupe not ready at start"
specs=()
for i in $(seq -w 1 10); do specs+=("small-$i:$SMALL" "big-$i:$BIG"); done
register_resources "${specs[@]}"
log "troupe on $TROUPE_URL over redis :$REDIS_PORT; ${DURATION}s of load with 3 resources crashed every 300 ms"

load_start --clients 8 --duration "$DURATION" --timeout 5
"$PYTHON" "$LOAD_PY" crash-loop --url "$TROUPE_URL" --n 3 --interval-ms 300 \
  --duration "$DURATION" --stop-file "$WORK/stop-crash" --last-file "$WORK/last-crash" \
  >"$WORK/crash-loop.json" </dev/null &
CRASH_PID=$!
EXTRA_PIDS+=("$CRASH_PID")
track_pid "$CRASH_PID"

load_wait $((DURATION + 30))
touch "$WORK/stop-crash"
crash_rc=0
wait "$CRASH_PID" || crash_rc=$?
[[ -s $WORK/last-crash ]] || fail "no crash was injected"
last_crash=$(<"$WORK/last-crash")
log "load done: $(count_lines "$WORK/load.jsonl") requests; crash loop: $(<"$WORK/crash-loop.json")"
((crash_rc == 0)) || log "FAIL: some POST /admin/faults were refused (see above)"

if ! recovered=$("$PYTHON" "$LOAD_PY" wait-resources --url "$TROUPE_URL" --resources "$WORK/resources.json" \
    --timeout "$RECOVER_BOUND_S" --since-ms "$last_crash"); then
  summary_unverified
  fail "not every resource answers GET within ${RECOVER_BOUND_S}s of the last crash"
fi

# the supervisor really restarted resource actors
actors=$(curl -sf --max-time 5 "$TROUPE_URL/admin/actors") || fail "GET /admin/actors failed"
restarts=$("$PYTHON" -c 'import json,sys
j = json.load(sys.stdin)
print(sum(s.get("restarts", 0) for s in j.get("supervisors", []) if s.get("name") == "resources"))' <<<"$actors")
log "supervisor 'resources' restarts=$restarts; $(curl -sf --max-time 5 "$TROUPE_URL/metrics" | grep '^troupe_actor_restarts_total' || true)"

ok=0
verify --label crash --recovered-ms "$recovered" --allowed-statuses "$(allowed 201,409,503)" || ok=1
((restarts > 0)) || { log "FAIL: /admin/actors shows no restart of the resources supervisor"; ok=1; }
((crash_rc == 0)) || ok=1
exit "$ok"
