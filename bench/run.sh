#!/usr/bin/env bash
# bench/run.sh — troupe's benchmark harness: one command, loopback only,
# bounded in time, cleans up after itself, prints one table.
#
# usage: bash bench/run.sh [options]
#   -d SECONDS            wrk duration of one measurement (default 2)
#   -r RUNS               runs per cell; every figure is the median (default 3)
#   -c LIST               concurrencies (default 1,16,64,100); wrk -t1 at c=1, else -t2
#   --only LIST           parts to run, comma-separated (default: all of them)
#       s1      POST /v1/orders on 50 resources, embedded store (fsync per group commit)
#       s1r     the same over Redis (AOF appendfsync always, as the drills);
#               adds Redis commands and read events per order
#       s1k     s1 with an Idempotency-Key on every POST (a key per order), at
#               c=64 only: what a client that makes its retries safe gets
#       s2      GET /v1/orders/{id} and GET /v1/customers/{id}/mypage over
#               2,000 seeded orders of 500 customers (embedded)
#       s3      the seeds' load: payment 400-620 ms, timeout 610 ms, 100 clients:
#               siege -c100 (tx/s, availability), then the same load from
#               bench.py (100 keep-alive clients: p50/p99 of every answer, of the
#               201s and of the 503s)
#       s4      hot spot: one resource with 1,000,000 seats takes every POST;
#               ratio to s1 at the same c (target >= 0.5) and to the ceiling
#       scale   register --scale-resources resources, place --scale-orders
#               orders (embedded): RSS per idle resource, store size, cold start
#       scale-redis   over Redis: register --scale-resources resources (RSS
#               per idle resource), then move the scale part's store (its
#               resources and orders) into an empty Redis with troupe
#               copy-store, cold-start troupe on it and check it; see
#               --scale-redis
#   --s3-seconds S        siege / load duration of one s3 run (default 8; RUNS runs each)
#   --scale-resources N   resources of the scale parts (default 100000)
#   --scale-orders M      orders of the scale parts (default 1000000)
#   --scale-c C           wrk connections of the scale batch client (default 64)
#   --scale-redis MODE    how scale-redis gets its orders: copy (default: the
#                         scale part's store, moved by troupe copy-store; the
#                         orders/s over Redis are s1r's) or http (placed over
#                         HTTP like scale's, ~5-6 min more; also when the scale
#                         part does not run)
#   --scale-timeout S     bound of each scale batch (registering, ordering; default 900);
#                         a batch whose rate cannot make it stops after 60 s
#   --stop-timeout S      how long a scale part waits for troupe to exit after SIGTERM
#                         before SIGKILL (default 120; a warning, not a failure)
#   --max-rss-mib N       stop a scale batch (failing) when troupe's RSS passes N MiB
#                         (default 60 % of the machine's memory)
#   -o FILE               also write the table to FILE
#   --no-build            use the binaries already built in the build dir
#   --keep                keep the temp dir (logs) and print its path
#   -h, --help            this text
# env: BENCH_BUILD_DIR (default build-bench), BENCH_JOBS (build parallelism,
#      default nproc).
#
# Every troupe figure is also a ratio to the ceiling (bench/ceiling.cpp: a
# constant-response cpp-httplib server with troupe's HTTP settings) measured
# in this run with the same wrk settings at the same c (GET ceiling for GET
# scenarios, POST for POST); the ceiling's runs are interleaved with the first
# scenario that needs them. Each scenario runs on a fresh troupe (and Redis);
# afterwards the invariants are checked (/admin/reconcile balanced, no
# violation, nothing half-done or held at rest, nothing oversold, seats sold =
# confirmed orders; after the scale restart every resource and every
# confirmed order is back): a violation fails the run (exit 1) — a fast run
# that is wrong is a failure. Non-2xx answers where none is expected (s1, s2,
# s4, the scale batches) are counted in the table and warned about at the end.
#
# Time budget with the defaults, measured on the 2-core development machine
# in slow hours (runs at 77b4f1a, 10e4848, d28b5c5 and 85376ed: 605, 646, 582
# and 603 s; the machine's noise moves the total by a minute, mostly through
# the 1M orders); in a fast hour (a2aea92, de8db86: 466 and 473 s) the 1M
# orders go at ~8,000-8,500/s and scale takes ~2.7 min:
#   s1 58 s, s1r 34 s, s1k ~15 s, s2 85 s, s3 53 s, s4 32 s   (~4.8 min: 87 wrk runs of 2 s,
#                                                              3 x 2 s3 runs of 8 s)
#   scale ~4-4.5 min (1M orders at ~4,900-5,800/s, check, restart, check)
#   scale-redis ~1.5 min (100,000 registrations; copy-store of the scale
#               part's store, ~40-50 s; cold start, check); with
#               --scale-redis http ~5.5-6.5 min (1M orders at ~2,600-3,400/s)
# Each part's time is printed in the table's "time" line. Shorter:
#   --only s1,s1r,s1k,s2,s3,s4                 ~4.8 min
#   --scale-orders 200000 (and the rest)       ~6.5 min
#   -d 2 -r 1 --s3-seconds 5 --scale-resources 2000 --scale-orders 20000   ~2.5 min (a smoke test)
# The build (if needed) comes on top.
set -euo pipefail
SELF=$(realpath "$0")
cd "$(dirname "$SELF")/.."
REPO=$(pwd)

SECS=2 RUNS=3 CONCS=1,16,64,100 ONLY=s1,s1r,s1k,s2,s3,s4,scale,scale-redis S3_SECS=8
SCALE_RES=100000 SCALE_ORD=1000000 SCALE_C=64 SCALE_TIMEOUT=900 SCALE_REDIS=copy OUT="" BUILD=1 KEEP=0
HOT_CAP=1000000 STOP_TIMEOUT=120 MAX_RSS_MIB=$(awk '/MemTotal/ {printf "%d", $2 * 0.6 / 1024}' /proc/meminfo)
usage() { sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$SELF"; }
while (($#)); do
  case $1 in
    -d) SECS=$2; shift ;;
    -r) RUNS=$2; shift ;;
    -c) CONCS=$2; shift ;;
    -o) OUT=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --s3-seconds) S3_SECS=$2; shift ;;
    --scale-resources) SCALE_RES=$2; shift ;;
    --scale-orders) SCALE_ORD=$2; shift ;;
    --scale-c) SCALE_C=$2; shift ;;
    --scale-redis) SCALE_REDIS=$2; shift ;;
    --scale-timeout) SCALE_TIMEOUT=$2; shift ;;
    --max-rss-mib) MAX_RSS_MIB=$2; shift ;;
    --stop-timeout) STOP_TIMEOUT=$2; shift ;;
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $SCALE_REDIS == copy || $SCALE_REDIS == http ]] || { echo "run.sh: --scale-redis copy|http" >&2; exit 2; }
for p in ${ONLY//,/ }; do
  case $p in s1|s1r|s1k|s2|s3|s4|scale|scale-redis) ;; *) echo "run.sh: unknown part '$p'" >&2; exit 2 ;; esac
done
[[ -n $OUT ]] && OUT=$(realpath -m "$OUT")
wants() { [[ ",$ONLY," == *",$1,"* ]]; }
IFS=, read -r -a CS <<<"$CONCS"
for t in wrk python3 curl; do command -v $t >/dev/null || { echo "run.sh: $t not found" >&2; exit 2; }; done
if wants s3; then command -v siege >/dev/null || { echo "run.sh: siege not found" >&2; exit 2; }; fi
if wants s1r || wants scale-redis; then
  command -v redis-server >/dev/null || { echo "run.sh: redis-server not found" >&2; exit 2; }
fi

# ---------------------------------------------------------------- build
BUILD_DIR=${BENCH_BUILD_DIR:-build-bench}
if ((BUILD)); then
  [[ -f scripts/bootstrap.sh ]] && bash scripts/bootstrap.sh
  # A new build dir is made without the tests; one that exists keeps its
  # settings (BENCH_BUILD_DIR=build used to turn the developer's tests off).
  no_tests=(-DTROUPE_BUILD_TESTS=OFF); [[ -f $BUILD_DIR/CMakeCache.txt ]] && no_tests=()
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${no_tests[@]}" >/dev/null
  cmake --build "$BUILD_DIR" -j"${BENCH_JOBS:-$(nproc)}" --target troupe troupe-ceiling >/dev/null
fi
BIN=$REPO/$BUILD_DIR/app/troupe; CEIL=$REPO/$BUILD_DIR/bench/troupe-ceiling
[[ $BUILD_DIR == /* ]] && { BIN=$BUILD_DIR/app/troupe; CEIL=$BUILD_DIR/bench/troupe-ceiling; }
[[ -x $BIN && -x $CEIL ]] || { echo "run.sh: no binaries in $BUILD_DIR (drop --no-build)" >&2; exit 2; }

# ---------------------------------------------------------------- processes
TMP=$(mktemp -d "${TMPDIR:-/tmp}/troupe-bench.XXXXXX")
SAMPLES=$TMP/samples.tsv NOTES=$TMP/notes.tsv LINES=$TMP/lines.txt META=$TMP/meta.txt
: >"$SAMPLES"; : >"$NOTES"; : >"$LINES"; : >"$TMP/pids"
PY="python3 $REPO/bench/bench.py"
PIDS=() TIMES=()
: >"$TMP/fails"; : >"$TMP/warns"   # files: fail/warn also run in $(...) subshells
T0=$(date +%s%3N) PART=""
log() { printf '[bench %6.1fs] %s\n' "$(( $(date +%s%3N) - T0 ))e-3" "$*" >&2; }

# Every process started here is tracked by PID and start time (field 22 of
# /proc/PID/stat), so that a PID reused by someone else's process after ours
# ended (PIDs wrap around quickly on a busy machine) is never signalled.
declare -A START
pstart() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $20}'; }
ours() { [[ -n ${START[$1]:-} && $(pstart "$1") == "${START[$1]}" ]]; }
track() { START[$1]=$(pstart "$1"); PIDS+=("$1"); echo "$1 ${START[$1]}" >>"$TMP/pids"; }
untrack() { unset "START[$1]"; sed -i "/^$1 /d" "$TMP/pids"; }
# kill_pid PID [GRACE_S]: TERM, up to GRACE_S, then KILL; reaps and untracks it
kill_pid() {
  local pid=$1 grace=${2:-5} i
  if ours "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do ours "$pid" && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    ours "$pid" && kill -9 "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null || true
  untrack "$pid"
}
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  set +e
  for p in "${PIDS[@]}"; do [[ -n ${START[$p]:-} ]] && kill_pid "$p" 5; done
  if ((rc != 0)) && [[ -n $PART ]]; then
    log "exit $rc in part $PART"
    for p in "$TMP"/*/troupe.log; do [[ -f $p ]] && { log "last lines of $p:"; tail -n 15 "$p" >&2; }; done
  fi
  if ((KEEP)); then log "kept $TMP"; else rm -rf "$TMP"; fi
  # (SIGKILL: the watchdog ignores INT and TERM.)
  [[ -n ${WATCHDOG:-} ]] && { kill -9 "$WATCHDOG" 2>/dev/null; wait "$WATCHDOG" 2>/dev/null; }
  exit "$rc"
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT
trap 'log terminated; exit 143' TERM
# if this script is killed with SIGKILL, kill what it started (by PID) and clean up
( trap '' INT TERM; while kill -0 $$ 2>/dev/null; do sleep 1; done
  while read -r p t; do [[ $(pstart "$p") == "$t" ]] && kill -9 "$p"; done <"$TMP/pids"; ((KEEP)) || rm -rf "$TMP"
) </dev/null >/dev/null 2>&1 &
WATCHDOG=$!

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
fail() { echo "$PART: $*" >>"$TMP/fails"; log "FAIL: $*"; }
warn() { echo "$PART: $*" >>"$TMP/warns"; log "WARN: $*"; }
note() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$NOTES"; }
line() { echo "$*" >>"$LINES"; }
part_begin() { PART=$1; PART_T0=$(date +%s); log "== $1"; }
part_end() { TIMES+=("$PART $(( $(date +%s) - PART_T0 )) s"); log "== $PART done in $(( $(date +%s) - PART_T0 )) s"; PART=""; }

CEIL_PORT="" CEIL_URL=""
start_ceiling() {
  [[ -n $CEIL_PORT ]] && return 0
  CEIL_PORT=$(free_port); CEIL_URL=http://127.0.0.1:$CEIL_PORT
  "$CEIL" "$CEIL_PORT" </dev/null >"$TMP/ceiling.log" 2>&1 &
  track $!
  local i; for ((i = 0; i < 100; i++)); do curl -sf -o /dev/null "$CEIL_URL/x" && return 0; sleep 0.05; done
  echo "run.sh: the ceiling did not start" >&2; exit 1
}

REDIS_PORT="" REDIS_PID="" REDIS_DIR=""
start_redis() { # NAME: own redis-server, free port, AOF always (as tests/faults/lib.sh)
  REDIS_PORT=$(free_port); REDIS_DIR=$TMP/$1/redis; mkdir -p "$REDIS_DIR"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" --appendonly yes \
    --appendfsync always --save '' --daemonize no --logfile "$TMP/$1/redis.log" </dev/null >/dev/null 2>&1 &
  REDIS_PID=$!; track "$REDIS_PID"
  local i; for ((i = 0; i < 100; i++)); do
    [[ $(redis-cli -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]] && return 0; sleep 0.05
  done
  echo "run.sh: redis-server did not start" >&2; exit 1
}
stop_redis() { [[ -n $REDIS_PID ]] && kill_pid "$REDIS_PID" 10; REDIS_PID="" REDIS_PORT=""; }

TPID="" TPORT="" TURL="" TARGS=() TNAME=""
# start_troupe NAME [serve args]: on a free port; the embedded store in
# $TMP/NAME/data unless REDIS_PORT is set (then over that Redis)
start_troupe() {
  troupe_args "$@"
  relaunch_troupe
  $PY wait-ready --url "$TURL" --timeout 60 >/dev/null || { echo "run.sh: troupe not ready" >&2; exit 1; }
}
# troupe_args NAME [serve args]: sets TNAME, a free TPORT/TURL and TARGS
# (the same store choice) without starting anything
troupe_args() {
  TNAME=$1; shift; mkdir -p "$TMP/$TNAME"
  TPORT=$(free_port); TURL=http://127.0.0.1:$TPORT
  TARGS=(serve --port "$TPORT" --bind 127.0.0.1 --data-dir "$TMP/$TNAME/data" --log-level warn "$@")
  [[ -n $REDIS_PORT ]] && TARGS+=(--redis "redis://127.0.0.1:$REDIS_PORT")
  return 0
}
relaunch_troupe() {
  echo "=== start $(date -u +%FT%T.%3NZ)" >>"$TMP/$TNAME/troupe.log"
  "$BIN" "${TARGS[@]}" </dev/null >>"$TMP/$TNAME/troupe.log" 2>&1 &
  TPID=$!; track "$TPID"
}
# stop_troupe [BOUND_S]: SIGTERM, bounded; warns unless it exits 0. Sets STOP_S.
stop_troupe() {
  local bound=${1:-60} i rc=0 t0
  t0=$(date +%s%3N)
  kill -TERM "$TPID"
  for ((i = 0; i < bound * 10; i++)); do kill -0 "$TPID" 2>/dev/null || break; sleep 0.1; done
  STOP_S=$(awk -v ms=$(( $(date +%s%3N) - t0 )) 'BEGIN{printf "%.1f s", ms/1000}')
  if kill -0 "$TPID" 2>/dev/null; then
    kill -9 "$TPID"; wait "$TPID" 2>/dev/null || true
    warn "troupe did not exit within ${bound}s of SIGTERM (killed with SIGKILL)"
    STOP_S="> $bound s: not exited, killed with SIGKILL"
  else
    wait "$TPID" || rc=$?
    ((rc == 0)) || warn "troupe exited with $rc after SIGTERM"
  fi
  untrack "$TPID"; TPID=""
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$TPID/status"; }
metric() { $PY metric --url "$TURL" "$@"; }
wait_idle() { $PY wait-idle --url "$TURL" --timeout "${1:-60}" || { fail "subscribers did not catch up"; echo -1; }; }
# check LABEL [check options]: the invariants; a violation fails the run
check() {
  local label=$1 out; shift
  if out=$($PY check --url "$TURL" --label "$label" "$@"); then log "$out"; line "check $out"
  else line "check $out"; fail "invariant violated (see above): $out"; fi
}

# ---------------------------------------------------------------- wrk cells
declare -A CEIL_N
# wrk_run LABEL C RUN URL SCRIPT [VAR=VALUE...]: one wrk run -> a sample line
wrk_run() {
  local label=$1 c=$2 run=$3 url=$4 script=$5 t=2 out bl; shift 5
  ((c == 1)) && t=1
  out=$(env "$@" wrk -t"$t" -c"$c" -d"${SECS}s" --timeout 10s -s "$REPO/bench/$script" "$url" 2>&1) || true
  bl=$(grep '^BENCH ' <<<"$out" || true)
  if [[ -z $bl ]]; then fail "wrk gave no result ($label c=$c): $(tail -n 3 <<<"$out")"; return 0; fi
  printf '%s\t%s\t%s\t%s\n' "$label" "$c" "$run" "$bl" >>"$SAMPLES"
  local non2xx; non2xx=$(sed -n 's/.* status=\([0-9]*\).*/\1/p' <<<"$bl")
  [[ ${non2xx:-0} == 0 ]] || warn "$label c=$c run $run: $non2xx non-2xx answers"
  log "$label c=$c run $run: $(awk '{split($2,a,"=");split($3,b,"="); printf "%.0f req/s", a[2]/(b[2]/1e6)}' <<<"$bl") ($bl)"
}
# measure LABEL METHOD SCRIPT [VAR=VALUE...]: RUNS runs per c on troupe, each
# preceded by one on the ceiling while the ceiling has fewer than RUNS at that
# c and method; waits for the subscribers between runs. Per c, the store's
# work per order (commits, writes; Redis commands) goes into the notes.
measure() {
  local label=$1 method=$2 script=$3 c r k; shift 3
  start_ceiling
  for c in "${CS[@]}"; do
    snap "$TMP/snap-before"
    for ((r = 1; r <= RUNS; r++)); do
      k="$method $c"
      if (( ${CEIL_N[$k]:-0} < RUNS )); then
        wrk_run "ceiling-$method" "$c" "${CEIL_N[$k]:-0}" "$CEIL_URL/" "$script" "$@"
        CEIL_N[$k]=$(( ${CEIL_N[$k]:-0} + 1 ))
      fi
      wrk_run "$label" "$c" "$r" "$TURL/" "$script" "$@"
      CATCHUP=$(wait_idle 120)
    done
    snap "$TMP/snap-after"
    [[ $method == POST ]] && note "$label" "$c" "$(per_order "$TMP/snap-before" "$TMP/snap-after")"
    # the subscribers' lag after the last run (shown when they fell behind)
    if awk -v s="$CATCHUP" 'BEGIN{exit !(s > 0.1)}'; then note "$label" "$c" "subscribers caught up ${CATCHUP}s after the run"; fi
  done
}
# snap FILE: troupe's orders placed, store commits and writes (+ Redis INFO)
snap() {
  metric troupe_orders_placed_total troupe_store_commits_total troupe_store_writes_total | paste -sd' ' >"$1.m"
  if [[ -n $REDIS_PORT ]]; then $PY redis-info --port "$REDIS_PORT" >"$1.r"; else rm -f "$1.r"; fi
}
per_order() {
  local o c w o2 c2 w2 n
  read -r o c w <"$1.m"; read -r o2 c2 w2 <"$2.m"; n=$((o2 - o))
  ((n > 0)) || { echo "no orders"; return; }
  awk -v n=$n -v c=$((c2 - c)) -v w=$((w2 - w)) 'BEGIN{printf "commits/order %.3f, writes/order %.1f", c/n, w/n}'
  if [[ -f $1.r && -f $2.r ]]; then printf '; %s' "$($PY redis-delta --before "$1.r" --after "$2.r" --orders "$n")"; fi
}

# ---------------------------------------------------------------- header
{
  echo "troupe benchmark $(date -u +%FT%TZ)  commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(
    n=$(git status --porcelain 2>/dev/null | grep -cv '^??' || true); ((n == 0)) || echo " (work tree: $n modified files)")"
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); load before:$(uptime | sed 's/.*load average://')"
  echo "settings: wrk -d ${SECS}s --timeout 10s, -t1 at c=1 else -t2, keep-alive; median of $RUNS runs; parts $ONLY"
  echo "figures: req/s, p50, p99 (wrk); ratio = req/s / the ceiling's at the same c (s3: / what 100 clients can do)"
} >"$META"
log "temp dir $TMP; troupe $BIN"

# ---------------------------------------------------------------- s1, s1r
scenario_orders() { # LABEL: POST /v1/orders on 50 ample resources
  local label=$1
  start_troupe "$label"
  $PY register --url "$TURL" --prefix bench- --count 50 --capacity 1000000000 --price 100
  wait_idle >/dev/null
  measure "$label" POST orders.lua PREFIX=bench- RESOURCES=50
  check "$label"
  stop_troupe
}
if wants s1; then part_begin s1; scenario_orders s1; part_end; fi
if wants s1r; then part_begin s1r; start_redis s1r; scenario_orders s1r; stop_redis; part_end; fi
if wants s1k; then
  part_begin s1k
  start_troupe s1k
  $PY register --url "$TURL" --prefix bench- --count 50 --capacity 1000000000 --price 100
  wait_idle >/dev/null
  ALL_CS=("${CS[@]}"); CS=(64)
  measure s1k POST orders.lua PREFIX=bench- RESOURCES=50 KEYED=1
  CS=("${ALL_CS[@]}")
  check s1k
  stop_troupe
  part_end
fi

# ---------------------------------------------------------------- s2
if wants s2; then
  part_begin s2
  start_troupe s2
  $PY register --url "$TURL" --prefix bench- --count 50 --capacity 1000000000 --price 100
  t0=$(date +%s%3N)
  if $PY seed --url "$TURL" --prefix bench- --resources 50 --orders 2000 --customers 500 \
    --orders-out "$TMP/s2/orders.paths" --mypage-out "$TMP/s2/mypage.paths"; then
    log "seeded 2000 orders in $(( $(date +%s%3N) - t0 )) ms"
    wait_idle >/dev/null
    measure s2o GET get.lua PATHS="$TMP/s2/orders.paths"
    measure s2m GET get.lua PATHS="$TMP/s2/mypage.paths"
  else
    fail "seeding failed"
  fi
  [[ -s $TMP/s2/orders.paths ]] && line "s2: 2,000 orders of 500 customers (4 orders per page); the ceiling answers ~740 bytes, an order ~$(
    curl -s "$TURL$(head -n1 "$TMP/s2/orders.paths")" | wc -c) bytes, a page ~$(curl -s "$TURL$(head -n1 "$TMP/s2/mypage.paths")" | wc -c) bytes"
  check s2
  stop_troupe
  part_end
fi

# ---------------------------------------------------------------- s3
if wants s3; then
  part_begin s3
  start_troupe s3 --payment-latency-ms 400,620 --payment-timeout-ms 610
  $PY register --url "$TURL" --prefix bench- --count 50 --capacity 1000000000 --price 100
  for i in $(seq 0 999); do
    echo "$TURL/v1/orders POST {\"resourceId\":\"bench-$((i % 50 + 1))\",\"customerId\":\"c-$i\",\"quantity\":1}"
  done >"$TMP/s3/urls"
  mkdir -p "$TMP/s3/home"
  cat >"$TMP/s3/siegerc" <<EOF
verbose = false
quiet = true
json_output = true
show-logfile = false
logging = false
parser = false
protocol = HTTP/1.1
connection = keep-alive
delay = 0
internet = true
benchmark = true
limit = 255
failures = 1000000000
EOF
  codes() {
    $PY metric --url "$TURL" 'troupe_http_responses_total{code="201"}' 'troupe_http_responses_total{code="503"}' \
      troupe_payment_calls_total troupe_payment_failures_total troupe_payment_breaker_transitions_total | paste -sd' '
  }
  read -r ok0 u0 pc0 pf0 bt0 <<<"$(codes)"
  for ((r = 1; r <= RUNS; r++)); do
    # siege: its own HOME (it writes ~/.siege and says so on stdout, before
    # the JSON), bounded by -t and by timeout; 503s count as failed
    # transactions. timeout -k: siege 4.0.7 can hang at its end with SIGTERM
    # blocked (seen once: futex-waiting 8 minutes after -t10S), so SIGKILL
    # follows 5 s later; a run that left no result is made once more.
    for attempt in 1 2; do
      if HOME=$TMP/s3/home timeout -k 5 $((S3_SECS + 20)) siege -R "$TMP/s3/siegerc" -f "$TMP/s3/urls" -c100 \
        -t"${S3_SECS}S" -T application/json -j >"$TMP/s3/siege-$r.json" 2>"$TMP/s3/siege-$r.err"; then break; fi
      if grep -q '{' "$TMP/s3/siege-$r.json"; then warn "siege exited non-zero"; break; fi
      warn "siege run $r left no result (attempt $attempt; hung or failed, ended by timeout): $(head -c 200 "$TMP/s3/siege-$r.err")"
      wait_idle >/dev/null
    done
    python3 -c 'import json,sys; t=open(sys.argv[1]).read(); j=json.loads(t[t.index("{"):]); print(j["transaction_rate"], j["availability"], j["successful_transactions"]/max(j["elapsed_time"],1e-9), j["response_time"], j["failed_transactions"])' \
      "$TMP/s3/siege-$r.json" >>"$TMP/s3/siege.tsv" || fail "no siege result: $(head -c 300 "$TMP/s3/siege-$r.err")"
    log "siege run $r: $(tail -n1 "$TMP/s3/siege.tsv") (tx/s availability ok/s mean-s failed)"
    [[ $(tail -n1 "$TMP/s3/siege.tsv") == "0.0 0.0 "* ]] && warn "siege made no transaction: $(tr '\n' ' ' <"$TMP/s3/siege-$r.json" | head -c 400)"
    wait_idle >/dev/null
    # the same load from a client that records every answer's latency and
    # status (siege gives no percentiles; wrk's mix 201s and fast 503s)
    bl=$($PY load --url "$TURL" --clients 100 --duration "$S3_SECS" --resources 50 --prefix bench-)
    printf '%s\t%s\t%s\t%s\n' s3 100 "$r" "$bl" >>"$SAMPLES"
    log "s3 load run $r: $bl"
    wait_idle >/dev/null
  done
  read -r ok1 u1 pc1 pf1 bt1 <<<"$(codes)"
  # the median of each column over the runs
  read -r tx av okps rt failed <<<"$(python3 -c 'import sys,statistics as s
rows=[l.split() for l in open(sys.argv[1]) if l.strip()]
print(" ".join("%g" % s.median(float(r[i]) for r in rows) for i in range(5)))' "$TMP/s3/siege.tsv")"
  # 100 clients at the mean gateway latency (uniform 400-620 ms: 510 ms)
  can=$(awk 'BEGIN{printf "%.1f", 100/0.510}')
  line "s3 siege -c100 -t${S3_SECS}S keep-alive, median of $RUNS: $tx tx/s (siege's transactions are the 2xx; a 503 is a failed one: $failed), availability $av %, mean response ${rt} s; 100 clients at 510 ms can do $can tx/s -> ratio $(awk -v a="$tx" -v b="$can" 'BEGIN{printf "%.2f", a/b}')"
  line "s3 answers during s3 (troupe /metrics): 201 $((ok1 - ok0)), 503 $((u1 - u0)) ($(awk -v a=$((u1 - u0)) -v b=$((ok1 - ok0 + u1 - u0)) 'BEGIN{printf "%.1f", b ? 100*a/b : 0}') % 503); payment calls $((pc1 - pc0)), failures (timeouts) $((pf1 - pf0)), breaker transitions $((bt1 - bt0))"
  check s3
  stop_troupe
  part_end
fi

# ---------------------------------------------------------------- s4
if wants s4; then
  part_begin s4
  start_troupe s4
  $PY register --url "$TURL" --prefix hot- --count 1 --capacity "$HOT_CAP" --price 100
  wait_idle >/dev/null
  measure s4 POST orders.lua PREFIX=hot- RESOURCES=1
  check s4
  stop_troupe
  part_end
fi

# ---------------------------------------------------------------- scale
# batch KIND COUNT METRIC [VAR=VALUE...]: the bounded wrk batch client until
# troupe's METRIC reaches COUNT (or --scale-timeout); sets BATCH_S
batch() {
  local kind=$1 count=$2 m=$3 wpid t0 v=0 last=0 now prev=-1 moved; shift 3
  t0=$(date +%s%3N); moved=$t0
  env KIND="$kind" COUNT="$count" THREADS=2 "$@" wrk -t2 -c"$SCALE_C" -d"${SCALE_TIMEOUT}s" --timeout 10s \
    -s "$REPO/bench/batch.lua" "$TURL/" >"$TMP/$TNAME/batch-$kind.out" 2>&1 &
  wpid=$!; track "$wpid"
  while kill -0 "$wpid" 2>/dev/null; do
    sleep 0.5
    v=$(metric "$m" || echo 0)
    ((v >= count)) && break
    now=$(date +%s%3N)
    if ((v != prev)); then prev=$v moved=$now
    elif ((now - moved > 60000)); then log "$kind: no progress for 60 s"; break; fi
    if (( $(rss_kib) > MAX_RSS_MIB * 1024 )); then log "$kind: troupe's RSS passed --max-rss-mib $MAX_RSS_MIB"; break; fi
    # at this rate the rest would not fit in the bound: stop now, not after it
    if ((now - t0 > 60000 && v > 0 && (now - t0) / 1000 * count / v > SCALE_TIMEOUT)); then
      log "$kind: $v of $count in $(( (now - t0) / 1000 )) s: at this rate all would take $(( (now - t0) / 1000 * count / v )) s > --scale-timeout $SCALE_TIMEOUT"
      break
    fi
    if ((now - last >= 15000)); then
      last=$now; log "$kind: $v of $count ($(awk -v v="$v" -v ms=$((now - t0)) 'BEGIN{printf "%.0f/s", v*1000/ms}'), RSS $(( $(rss_kib) / 1024 )) MiB)"
    fi
  done
  BATCH_S=$(awk -v ms=$(( $(date +%s%3N) - t0 )) 'BEGIN{printf "%.1f", ms/1000}')
  sleep 0.5            # the last answers
  kill -INT "$wpid" 2>/dev/null || true; wait "$wpid" 2>/dev/null || true; untrack "$wpid"
  grep '^BATCH' "$TMP/$TNAME/batch-$kind.out" | sed "s/^/  $kind /" >&2 || true
  if ((v < count)); then
    fail "$kind: only $v of $count after ${BATCH_S}s (bounds: --scale-timeout $SCALE_TIMEOUT, also when the rate makes it unreachable after 60 s; --max-rss-mib $MAX_RSS_MIB; 60 s without progress: lost requests are not resent)"
    return 1
  fi
  # not a failure by itself (a 503 under overload is an answer, and the
  # invariants are checked afterwards), but shown
  BATCH_FAILED=$(sed -n -e 's/^BATCH.*failed=0 .*/0/p' -e 's/^BATCH.*failed=\([1-9][0-9]*\) codes=\(.*\)/\1 (\2)/p' "$TMP/$TNAME/batch-$kind.out")
  [[ ${BATCH_FAILED:-0} == 0 ]] || warn "$kind: ${BATCH_FAILED} answers were not 201"
  return 0
}
store_size() { # -> "N bytes (what)"
  if [[ -n $REDIS_PORT ]]; then
    $PY redis-info --port "$REDIS_PORT" | python3 -c 'import json,sys; j=json.load(sys.stdin); print("Redis used_memory %.1f MiB (%d keys)," % (j["used_memory"]/1048576, j.get("keys",0)), end=" ")'
    du -sb "$REDIS_DIR" | awk '{printf "AOF %.1f MiB\n", $1/1048576}'
  else
    du -sb "$TMP/$TNAME/data" | awk '{printf "data dir %.1f MiB\n", $1/1048576}'
  fi
}
# cold_start LABEL N M: (re)launches troupe with TARGS and times it to
# /health/ready (sets READY, s, and RSS3, KiB); then everything must be back:
# N resources and M confirmed orders (from the store: orders at rest have no
# actor until used), checked as LABEL.
cold_start() {
  local label=$1 n=$2 m=$3 launch
  launch=$(date +%s%3N)
  relaunch_troupe
  if $PY wait-ready --url "$TURL" --timeout 900 >/dev/null; then
    READY=$(awk -v ms=$(( $(date +%s%3N) - launch )) 'BEGIN{printf "%.2f", ms/1000}')
    RSS3=$(rss_kib)
    check "$label" --timeout 300 --expect-resources "$n" --expect-confirmed "$m"
  else
    fail "$label: not ready within 900 s"; READY="> 900" RSS3="?"
  fi
}
# register_idle NAME N CAP: a fresh troupe (on REDIS_PORT's Redis when set)
# registers N resources of capacity CAP with the batch client; sets RSS0 and
# RSS1 (KiB, before and after, once idle), REG_S and SIZE1. 1 if it failed.
register_idle() {
  local name=$1 n=$2 cap=$3
  start_troupe "$name"
  wait_idle >/dev/null; sleep 1
  RSS0=$(rss_kib)
  batch resources "$n" troupe_resources PREFIX=s- CAPACITY="$cap" || return 1
  REG_S=$BATCH_S
  wait_idle 300 >/dev/null; sleep 2
  RSS1=$(rss_kib); SIZE1=$(store_size)
  log "$n resources in ${REG_S}s; RSS $RSS0 -> $RSS1 KiB; store $SIZE1"
}
scale() { # NAME
  local name=$1 n=$SCALE_RES m=$SCALE_ORD cap cust rss2 size2
  cap=$(( (m + n - 1) / n * 2 )); ((cap < 100)) && cap=100
  cust=$(( m / 10 )); ((cust < 1)) && cust=1
  [[ $name == scale-redis ]] && start_redis "$name"
  register_idle "$name" "$n" "$cap" || { stop_troupe; stop_redis; return 0; }
  local rss0=$RSS0 rss1=$RSS1 reg_s=$REG_S size1=$SIZE1
  batch orders "$m" troupe_orders_placed_total PREFIX=s- RESOURCES="$n" CUSTOMERS="$cust" || { stop_troupe; stop_redis; return 0; }
  local ord_s=$BATCH_S ord_failed=${BATCH_FAILED:-0} catch
  catch=$(wait_idle 900)
  rss2=$(rss_kib)
  check "$name" --timeout 300 --expect-resources "$n"
  size2=$(store_size)
  stop_troupe "$STOP_TIMEOUT"
  local stop_s=$STOP_S
  cold_start "$name after the restart" "$n" "$m"
  local ready=$READY rss3=$RSS3
  line "$name: $n resources (capacity $cap) registered in ${reg_s}s ($(awk -v a="$n" -v s="$reg_s" 'BEGIN{printf "%.0f/s", a/s}')); $m orders of $cust customers (wrk -c$SCALE_C) in ${ord_s}s ($(awk -v a="$m" -v s="$ord_s" 'BEGIN{printf "%.0f/s", a/s}'); not 201: $ord_failed), subscribers caught up ${catch}s later"
  line "$name: RSS idle $rss0 KiB -> $rss1 KiB with the resources ($(awk -v a="$rss0" -v b="$rss1" -v n="$n" 'BEGIN{printf "%.2f KiB per idle resource", (b-a)/n}')) -> $rss2 KiB after the orders ($(awk -v a="$rss1" -v b="$rss2" -v n="$m" 'BEGIN{printf "%.2f KiB per order", (b-a)/n}')) -> $rss3 KiB after the restart"
  line "$name: store $size1 with the resources, $size2 after the orders"
  line "$name: SIGTERM to exit: ${stop_s}; cold start (process start to /health/ready 200) ${ready}s"
  kill_pid "$TPID" 10; TPID=""     # done: no need to wait for a drain again
  [[ $name == scale-redis ]] && stop_redis
  return 0
}
# scale_redis_copy: RSS per idle resource on Redis (registering N resources
# over HTTP, as in scale), then the scale part's store (its N resources and
# M orders) moved into a second, empty Redis by troupe copy-store, and troupe
# cold-started on that copy and checked (every resource, every confirmed
# order, money reconciled with the same simulated gateway's journal).
scale_redis_copy() {
  local name=scale-redis n=$SCALE_RES m=$SCALE_ORD cap size2 t0 copy_s
  cap=$(( (m + n - 1) / n * 2 )); ((cap < 100)) && cap=100
  start_redis "$name"
  register_idle "$name" "$n" "$cap" || { stop_troupe; stop_redis; return 0; }
  local rss0=$RSS0 rss1=$RSS1 reg_s=$REG_S size1=$SIZE1
  stop_troupe; stop_redis
  # the scale part's store (troupe has stopped: the data dir is free)
  start_redis "$name-copy"
  t0=$(date +%s%3N)
  if ! "$BIN" copy-store "redis://127.0.0.1:$REDIS_PORT" --data-dir "$TMP/scale/data" \
    </dev/null >"$TMP/$name-copy/copy.log" 2>&1; then
    fail "copy-store failed: $(tail -n 3 "$TMP/$name-copy/copy.log")"; stop_redis; return 0
  fi
  copy_s=$(awk -v ms=$(( $(date +%s%3N) - t0 )) 'BEGIN{printf "%.1f", ms/1000}')
  log "$(tail -n 1 "$TMP/$name-copy/copy.log")"
  size2=$(store_size)
  troupe_args "$name" --gateway-journal "$TMP/scale/data/gateway.journal"
  cold_start "$name after the copy and a cold start" "$n" "$m"
  local ready=$READY rss3=$RSS3
  line "$name: $n resources (capacity $cap) registered in ${reg_s}s ($(awk -v a="$n" -v s="$reg_s" 'BEGIN{printf "%.0f/s", a/s}')); RSS idle $rss0 KiB -> $rss1 KiB ($(awk -v a="$rss0" -v b="$rss1" -v n="$n" 'BEGIN{printf "%.2f KiB per idle resource", (b-a)/n}')); store $size1"
  line "$name: the scale part's $n resources and $m orders moved to an empty Redis by troupe copy-store in ${copy_s}s ($(sed -n 's/.*copied \([0-9]*\) records and \([0-9]*\) event-log.*/\1 records, \2 log entries/p' "$TMP/$name-copy/copy.log")): store $size2"
  line "$name: cold start on the copy (process start to /health/ready 200) ${ready}s; RSS $rss3 KiB"
  kill_pid "$TPID" 10; TPID=""
  stop_redis
  return 0
}
if wants scale; then part_begin scale; scale scale; part_end; fi
if wants scale-redis; then
  part_begin scale-redis
  if [[ $SCALE_REDIS == copy && -d $TMP/scale/data ]]; then scale_redis_copy
  else
    [[ $SCALE_REDIS == copy ]] && log "scale-redis: no scale part ran to copy from: its orders are placed over HTTP"
    scale scale-redis
  fi
  part_end
fi

# ---------------------------------------------------------------- table
line "time: $(IFS=,; echo "${TIMES[*]}" | sed 's/,/, /g'); total $(( ($(date +%s%3N) - T0) / 1000 )) s"
line "load after:$(uptime | sed 's/.*load average://')"
sed 's/^/WARNING /' "$TMP/warns" >>"$LINES"
sed 's/^/FAILED /' "$TMP/fails" >>"$LINES"
echo >&2
$PY report --samples "$SAMPLES" --notes "$NOTES" --lines "$LINES" --meta "$META" ${OUT:+--out "$OUT"}
if [[ -s $TMP/fails ]]; then
  echo "run.sh: FAILED ($(wc -l <"$TMP/fails")): a fast run that is wrong counts as a failure" >&2
  exit 1
fi
