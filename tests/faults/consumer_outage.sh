#!/usr/bin/env bash
# consumer_outage.sh — drill: event subscribers (notifier; long mode also
# mypage and report) are stopped while orders and cancels keep coming, then
# started again: they must catch up exactly once.
#
# Usage: tests/faults/consumer_outage.sh [--short | --long] [--redis]
#   --short  (default) ~20 s: 12 s of load; notifier stopped from 2 s to 8 s
#   --long   60 s of load; notifier, mypage and report stopped from 10 s to
#            40 s, and the notifier crashed ({"crash":{"subscriber":...}}) at 50 s
#   --redis  run troupe over its own redis-server instead of the embedded store
#   env: TROUPE_BIN (default <repo>/build/app/troupe), FAULTS_KEEP=1 keeps logs
#
# What it does: troupe with a fast gateway that declines 5% of the payments
# (402: the order is rejected after its hold); a bounded set of customers (30,
# long 50); clients POST orders over resources (two small ones sell out: 409,
# no record) and cancel some of their own confirmed orders. Meanwhile POST
# /admin/faults {"stop":...} / {"start":...} takes the subscribers away and
# back; /admin/subscribers is sampled right after the stop and right before
# the start.
#
# What it checks:
#   during the outage orders are still accepted (201s > 0); the stopped
#   subscribers report running=false, their lag grows and their cursor stays;
#   after the start every subscriber reaches lag 0 (bounded, 30 s);
#   /admin/reconcile balanced (no half-done order, no violation) and the
#   client's 201 amounts less the cancelled ones equal the gateway's net;
#   reconcile's confirmed/cancelled/rejected counts equal the client's;
#   for every customer, against the client's own record: its notifications
#   are exactly booking-confirmed per 201 order, booking-rejected per 402
#   order, and booking-confirmed + booking-cancelled per cancelled order — no
#   duplicate (orderId, kind), none missing, none unexpected, amounts right;
#   its mypage lists exactly its orders with their current status (and
#   payment captured/refunded); every order's GET has that status; every
#   resource report's bookings/active/cancelled/rejected/captured/refunds/
#   revenue and its order list agree with the client (revenue = the amounts
#   of the orders still confirmed). The views are eventual: they are checked
#   again (bounded, 10 s) until they agree.
#   Every order answer is 201, 402 or 409, every cancel 200.
# Prints one summary line on stdout; exit code non-zero if anything broke.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
faults_init consumer_outage "$@"

if [[ $MODE == short ]]; then
  DURATION=12; STOP_AT=2; START_AT=8; CRASH_AT=""; CUSTOMERS=30; SMALL=40
  STOPPED=(notifier)
else
  DURATION=60; STOP_AT=10; START_AT=40; CRASH_AT=50; CUSTOMERS=50; SMALL=150
  STOPPED=(notifier mypage report)
fi
CLIENTS=6
READY_BOUND_S=30
CATCH_UP_BOUND_S=30
TROUPE_ARGS=(--payment-latency-ms "5,30" --payment-failure-rate 0.05)

store_start
troupe_start
troupe_wait_ready "$READY_BOUND_S" >/dev/null || fail "troupe not ready at start"
register_resources big-1:1000000 big-2:1000000 big-3:1000000 big-4:1000000 big-5:1000000 big-6:1000000 \
  small-1:$SMALL small-2:$SMALL
stopped_csv=$(IFS=,; echo "${STOPPED[*]}")
log "troupe on $TROUPE_URL ($STORE store); ${DURATION}s of load, $CUSTOMERS customers;" \
  "stop $stopped_csv at ${STOP_AT}s, start at ${START_AT}s${CRASH_AT:+, crash notifier at ${CRASH_AT}s}"


load_start --clients "$CLIENTS" --duration "$DURATION" --timeout 5 --tag co --customers "$CUSTOMERS" \
  --cancel-rate 0.15 --out "$WORK/load.jsonl"

sleep_until_load "$STOP_AT"
for s in "${STOPPED[@]}"; do fault "{\"stop\":\"$s\"}"; done
outage_from=$(now_ms)
get /admin/subscribers >"$WORK/subs-stopped.json" || fail "GET /admin/subscribers failed"
log "stopped $stopped_csv: $(cut -c1-300 "$WORK/subs-stopped.json")"

sleep_until_load "$START_AT"
get /admin/subscribers >"$WORK/subs-before-start.json" || fail "GET /admin/subscribers failed"
outage_to=$(now_ms)
for s in "${STOPPED[@]}"; do fault "{\"start\":\"$s\"}"; done
log "started $stopped_csv again after $((outage_to - outage_from)) ms: $(cut -c1-300 "$WORK/subs-before-start.json")"

if [[ -n $CRASH_AT ]]; then
  sleep_until_load "$CRASH_AT"
  fault '{"crash":{"subscriber":"notifier"}}'
  log "crashed the notifier"
fi

load_wait $((DURATION + 30))
log "load done: $(count_lines "$WORK/load.jsonl") orders, $(count_lines "$WORK/load.jsonl.cancels") cancels"
caught_up=-1
if caught_up=$("$PYTHON" "$LOAD_PY" wait-caught-up --url "$TROUPE_URL" --timeout "$CATCH_UP_BOUND_S"); then
  log "every subscriber at lag 0 ${caught_up} ms after the load"
else
  caught_up=-1
  log "the subscribers did not catch up within ${CATCH_UP_BOUND_S}s (verifying anyway)"
fi

"$PYTHON" "$LOAD_PY" outage-verify --url "$TROUPE_URL" --label consumer_outage --store "$STORE" --mode "$MODE" \
  --resources "$WORK/resources.json" --records "$WORK/load.jsonl" --cancels "$WORK/load.jsonl.cancels" \
  --stalls "$WORK"/*.stalls --allowed "$(allowed 201,402,409)" --stopped "$stopped_csv" \
  --outage-from "$outage_from" --outage-to "$outage_to" \
  --snap-stopped "$WORK/subs-stopped.json" --snap-before-start "$WORK/subs-before-start.json" \
  --caught-up-ms "$caught_up" || {
  rc=$?
  [[ $caught_up != -1 ]] || log "FAIL: the subscribers did not catch up within ${CATCH_UP_BOUND_S}s"
  exit "$rc"
}
[[ $caught_up != -1 ]] || fail "the subscribers did not catch up within ${CATCH_UP_BOUND_S}s"
