#!/usr/bin/env bash
# overload.sh — drill: the seeds' overload: a slow payment gateway under 100
# concurrent clients, then a gateway that stops answering (the circuit breaker
# must open and answer fast), then the gateway back (the breaker must close).
#
# Usage: tests/faults/overload.sh [--short | --long] [--redis]
#   --short  (default) ~20 s: 10 s of load (CI: ctest -L faults)
#   --long   60 s of load, 10 s with the gateway down
#   --redis  run troupe over its own redis-server instead of the embedded store
#   env: TROUPE_BIN (default <repo>/build/app/troupe), FAULTS_KEEP=1 keeps logs,
#        FAULTS_OPEN_P99_MS (default 50): the open breaker's 503s p99 limit
#
# What it does: troupe with the seeds' payment settings (gateway latency
# uniformly 400-620 ms, call timeout 610 ms, so a few percent of the calls time
# out), resources with ample capacity and a few small ones that sell out.
#   load     100 keep-alive clients POST orders for 10 s (long: 60 s); each
#            request is sent once and every answer recorded.
#   down     POST /admin/faults payment latency 700 ms (above the timeout),
#            failure rate 1.0, for 3 s (long: 10 s) under the same 100 clients
#            (each pausing 250 ms after a 503, a quarter of its Retry-After):
#            the calls time out, the breaker must open, and its 503s must come
#            back in milliseconds (p99 <= FAULTS_OPEN_P99_MS) with a payment
#            problem type and Retry-After.
#   back     {"clear":true} and a little traffic (4 clients): the breaker must
#            close by itself (its half-open trial succeeds, bounded wait) and
#            orders get 201 again.
#
# What it checks (after the load, against the running troupe):
#   every 201 is still a confirmed order, nothing oversold (confirmed units <=
#   capacity on every resource; GET shows available >= 0, the books agree),
#   nothing held at rest (and, with --redis, the store agrees); every answer
#   is 201, 409 or 503 (in "down" only 409/503), every 503 is a payment one
#   and carries the orderId; /admin/reconcile balanced within 20 s with no
#   half-done order and no violation (no capture without a confirmed order);
#   the client's 201 amounts add up exactly to the gateway's net, and
#   reconcile's confirmed/rejected counts equal the client's 201s and its
#   402/503 answers with an orderId.
# Prints one summary line on stdout (throughput, shares of 201/503/409,
# p50/p99 of the 201s and of the 503s, breaker transitions during the load,
# the open breaker's 503 latency, the time to close, the money); exit code
# non-zero if anything broke.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
faults_init overload "$@"

CLIENTS=100
if [[ $MODE == short ]]; then
  DURATION=10; DOWN_S=3; SMALL=15
else
  DURATION=60; DOWN_S=10; SMALL=60
fi
CLOSE_BOUND_S=40          # the cool-down doubles per failed trial (1, 2, 4, 8 s, ...)
OPEN_P99_MS=${FAULTS_OPEN_P99_MS:-50}
READY_BOUND_S=30
TROUPE_ARGS=(--payment-latency-ms "400,620" --payment-timeout-ms 610)

store_start
troupe_start
troupe_wait_ready "$READY_BOUND_S" >/dev/null || fail "troupe not ready at start"
register_overload_resources "$SMALL"
log "troupe on $TROUPE_URL ($STORE store); ${CLIENTS} clients for ${DURATION}s, gateway 400-620 ms, timeout 610 ms"


# ---- load
load_start --clients "$CLIENTS" --duration "$DURATION" --timeout 5 --tag load --out "$WORK/load.jsonl"
load_wait $((DURATION + 30))
get /admin/payments/breaker >"$WORK/breaker-after-load.json" || fail "GET /admin/payments/breaker failed"
log "load done: $(count_lines "$WORK/load.jsonl") requests; breaker $(cut -c1-160 "$WORK/breaker-after-load.json")"

# ---- down: calls time out, the breaker must open
fault_at=$(now_ms)
fault '{"payment":{"latencyMs":[700,700],"failureRate":1.0}}'
load_start --clients "$CLIENTS" --duration "$DOWN_S" --timeout 5 --tag down --out "$WORK/down.jsonl" \
  --pause-on-503-ms 250
open_at=$("$PYTHON" "$LOAD_PY" wait-breaker --url "$TROUPE_URL" --state open --timeout $((DOWN_S + 5))) || open_at=0
((open_at > 0)) && log "breaker open $((open_at - fault_at)) ms after the fault"
load_wait $((DOWN_S + 30))
log "down done: $(count_lines "$WORK/down.jsonl") requests"

# ---- back: the breaker must close by itself; orders succeed again
clear_at=$(now_ms)
fault '{"clear":true}'
load_start --clients 4 --duration $((CLOSE_BOUND_S + 5)) --timeout 5 --tag back --out "$WORK/back.jsonl"
closed_at=$("$PYTHON" "$LOAD_PY" wait-breaker --url "$TROUPE_URL" --state closed --timeout "$CLOSE_BOUND_S") ||
  closed_at=0
if ((closed_at > 0)); then
  log "breaker closed $((closed_at - clear_at)) ms after the clear"
  sleep 2                           # a little traffic through the closed breaker
else
  log "breaker not closed within ${CLOSE_BOUND_S}s of the clear"
fi
load_stop
log "back done: $(count_lines "$WORK/back.jsonl") requests; verifying"

# ---- verify: the orders and books (verify), then the figures and the money
vrc=0
verify --label overload --summary stderr --result-out "$WORK/verify.json" \
  --allowed-statuses "$(allowed 201,409,503)" || vrc=$?
"$PYTHON" "$LOAD_PY" overload-report --url "$TROUPE_URL" --label overload --store "$STORE" --mode "$MODE" \
  --phase "load=$WORK/load.jsonl" --phase "down=$WORK/down.jsonl" --phase "back=$WORK/back.jsonl" \
  --allowed "load=$(allowed 201,409,503)" --allowed "down=$(allowed 409,503)" \
  --allowed "back=$(allowed 201,409,503)" --strict-503 \
  --stalls "$WORK"/*.stalls --breaker-after-load "$WORK/breaker-after-load.json" \
  --open-phase down --fault-at "$fault_at" --open-at "$open_at" --open-p99-limit-ms "$OPEN_P99_MS" \
  --recover-phase back --clear-at "$clear_at" --closed-at "$closed_at" \
  --exact-money --verify-result "$WORK/verify.json" --verify-rc "$vrc"
