#!/usr/bin/env bash
# Memory per running container, side by side: the per-container supervisor (berth-shim vs
# containerd-shim-runc-v2 vs podman's conmon) and the daemons, with N detached `busybox sleep 300`
# containers running on each engine.
#
#   bench/memory.sh [-n CONTAINERS] [--engines docker,berth,podman] [--keep]
#
# PSS (proportional set size: shared pages split among the processes sharing them, so PSS adds up
# across processes) and RSS, from /proc/PID/smaps_rollup. Same private instances as
# run-latency.sh (see bench/lib.sh), all removed on exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=10
ENGINES="docker,berth,podman"
while [ $# -gt 0 ]; do
  case $1 in
    -n) N=$2; shift 2 ;;
    --engines) ENGINES=$2; shift 2 ;;
    --keep) export BENCH_KEEP=1; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "-n needs a positive integer" >&2; exit 2; }
want() { [[ ",$ENGINES," == *",$1,"* ]]; }

bench_init
bench_registry

declare -A WHY=()
ACTIVE=()
if want docker; then
  if bench_docker_start && bench_pull docker busybox; then ACTIVE+=(docker)
  else WHY[docker]=${DOCKER_WHY:-pull failed: $(tail -n 2 "$T/pull-docker.err" 2>/dev/null)}; fi
fi
if want berth; then
  if bench_berth_start && bench_pull berth busybox; then ACTIVE+=(berth)
  else WHY[berth]=${BERTH_WHY:-pull failed: $(tail -n 2 "$T/pull-berth.err" 2>/dev/null)}; fi
fi
if want podman; then
  if bench_podman_setup && bench_pull podman busybox; then ACTIVE+=(podman)
  else WHY[podman]=${PODMAN_WHY:-pull failed: $(tail -n 2 "$T/pull-podman.err" 2>/dev/null)}; fi
fi

# kB of PSS and RSS of one pid: "pss rss"
mem_of() {
  awk '/^Pss:/ { p = $2 } /^Rss:/ { r = $2 } END { print p + 0, r + 0 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo "0 0"
}
# "count pss_total rss_total" over a list of pids
mem_sum() {
  local p n=0 ps=0 rs=0 a b
  for p in "$@"; do read -r a b < <(mem_of "$p"); n=$((n + 1)); ps=$((ps + a)); rs=$((rs + b)); done
  echo "$n $ps $rs"
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

declare -A STARTED=()
for e in "${ACTIVE[@]}"; do
  engine_argv "$e"
  log "$e: starting $N x busybox sleep 300 (detached)"
  ok=0
  for ((i = 0; i < N; i++)); do
    if timeout 60 "${ARGV[@]}" run -d busybox sleep 300 >/dev/null 2>"$T/run-$e.err" </dev/null; then ok=$((ok + 1))
    else warn "$e run -d failed: $(grep -v '^\s*$' "$T/run-$e.err" | head -n 2 | tr '\n' ' ')"; break; fi
  done
  STARTED[$e]=$ok
done
sleep 2   # let supervisors settle after start-up

echo
echo "Memory with N=$N running containers per engine (busybox sleep 300), $(date -u +%FT%TZ)"
for e in docker berth podman; do
  [ -z "${WHY[$e]:-}" ] || echo "  $e: not measured: $(echo "${WHY[$e]}" | tr '\n' ' ' | cut -c1-200)"
done
echo
printf '%-8s %-26s %5s %10s %10s %12s %12s\n' engine process count "PSS/proc" "RSS/proc" "PSS total" "RSS total"
printf '%-8s %-26s %5s %10s %10s %12s %12s\n' ------ ------- ----- MiB MiB MiB MiB
row() { # row engine label pids...
  local e=$1 label=$2; shift 2
  local n ps rs
  read -r n ps rs < <(mem_sum "$@")
  if [ "$n" = 0 ]; then printf '%-8s %-26s %5s\n' "$e" "$label" 0; return; fi
  printf '%-8s %-26s %5s %10s %10s %12s %12s\n' "$e" "$label" "$n" "$(mb $((ps / n)))" "$(mb $((rs / n)))" "$(mb "$ps")" "$(mb "$rs")"
  local key=${label%% *}
  printf -v "PSS_${e}_${key//[^a-zA-Z0-9]/_}" '%s' $((ps / n))
}
for e in "${ACTIVE[@]}"; do
  case $e in
    docker)
      # shellcheck disable=SC2046
      row docker "containerd-shim-runc-v2" $(pids_of_mine containerd-shim-runc-v2)
      ctrd=$(cat "$T/docker-exec/containerd/containerd.pid" 2>/dev/null || true)
      row docker "dockerd" "$DOCKERD_PID"
      [ -z "$ctrd" ] || row docker "containerd" "$ctrd"
      ;;
    berth)
      # shellcheck disable=SC2046
      row berth "berth-shim" $(pids_of_mine berth-shim)
      row berth "berthd (node)" "$BERTHD_PID"
      ;;
    podman)
      # shellcheck disable=SC2046
      row podman "conmon" $(pids_of_mine conmon)
      ;;
  esac
  [ "${STARTED[$e]}" = "$N" ] || echo "         (only ${STARTED[$e]} of $N containers started on $e)"
done
echo
if [ -n "${PSS_berth_berth_shim:-}" ] && [ -n "${PSS_docker_containerd_shim_runc_v2:-}" ]; then
  echo "ratio berth-shim/containerd-shim-runc-v2 (PSS per container): $(awk -v a="$PSS_berth_berth_shim" -v b="$PSS_docker_containerd_shim_runc_v2" 'BEGIN { printf "%.2fx", a / b }')"
fi
