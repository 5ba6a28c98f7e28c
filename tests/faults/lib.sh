# shellcheck shell=bash
# tests/faults/lib.sh — shared helpers of the fault-injection drills.
#
# Source it from a drill script, then call `faults_init <name> "$@"`:
#
#   source "$(dirname "$0")/lib.sh"
#   faults_init kill9_troupe "$@"      # parses --short/--long[/--redis], temp dir, traps
#   redis_start                         # own redis-server: free port, temp dir, AOF always
#                                       # (or store_start: Redis only if --redis was given)
#   troupe_start                        # troupe on a free port over that Redis (embedded
#                                       # store in $WORK/troupe-data if no Redis was started)
#   troupe_wait_ready 30 || fail ...    # prints ms, bounded
#   register_resources show-1:100 ...   # -> $WORK/resources.json
#   load_start --clients 8 --duration 12
#   ...inject the fault...
#   load_wait
#   verify ...                          # prints the summary line, sets the exit code
#
# Everything listens on 127.0.0.1 only. Every process started here is
# remembered by PID; the EXIT trap (also run on Ctrl-C, SIGTERM and any
# failure) kills exactly those PIDs — never by name — and removes the temp
# dir (FAULTS_KEEP=1 keeps it, for post-mortems). A watchdog does the same if
# the script itself is killed with SIGKILL.
#
# Environment:
#   TROUPE_BIN     the troupe binary (default <repo>/build/app/troupe)
#   REDIS_SERVER   the redis-server binary (default: redis-server on PATH)
#   FAULTS_KEEP=1  keep the temp dir (logs, records) after the run
#   FAULTS_TROUPE_ARGS  extra arguments for `troupe serve`
#   FAULTS_EXTRA_STATUSES  answers to tolerate besides the drill's own list
#                  (e.g. 400 while a known server bug is open); see allowed()

set -euo pipefail

FAULTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$FAULTS_DIR/../.." && pwd)
TROUPE_BIN=${TROUPE_BIN:-$REPO_DIR/build/app/troupe}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
PYTHON=${PYTHON:-python3}
LOAD_PY="$FAULTS_DIR/load.py"

DRILL=""            # the drill's name
MODE="short"        # short | long
STORE="embedded"    # embedded | redis (--redis): for drills that call store_start
WORK=""             # temp dir of this run
REDIS_PID="" REDIS_PORT="" REDIS_DIR=""
TROUPE_PID="" TROUPE_PORT="" TROUPE_URL=""
TROUPE_ARGS=()      # extra `troupe serve` arguments set by the drill
LOAD_PID="" LOAD_T0_MS=0
EXTRA_PIDS=()       # other helpers (crash loop, ...)
WATCHDOG_PID=""
T0_MS=0

now_ms() { date +%s%3N; }

# log MESSAGE...: progress on stderr (stdout carries only the summary line)
log() { printf '[%s %6.1fs] %s\n' "$DRILL" "$(( $(now_ms) - T0_MS ))e-3" "$*" >&2; }

usage_from_header() {
  # the script's header comment (lines starting with '#', after the shebang)
  sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
}

# faults_init NAME "$@": parse --short/--long/--help, make the temp dir, set traps.
faults_init() {
  DRILL=$1; shift
  T0_MS=$(now_ms)
  while (($#)); do
    case $1 in
      --short) MODE=short ;;
      --long) MODE=long ;;
      --redis) STORE=redis ;;
      -h|--help) usage_from_header; exit 0 ;;
      *) echo "$DRILL: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
  done
  [[ -x $TROUPE_BIN ]] || { echo "$DRILL: no troupe binary at $TROUPE_BIN (set TROUPE_BIN)" >&2; exit 2; }
  command -v "$REDIS_SERVER" >/dev/null || { echo "$DRILL: $REDIS_SERVER not found" >&2; exit 2; }
  command -v "$PYTHON" >/dev/null || { echo "$DRILL: $PYTHON not found" >&2; exit 2; }
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/troupe-fault-$DRILL.XXXXXX")
  : >"$WORK/pids"
  trap faults_cleanup EXIT
  trap 'log "interrupted"; exit 130' INT
  trap 'log "terminated"; exit 143' TERM
  start_watchdog
  log "mode=$MODE store=$STORE work=$WORK troupe=$TROUPE_BIN"
}

# Remember a PID (for the watchdog; the trap uses the variables).
track_pid() { echo "$1" >>"$WORK/pids"; }

# If this script dies without running its trap (SIGKILL), kill what it started.
start_watchdog() {
  local parent=$$ work=$WORK keep=${FAULTS_KEEP:-0}
  (
    trap '' INT
    while kill -0 "$parent" 2>/dev/null; do sleep 1; done
    if [[ -f $work/pids ]]; then
      while read -r p; do kill -CONT "$p" 2>/dev/null || true; kill -9 "$p" 2>/dev/null || true; done <"$work/pids"
    fi
    [[ $keep == 1 ]] || rm -rf "$work"
  ) </dev/null >/dev/null 2>&1 &
  WATCHDOG_PID=$!
}

# kill_pid PID [GRACE_S]: TERM, wait up to GRACE_S, then KILL; reaps it.
kill_pid() {
  local pid=$1 grace=${2:-3} i
  [[ -n $pid ]] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -CONT "$pid" 2>/dev/null || true    # a stopped process cannot act on TERM
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

faults_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  [[ -n $LOAD_PID ]] && kill_pid "$LOAD_PID" 2
  local p
  for p in "${EXTRA_PIDS[@]}"; do kill_pid "$p" 2; done
  [[ -n $TROUPE_PID ]] && kill_pid "$TROUPE_PID" 5
  [[ -n $REDIS_PID ]] && kill_pid "$REDIS_PID" 3
  if ((rc != 0)) && [[ -n $WORK && -f $WORK/troupe.log ]]; then
    log "exit code $rc; last lines of the troupe log:"
    tail -n 25 "$WORK/troupe.log" | sed 's/^/    /' >&2
  fi
  if [[ -n $WORK ]]; then
    if [[ ${FAULTS_KEEP:-0} == 1 ]]; then
      log "kept $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
  [[ -n $WATCHDOG_PID ]] && { kill "$WATCHDOG_PID" 2>/dev/null; wait "$WATCHDOG_PID" 2>/dev/null; }
  exit "$rc"
}

# fail MESSAGE: log and exit 1 (the trap cleans up)
fail() { log "FAIL: $*"; exit 1; }

# free_port: a TCP port free on 127.0.0.1 right now
free_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# ---------------------------------------------------------------- Redis

redis_ping() {
  # PING with a 1 s bound (a stopped Redis accepts the connection but never answers)
  timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT && printf 'PING\r\n' >&3 && read -r -t 1 line <&3 && [[ \$line == +PONG* ]]" 2>/dev/null
}

# redis_start: first start picks a free port and a temp dir; later calls
# (after redis_kill9) reuse both, so the AOF is replayed.
redis_start() {
  if [[ -z $REDIS_PORT ]]; then
    REDIS_PORT=$(free_port)
    REDIS_DIR=$WORK/redis
    mkdir -p "$REDIS_DIR"
  fi
  "$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" \
    --appendonly yes --appendfsync always --save '' --daemonize no \
    --logfile "$WORK/redis.log" </dev/null >/dev/null 2>&1 &
  REDIS_PID=$!
  track_pid "$REDIS_PID"
  local i
  for ((i = 0; i < 100; i++)); do
    redis_ping && return 0
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.05
  done
  tail -n 20 "$WORK/redis.log" >&2 2>/dev/null || true
  fail "redis-server did not answer PING on port $REDIS_PORT"
}

# store_start: the drill's store: its own Redis with --redis, else nothing to
# start (troupe_start then uses the embedded store in $WORK/troupe-data).
store_start() { [[ $STORE != redis ]] || redis_start; }

redis_kill9() { kill -9 "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true; REDIS_PID=""; }
redis_pause() { kill -STOP "$REDIS_PID"; }
redis_resume() { kill -CONT "$REDIS_PID"; }

# ---------------------------------------------------------------- troupe

# troupe_start: first start picks a free port; restarts reuse it. Over the
# drill's Redis if one was started, else on the embedded store ($WORK/troupe-data,
# kept across restarts; the gateway journal lives there too).
troupe_start() {
  [[ -n $TROUPE_PORT ]] || TROUPE_PORT=$(free_port)
  TROUPE_URL=http://127.0.0.1:$TROUPE_PORT
  local store=()
  [[ -z $REDIS_PORT ]] || store=(--redis "redis://127.0.0.1:$REDIS_PORT")
  echo "=== start $(date -u +%FT%T.%3NZ) ===" >>"$WORK/troupe.log"
  # FAULTS_TROUPE_ARGS is split into words on purpose
  # shellcheck disable=SC2086
  "$TROUPE_BIN" serve --port "$TROUPE_PORT" --bind 127.0.0.1 \
    "${store[@]}" --enable-faults --data-dir "$WORK/troupe-data" \
    "${TROUPE_ARGS[@]}" ${FAULTS_TROUPE_ARGS:-} </dev/null >>"$WORK/troupe.log" 2>&1 &
  TROUPE_PID=$!
  track_pid "$TROUPE_PID"
}

# troupe_wait_ready TIMEOUT_S: prints the ms until /health/ready was 200.
troupe_wait_ready() {
  "$PYTHON" "$LOAD_PY" wait-ready --url "$TROUPE_URL" --timeout "${1:-30}"
}

troupe_kill9() { kill -9 "$TROUPE_PID"; wait "$TROUPE_PID" 2>/dev/null || true; TROUPE_PID=""; }

# troupe_stop: graceful (SIGTERM); fails if it does not exit 0 within 15 s.
troupe_stop() {
  local pid=$TROUPE_PID i rc=0
  kill -TERM "$pid"
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"; wait "$pid" 2>/dev/null || true; TROUPE_PID=""
    fail "troupe did not exit within 15 s of SIGTERM"
  fi
  wait "$pid" || rc=$?
  TROUPE_PID=""
  ((rc == 0)) || fail "troupe exited with $rc after SIGTERM"
}

# register_resources ID:CAPACITY...: capacity resources; list in $WORK/resources.json
register_resources() {
  "$PYTHON" "$LOAD_PY" register --url "$TROUPE_URL" --out "$WORK/resources.json" "$@" ||
    fail "could not register the resources"
}

# get PATH: GET PATH on troupe, the body on stdout
get() { "$PYTHON" "$LOAD_PY" get --url "$TROUPE_URL" --path "$1"; }
# fault JSON: POST /admin/faults JSON (fails the drill when refused)
fault() { "$PYTHON" "$LOAD_PY" fault --url "$TROUPE_URL" "$1" || fail "POST /admin/faults $1 failed"; }

# register_overload_resources SMALL: the overload drills' mix — 40 resources
# with ample capacity and 4 that sell out at SMALL units
register_overload_resources() {
  local specs=() i
  for i in $(seq -w 1 40); do specs+=("big-$i:1000000"); done
  for i in 1 2 3 4; do specs+=("small-$i:$1"); done
  register_resources "${specs[@]}"
}

# ---------------------------------------------------------------- load

# load_start [load.py run options]: background load; records in $WORK/load.jsonl
load_start() {
  "$PYTHON" "$LOAD_PY" run --url "$TROUPE_URL" --resources "$WORK/resources.json" \
    --out "$WORK/load.jsonl" --stop-file "$WORK/stop-load" "$@" </dev/null &
  LOAD_PID=$!
  LOAD_T0_MS=$(now_ms)
  track_pid "$LOAD_PID"
}

# load_wait [BOUND_S]: wait for the load driver to stop by itself
load_wait() {
  local bound=${1:-120} i
  for ((i = 0; i < bound * 10; i++)); do
    kill -0 "$LOAD_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$LOAD_PID" 2>/dev/null; then
    kill_pid "$LOAD_PID" 2; LOAD_PID=""
    fail "the load driver did not stop within ${bound}s"
  fi
  wait "$LOAD_PID" || fail "the load driver failed"
  LOAD_PID=""
}

# load_stop: ask the load driver to stop now, and wait for it
load_stop() { touch "$WORK/stop-load"; load_wait 30; }

# count_lines FILE
count_lines() { [[ -f $1 ]] && wc -l <"$1" || echo 0; }

# ---------------------------------------------------------------- verify

# verify [load.py verify options]: check the invariants over every record
# file in $WORK (*.jsonl) against the running troupe and its Redis. Prints the
# summary line (on stdout unless --summary stderr) and returns its status.
# Without a Redis (embedded store) there is no store cross-check.
verify() {
  local redis=()
  [[ -z $REDIS_PORT ]] || redis=(--redis "$REDIS_PORT")
  "$PYTHON" "$LOAD_PY" verify --url "$TROUPE_URL" --resources "$WORK/resources.json" \
    "${redis[@]}" --records "$WORK"/*.jsonl --stalls "$WORK"/*.stalls "$@"
}

# allowed LIST: the answers a drill accepts for a valid order (load.py verify
# --allowed-statuses: HTTP codes, 'conn' = refused/reset, 'timeout'), plus
# $FAULTS_EXTRA_STATUSES.
allowed() {
  local s=$1
  [[ -z ${FAULTS_EXTRA_STATUSES:-} ]] || s+=",$FAULTS_EXTRA_STATUSES"
  echo "$s"
}

# sleep_until_load S: sleep until S seconds after $LOAD_T0_MS (set by load_start)
sleep_until_load() {
  local ms=$(( $1 * 1000 - ($(now_ms) - LOAD_T0_MS) ))
  if ((ms > 0)); then sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"; fi
}

# kill9_restart_at S...: during the load, at each S seconds kill -9 troupe and
# start it again on the same data; fails (after the unverified summary) when
# it is not ready within $READY_BOUND_S. Sets RECOVERED_MS = the longest
# restart-to-ready time.
kill9_restart_at() {
  local at before t_restart ms
  RECOVERED_MS=0
  for at in "$@"; do
    sleep_until_load "$at"
    before=$(count_lines "$WORK/load.jsonl")
    troupe_kill9
    log "kill -9 troupe after $before requests"
    sleep 0.3                         # the clients see refused connections
    troupe_start
    t_restart=$(now_ms)
    if ! troupe_wait_ready "$READY_BOUND_S" >/dev/null; then
      touch "$WORK/stop-load"
      summary_unverified
      fail "troupe not ready within ${READY_BOUND_S}s of the restart"
    fi
    ms=$(( $(now_ms) - t_restart ))
    ((ms > RECOVERED_MS)) && RECOVERED_MS=$ms
    log "restarted: ready in ${ms} ms"
  done
}

# summary_unverified: the summary line when the server never
# came back (so nothing could be checked: -1 = unknown)
summary_unverified() {
  local recs acked
  recs=$(cat "$WORK"/*.jsonl 2>/dev/null | wc -l)
  acked=$(cat "$WORK"/*.jsonl 2>/dev/null | grep -c '"st":20[0-9]' || true)
  echo "requests=$recs acked=$acked lost_acked=-1 oversold=-1 duplicate=-1 recovered_in_ms=-1"
}
