#!/usr/bin/env bash
# overload_kill9.sh — drill: the seeds' overload load, and troupe killed with
# SIGKILL in the middle of it (sagas are in flight at the gateway).
#
# Usage: tests/faults/overload_kill9.sh [--short | --long] [--redis]
#   --short  (default) ~20 s: 10 s of load, one kill -9 after 4 s (ctest)
#   --long   60 s of load, a kill -9 every 15 s (three)
#   --redis  run troupe over its own redis-server instead of the embedded store
#   env: TROUPE_BIN (default <repo>/build/app/troupe), FAULTS_KEEP=1 keeps logs
#
# What it does: troupe with the seeds' payment settings (gateway latency
# uniformly 400-620 ms, call timeout 610 ms): with 100 keep-alive clients
# ordering at once, about a hundred orders are between their hold and their
# confirmation at any moment. kill -9 troupe, restart it at once on the same
# port, the same data dir (and the same Redis), wait until ready, and let the
# clients go on until the end of the load. The simulated gateway's books
# survive the kill (its journal is in the data dir), so reconciling the money
# after the restart is meaningful.
#
# What it checks (after the load, against the restarted troupe):
#   lost_acked=0  every order the client got a 201 for is still confirmed
#                 (GET /v1/orders/{id}), on its resource with its quantity
#   oversold=0    no resource has more confirmed units than its capacity (and
#                 GET shows available >= 0; the books agree with the acks)
#   duplicate=0   no orderId acknowledged twice
#   half_done=0   /admin/reconcile shows no half-done order (bounded poll,
#                 30 s: the orders cut off by the kill are compensated after
#                 the restart), balanced=1 and no violation (no capture
#                 without a confirmed order, no confirmed order unpaid)
#   and: the client's 201s never add up to more than the gateway's net;
#   confirmed orders without a 201 are no more than the answers lost to the
#   kill; nothing held at rest (with --redis: the store agrees); troupe ready
#   within 30 s of each restart; every answer is 201, 409, 503 or no
#   connection (a 4xx/500/504 or a client timeout fails the drill).
# Prints one summary line on stdout; exit code non-zero if anything broke.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
faults_init overload_kill9 "$@"

CLIENTS=100
if [[ $MODE == short ]]; then
  DURATION=10; KILL_AT=(4); SMALL=15
else
  DURATION=60; KILL_AT=(15 30 45); SMALL=60
fi
READY_BOUND_S=30
TROUPE_ARGS=(--payment-latency-ms "400,620" --payment-timeout-ms 610)

store_start
troupe_start
troupe_wait_ready "$READY_BOUND_S" >/dev/null || fail "troupe not ready at start"
register_overload_resources "$SMALL"
log "troupe on $TROUPE_URL ($STORE store); ${CLIENTS} clients for ${DURATION}s, kill -9 at ${KILL_AT[*]}s"

# a client pauses 250 ms after a 503 (a quarter of its Retry-After), as in
# overload.sh's "down" phase: an open breaker or a restarting troupe is not
# hammered with thousands of requests a second by this 2-core drill
load_start --clients "$CLIENTS" --duration "$DURATION" --timeout 5 --tag load --out "$WORK/load.jsonl" \
  --pause-on-503-ms 250

kill9_restart_at "${KILL_AT[@]}"
recovered=$RECOVERED_MS

load_wait $((DURATION + 30))
log "load done: $(count_lines "$WORK/load.jsonl") requests; verifying"

vrc=0
verify --label overload_kill9 --summary stderr --result-out "$WORK/verify.json" --recovered-ms "$recovered" \
  --allowed-statuses "$(allowed 201,409,503,conn)" || vrc=$?
"$PYTHON" "$LOAD_PY" overload-report --url "$TROUPE_URL" --label overload_kill9 --store "$STORE" --mode "$MODE" \
  --phase "load=$WORK/load.jsonl" --allowed "load=$(allowed 201,409,503,conn)" --shares 201,503,409,conn \
  --stalls "$WORK"/*.stalls --kills "${#KILL_AT[@]}" --recovered-ms "$recovered" --reconcile-timeout 30 \
  --verify-result "$WORK/verify.json" --verify-rc "$vrc"
