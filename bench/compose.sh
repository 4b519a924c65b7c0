#!/usr/bin/env bash
# Compose up + down of a 2-service project, side by side in one run:
#   berth compose on berthd  vs  docker-compose v1 (Debian's 1.29) on Debian's dockerd.
# Also shown: docker-compose v1 on berthd and berth compose on dockerd (same client, other daemon).
#
#   bench/compose.sh [-n RUNS] [--keep]
#
# The project: two busybox services on the project network (one publishes a port, one has a named
# volume), `up -d` then `down -v`; the time is the wall clock of both commands together.
# Private registry, dockerd and berthd under one temp dir (bench/lib.sh); engines interleaved run
# by run. Prints the medians and berth's ratio to docker-compose on dockerd (goal: <= 0.5).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=5
while [ $# -gt 0 ]; do
  case $1 in
    -n|--runs) N=$2; shift 2 ;;
    --keep) export BENCH_KEEP=1; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "-n needs a positive integer" >&2; exit 2; }
command -v docker-compose >/dev/null || { echo "docker-compose (Debian's v1) is not installed" >&2; exit 1; }

bench_init
bench_registry
bench_docker_start || { echo "dockerd: $DOCKER_WHY" >&2; exit 1; }
bench_berth_start || { echo "berthd: $BERTH_WHY" >&2; exit 1; }
bench_pull docker busybox || { echo "docker pull failed: $(tail -n 2 "$T/pull-docker.err")" >&2; exit 1; }
bench_pull berth busybox || { echo "berth pull failed: $(tail -n 2 "$T/pull-berth.err")" >&2; exit 1; }

P="$T/project"
mkdir -p "$P"
cat >"$P/compose.yaml" <<'EOF'
services:
  web:
    image: busybox
    command: ["sleep", "600"]
    ports: ["127.0.0.1::80"]
    stop_signal: SIGKILL
  db:
    image: busybox
    command: ["sleep", "600"]
    volumes: ["data:/data"]
    stop_signal: SIGKILL
volumes:
  data:
EOF

# One up + down with a client on a daemon; prints the seconds taken.
one() {
  local client=$1 host=$2 t0 t1
  local -a cmd
  case $client in
    berth) cmd=(node "$BERTH_CLI" -H "$host" compose) ;;
    v1) cmd=(env DOCKER_HOST="$host" docker-compose) ;;
  esac
  t0=$EPOCHREALTIME
  "${cmd[@]}" -p bench -f "$P/compose.yaml" up -d >"$T/compose-$client.out" 2>&1 || { cat "$T/compose-$client.out" >&2; return 1; }
  "${cmd[@]}" -p bench -f "$P/compose.yaml" down -v -t 1 >>"$T/compose-$client.out" 2>&1 || { cat "$T/compose-$client.out" >&2; return 1; }
  t1=$EPOCHREALTIME
  echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }'
}

declare -A SAMPLES=()
ROWS=("berth compose|berth|unix://$T/berth.sock" "docker-compose v1|v1|unix://$T/docker.sock" "docker-compose v1 on berthd|v1|unix://$T/berth.sock" "berth compose on dockerd|berth|unix://$T/docker.sock")
for row in "${ROWS[@]}"; do IFS='|' read -r name client host <<<"$row"; one "$client" "$host" >/dev/null; done   # warm-up
for i in $(seq 1 "$N"); do
  for row in "${ROWS[@]}"; do
    IFS='|' read -r name client host <<<"$row"
    SAMPLES[$name]+="$(one "$client" "$host") "
  done
  log "run $i/$N done"
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
printf '\n%-30s %10s   %s\n' "up -d + down -v (2 services)" "median s" "samples"
for row in "${ROWS[@]}"; do
  IFS='|' read -r name _ _ <<<"$row"
  printf '%-30s %10s   %s\n' "$name" "$(echo "${SAMPLES[$name]}" | median)" "${SAMPLES[$name]}"
done
b=$(echo "${SAMPLES[berth compose]}" | median)
v=$(echo "${SAMPLES[docker-compose v1]}" | median)
awk -v b="$b" -v v="$v" 'BEGIN { printf "\nberth compose on berthd / docker-compose v1 on dockerd: %.2fx (goal <= 0.5x)\n", b / v }'
