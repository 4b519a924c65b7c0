#!/usr/bin/env bash
# Daemon memory over many containers: berthd's RSS after 100 and after 1,000 `run --rm busybox true`
# cycles (create with AutoRemove, wait for removal, start: bench/api-run.mjs, the Engine API calls
# of `docker run --rm` without the CLI's start-up), the two figures and their ratio. A daemon that
# keeps something per container (a hub, an exec record, a listener, a cached record) grows with
# the count; the goal is the RSS after 1,000 within 10 % of the RSS after 100.
#
#   bench/rss-run-rm.sh [-n FIRST] [-m TOTAL] [--keep]
#
#   -n FIRST   cycles before the first reading (default 100; 20 untimed warm-up cycles come first)
#   -m TOTAL   cycles in all before the second reading (default 1000)
#   --keep     keep the temp dir (logs) instead of removing it (BENCH_KEEP=1)
#
# RSS is VmRSS of berthd from /proc, read five times over two seconds of idle after each batch;
# the median is reported (Node's heap grows and shrinks with its collector, one reading is noise).
# The same private berthd and loopback registry as bench/run-latency.sh (bench/lib.sh), removed on exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

FIRST=100
TOTAL=1000
while [ $# -gt 0 ]; do
  case $1 in
    -n) FIRST=$2; shift 2 ;;
    -m) TOTAL=$2; shift 2 ;;
    --keep) export BENCH_KEEP=1; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $FIRST =~ ^[1-9][0-9]*$ && $TOTAL =~ ^[1-9][0-9]*$ && $TOTAL -gt $FIRST ]] \
  || { echo "-n and -m need positive integers, -m above -n" >&2; exit 2; }

bench_init
bench_registry
bench_berth_start || { echo "berth: not measured: $BERTH_WHY" >&2; exit 1; }
bench_pull berth busybox || { echo "berth: pull failed: $(tail -n 2 "$T/pull-berth.err")" >&2; exit 1; }

# cycles <n>: n run --rm cycles through the API (api-run.mjs adds one untimed warm-up)
cycles() {
  timeout 3600 node "$BENCH_DIR/api-run.mjs" "$1" "berth=$T/berth.sock" -- busybox true >"$T/api.out" 2>"$T/api.err" </dev/null || true
  local fails
  fails=$(grep -c FAIL "$T/api.err" || true)
  [ "$fails" = 0 ] || warn "$fails of $1 cycles failed: $(grep -m1 FAIL "$T/api.err" | cut -c1-200)"
}
# rss_mib: median of five VmRSS readings of berthd over two seconds, in MiB
rss_mib() {
  local i
  sleep 1
  for ((i = 0; i < 5; i++)); do
    awk '/^VmRSS:/ { print $2 }' "/proc/$BERTHD_PID/status"
    sleep 0.4
  done | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f\n", v[3] / 1024 }'
}

log "warm-up: 20 cycles"
cycles 19
log "$FIRST cycles"
cycles $((FIRST - 1))
R1=$(rss_mib)
log "$((TOTAL - FIRST)) more cycles"
cycles $((TOTAL - FIRST - 1))
R2=$(rss_mib)
left=$(curl -s --unix-socket "$T/berth.sock" 'http://d/v1.41/containers/json?all=1' | node -e 'let s="";process.stdin.on("data",(c)=>s+=c).on("end",()=>console.log(JSON.parse(s).length))')

echo
echo "Berth daemon RSS over run --rm cycles  ($(date -u +%FT%TZ), $(nproc) CPUs, node $(node --version), berth $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo ?))"
printf '  RSS after %5d cycles: %8s MiB\n' "$FIRST" "$R1"
printf '  RSS after %5d cycles: %8s MiB\n' "$TOTAL" "$R2"
echo "  containers left: $left"
awk -v a="$R2" -v b="$R1" 'BEGIN { r = a / b; printf "ratio RSS(%s)/RSS(%s): %.3f  (goal <= 1.10: %s)\n", "'"$TOTAL"'", "'"$FIRST"'", r, r <= 1.10 ? "met" : "NOT met" }'
