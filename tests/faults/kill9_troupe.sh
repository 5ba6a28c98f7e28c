#!/usr/bin/env bash
# kill9_troupe.sh — drill: troupe is killed with SIGKILL in the middle of load.
#
# Usage: tests/faults/kill9_troupe.sh [--short | --long]
#   --short  (default) ~15 s: 12 s of load, one kill -9 (CI: ctest -L faults)
#   --long   60 s of load, a kill -9 every 15 s (three)
#   env: TROUPE_BIN (default <repo>/build/app/troupe), FAULTS_KEEP=1 keeps logs
#
# What it does: starts its own redis-server (AOF, appendfsync always) and
# troupe over it, registers resources (some small enough to sell out before
# the kill, some that never sell out), runs concurrent clients placing orders
# (each request sent once, every answer recorded), kill -9's troupe mid-load,
# restarts it on the same port and the SAME Redis while the clients keep
# going, and lets the load run on after the restart.
#
# What it checks (after the load, against the restarted troupe and Redis):
#   lost_acked=0  every order answered 2xx is present and "confirmed"
#   oversold=0    no resource has more confirmed units than its capacity
#   duplicate=0   no orderId was acknowledged twice
#   and: nothing left held at rest, the books agree with the store, no
#   order left half-done in the store, troupe ready within 30 s of each restart,
#   every answer is 201, 409, 503 or no connection (a 400/500/504 or a client
#   timeout to a valid order fails the drill).
# recovered_in_ms = the longest time from a restart until /health/ready is 200.
# Prints one summary line on stdout; exit code non-zero if anything broke.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
faults_init kill9_troupe "$@"

if [[ $MODE == short ]]; then
  DURATION=12; KILL_AT=(4); SMALL=60
else
  DURATION=60; KILL_AT=(15 30 45); SMALL=400
fi
READY_BOUND_S=30
# a little simulated payment latency, so that sagas are in flight at the kill
TROUPE_ARGS=(--payment-latency-ms "1,15")

redis_start
troupe_start
troupe_wait_ready "$READY_BOUND_S" >/dev/null || fail "troupe not ready at start"
register_resources small-1:$SMALL small-2:$SMALL small-3:$SMALL \
  big-1:1000000 big-2:1000000 big-3:1000000
log "troupe on $TROUPE_URL over redis :$REDIS_PORT; ${DURATION}s of load, kill -9 at ${KILL_AT[*]}s"

load_start --clients 8 --duration "$DURATION" --timeout 5

kill9_restart_at "${KILL_AT[@]}"
recovered=$RECOVERED_MS

load_wait $((DURATION + 30))
log "load done: $(count_lines "$WORK/load.jsonl") requests; verifying"
# valid orders may be refused (409), told to retry (503) or find no server
# (conn); anything else — a 5xx other than 503, a 4xx, a client timeout — fails
verify --label kill9 --recovered-ms "$recovered" --allowed-statuses "$(allowed 201,409,503,conn)"
