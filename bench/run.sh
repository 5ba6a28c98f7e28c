#!/usr/bin/env bash
# Benchmarks POST /v1/orders against the ceiling (a trivial httplib server
# with troupe's settings), both measured in this run with the same wrk
# settings. Loopback only, bounded in time, cleans up after itself.
#
# usage: bench/run.sh [-c CONNECTIONS] [-d SECONDS] [-r RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=64; SECS=10; RUNS=3
while getopts "c:d:r:" o; do
  case $o in c) CONNS=$OPTARG;; d) SECS=$OPTARG;; r) RUNS=$OPTARG;; *) exit 2;; esac
done
# Its own build dir (Release-like, no tests), so a test build is left alone.
export TROUPE_BUILD_DIR=${TROUPE_BUILD_DIR:-build-bench}
bash scripts/build.sh -DTROUPE_BUILD_TESTS=OFF >/dev/null
BIN=$TROUPE_BUILD_DIR/app/troupe; CEIL=$TROUPE_BUILD_DIR/bench/troupe-ceiling
TMP=$(mktemp -d); PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_ready() { for _ in $(seq 1 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done; echo "not ready: $1" >&2; exit 1; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rps() { awk '/Requests\/sec/ {print $2}'; }
p99() { awk '/ 99%/ {print $2}'; }

CP=$(free_port); "$CEIL" "$CP" >/dev/null 2>&1 & PIDS+=($!)
TP=$(free_port); "$BIN" serve --port "$TP" --data-dir "$TMP/data" --log-level warn >"$TMP/troupe.log" 2>&1 & PIDS+=($!)
wait_ready "http://127.0.0.1:$CP/x"; wait_ready "http://127.0.0.1:$TP/health/ready"
for i in $(seq 1 50); do
  curl -sf -XPOST "http://127.0.0.1:$TP/v1/resources" -H 'content-type: application/json' \
    -d "{\"id\":\"bench-$i\",\"type\":\"musical\",\"name\":\"Bench $i\",\"mode\":\"capacity\",\"capacity\":1000000000,\"price\":100}" >/dev/null
done

declare -a C_RPS T_RPS T_P99 C_P99
for r in $(seq 1 "$RUNS"); do
  out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s bench/orders.lua "http://127.0.0.1:$CP/")
  C_RPS+=("$(echo "$out" | rps)"); C_P99+=("$(echo "$out" | p99)")
  out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s bench/orders.lua "http://127.0.0.1:$TP/")
  T_RPS+=("$(echo "$out" | rps)"); T_P99+=("$(echo "$out" | p99)")
done
c=$(printf '%s\n' "${C_RPS[@]}" | median); t=$(printf '%s\n' "${T_RPS[@]}" | median)
cp=$(printf '%s\n' "${C_P99[@]}" | sort -V | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
tp=$(printf '%s\n' "${T_P99[@]}" | sort -V | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
# Invariant after the run: nothing oversold, every order finished (no
# half-done one), money reconciled, seats sold = confirmed orders.
for _ in $(seq 1 100); do
  rec=$(curl -sf "http://127.0.0.1:$TP/admin/reconcile")
  [ "$(echo "$rec" | python3 -c 'import sys,json; r=json.load(sys.stdin); print(int(r["balanced"]))')" = 1 ] && break
  sleep 0.1
done
sold=0
for i in $(seq 1 50); do
  a=$(curl -sf "http://127.0.0.1:$TP/v1/resources/bench-$i" | python3 -c 'import sys,json; print(json.load(sys.stdin)["available"])')
  sold=$((sold + 1000000000 - a))
done
orders=$(echo "$rec" | python3 -c 'import sys,json; print(json.load(sys.stdin)["orders"]["confirmed"])')
balanced=$(echo "$rec" | python3 -c 'import sys,json; r=json.load(sys.stdin); print(r["balanced"], r["orders"], r["gateway"]["net"], r["confirmedAmount"])')
writes=$(curl -sf "http://127.0.0.1:$TP/metrics" | awk '/^troupe_store_writes_total/ {print $2}')
commits=$(curl -sf "http://127.0.0.1:$TP/metrics" | awk '/^troupe_store_commits_total/ {print $2}')
printf '%-34s %12s %10s %8s\n' "scenario (c=$CONNS, ${SECS}s, median of $RUNS)" "req/s" "p99" "ratio"
printf '%-34s %12s %10s %8s\n' "ceiling (trivial httplib handler)" "$c" "$cp" "1.00"
printf '%-34s %12s %10s %8s\n' "POST /v1/orders (embedded store)" "$t" "$tp" "$(awk -v a="$t" -v b="$c" 'BEGIN{printf "%.2f", a/b}')"
if [ "$sold" != "$orders" ]; then echo "INVARIANT BROKEN: seats sold=$sold but confirmed orders=$orders" >&2; exit 1; fi
case "$balanced" in True*) ;; *) echo "INVARIANT BROKEN: reconcile: $balanced" >&2; exit 1;; esac
echo "reconcile: balanced, orders/gateway net/confirmed amount: ${balanced#True }"
echo "invariant ok: seats sold=$sold = orders=$orders  store writes=$writes  commits(fsync)=$commits  writes/commit=$(awk -v a="$writes" -v b="$commits" 'BEGIN{printf "%.1f", a/b}')"
