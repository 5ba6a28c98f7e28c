#!/usr/bin/env bash
# redis_outage.sh — drill: the Redis store freezes, then crashes, under load.
#
# Usage: tests/faults/redis_outage.sh [--short | --long]
#   --short  (default) ~20 s: 14 s of load; Redis frozen 2 s, then kill -9'd
#   --long   60 s of load; Redis frozen at 10 s, kill -9'd at 25 s, frozen
#            again at 45 s
#   env: TROUPE_BIN (default <repo>/build/app/troupe), FAULTS_KEEP=1 keeps logs
#
# What it does: starts its own redis-server (AOF, appendfsync always) and
# troupe over it, registers resources, runs concurrent clients placing orders
# (each request sent once, every answer recorded), and meanwhile:
#   freeze  kill -STOP redis for 2 s, then kill -CONT: troupe must answer the
#           orders started meanwhile fast, with 503 (+Retry-After), not hang;
#   crash   kill -9 redis, 1 s later restart it on the same port and dir (the
#           AOF is replayed): troupe must become ready and take orders again.
# After the load: verification against the running troupe; then troupe is
# stopped (SIGTERM, must exit 0), restarted on the same Redis and verified
# again.
#
# What it checks:
#   lost_acked=0  every order answered 2xx is present and "confirmed" (a 503
#                 may still have been applied: those count neither way)
#   oversold=0    no resource has more confirmed units than its capacity
#   duplicate=0   no orderId was acknowledged twice
#   and: during each freeze, at least one 503 and no 503 slower than 2500 ms;
#   every answer is 201, 409 or 503; nothing held at rest; the books agree
#   with the store; no order left half-done; both verifications pass.
# recovered_in_ms = the longest time from Redis answering PING again (after
# the kill -9) until /health/ready is 200 and a POST /v1/orders gets a 201.
# Prints one summary line on stdout; exit code non-zero if anything broke.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
faults_init redis_outage "$@"

if [[ $MODE == short ]]; then
  DURATION=14; EVENTS=(freeze@2 crash@7)
else
  DURATION=60; EVENTS=(freeze@10 crash@25 freeze@45)
fi
FREEZE_S=2
MAX_503_MS=2500
READY_BOUND_S=30
TROUPE_ARGS=(--payment-latency-ms "1,15")

redis_start
troupe_start
troupe_wait_ready "$READY_BOUND_S" >/dev/null || fail "troupe not ready at start"
register_resources small-1:300 small-2:300 big-1:1000000 big-2:1000000 big-3:1000000
log "troupe on $TROUPE_URL over redis :$REDIS_PORT; ${DURATION}s of load; ${EVENTS[*]}"

load_start --clients 8 --duration "$DURATION" --timeout 5

windows=()     # --window arguments for verify
recovered=0
n=0
for ev in "${EVENTS[@]}"; do
  n=$((n + 1))
  sleep_until_load "${ev#*@}"
  case ${ev%@*} in
    freeze)
      t_stop=$(now_ms)
      redis_pause
      log "redis frozen (kill -STOP)"
      sleep "$FREEZE_S"
      redis_resume
      t_cont=$(now_ms)
      log "redis resumed after $((t_cont - t_stop)) ms"
      windows+=(--window "freeze$n,$t_stop,$t_cont,$MAX_503_MS")
      if ms=$(troupe_wait_ready "$READY_BOUND_S"); then
        log "troupe ready again ${ms} ms after the resume"
      else
        touch "$WORK/stop-load"; summary_unverified
        fail "troupe not ready within ${READY_BOUND_S}s of the resume"
      fi
      ;;
    crash)
      redis_kill9
      log "redis killed (kill -9)"
      sleep 1
      redis_start
      t_back=$(now_ms)
      log "redis restarted on the same dir; waiting for ready + a 201"
      if ! "$PYTHON" "$LOAD_PY" probe-order --url "$TROUPE_URL" --resource big-1 \
          --timeout "$READY_BOUND_S" --out "$WORK/probe.jsonl" >/dev/null; then
        touch "$WORK/stop-load"; summary_unverified
        fail "no order placed within ${READY_BOUND_S}s of Redis coming back"
      fi
      ms=$(( $(now_ms) - t_back ))
      ((ms > recovered)) && recovered=$ms
      log "recovered: ready and a 201 ${ms} ms after Redis was back"
      ;;
  esac
done

load_wait $((DURATION + 30))
log "load done: $(count_lines "$WORK/load.jsonl") requests; verifying (1/2: after recovery)"
ok=0
verify --label "after-recovery" --recovered-ms "$recovered" --summary stderr \
  --result-out "$WORK/verify1.json" --allowed-statuses "$(allowed 201,409,503)" \
  "${windows[@]}" || ok=1

log "restarting troupe (SIGTERM) on the same Redis"
troupe_stop
troupe_start
troupe_wait_ready "$READY_BOUND_S" >/dev/null || { summary_unverified; fail "troupe not ready after the restart"; }
log "verifying (2/2: after the restart)"
verify --label "after-restart" --recovered-ms "$recovered" --combine "$WORK/verify1.json" || ok=1
exit "$ok"
