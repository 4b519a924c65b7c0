#!/usr/bin/env bash
# Build latency, side by side: Berth vs Debian's Docker (dockerd 20.10) with its legacy builder
# (the docker CLI with DOCKER_BUILDKIT=0) and with BuildKit (Debian's /usr/bin/docker 20.10 CLI,
# DOCKER_BUILDKIT=1, when present), and podman build (only if installed).
#
#   bench/build.sh [-n RUNS] [--engines docker,buildkit,berth,podman] [--keep]
#
# Workloads, on one small context (busybox, WORKDIR, COPY of a shell program, a RUN, ENV, CMD):
#   cold     build --no-cache (every step runs; the base image is local)
#   hit      the same build again: every step from the cache
#   change   the ENV line near the end changed (a new value each run): the steps from there run
# Rows: docker-legacy, docker-buildkit, berth (berth build), berth+dockercli (the real docker CLI
# against berthd, legacy path: the daemon with a Go client that starts in ~10 ms instead of Node's
# ~60 ms), podman. Every build passes --network none (the bench's dockerd has no bridge, and
# BuildKit's RUN refuses to run without one otherwise), so no engine pays for RUN networking. Times are wall clock of the whole CLI command (bash $EPOCHREALTIME), medians of
# RUNS, engines interleaved run by run. Everything runs on private instances (bench/lib.sh) that
# are stopped and removed on exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=10
ENGINES="docker,buildkit,berth,podman"
while [ $# -gt 0 ]; do
  case $1 in
    -n|--runs) N=$2; shift 2 ;;
    --engines) ENGINES=$2; shift 2 ;;
    --keep) export BENCH_KEEP=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "-n needs a positive integer" >&2; exit 2; }
want() { [[ ",$ENGINES," == *",$1,"* ]]; }

bench_init
bench_registry

declare -A WHY=()
ACTIVE=()
BUILDKIT_CLI=/usr/bin/docker
if want docker || want buildkit; then
  if bench_docker_start && bench_pull docker busybox; then
    want docker && ACTIVE+=(docker-legacy)
    if want buildkit; then
      if [ -x "$BUILDKIT_CLI" ] && [ "$(readlink -f "$BUILDKIT_CLI")" != "$(readlink -f "$DOCKER_CLI")" ]; then ACTIVE+=(docker-buildkit)
      else WHY[docker-buildkit]="no Debian docker CLI at $BUILDKIT_CLI"; fi
    fi
  else WHY[docker-legacy]=${DOCKER_WHY:-pull failed}; fi
fi
if want berth; then
  if bench_berth_start && bench_pull berth busybox; then ACTIVE+=(berth berth+dockercli)
  else WHY[berth]=${BERTH_WHY:-pull failed}; fi
fi
if want podman; then
  if bench_podman_setup && bench_pull podman busybox; then ACTIVE+=(podman)
  else WHY[podman]=${PODMAN_WHY:-pull failed}; fi
fi

# one context per engine (the change workload edits its Dockerfile)
make_ctx() {
  local dir=$1 mode=$2
  mkdir -p "$dir"
  printf '#!/bin/sh\necho "hello from the app, mode $MODE"\n' >"$dir/app.sh"
  cat >"$dir/Dockerfile" <<DF
FROM busybox
WORKDIR /app
COPY app.sh ./
RUN chmod +x app.sh && echo built > /app/built.txt
ENV MODE=$mode
CMD ["/app/app.sh"]
DF
}

build_argv() { # build_argv <engine> <context> [--no-cache]
  local e=$1 ctx=$2; shift 2
  # every engine's RUN without a network: the bench's dockerd has no bridge (bench/lib.sh), so the
  # legacy builder's RUN gets none and BuildKit's needs --network none; the same for the others
  set -- --network none "$@"
  case $e in
    docker-legacy) ARGV=(env DOCKER_BUILDKIT=0 "$DOCKER_CLI" -H "unix://$T/docker.sock" build -q "$@" "$ctx") ;;
    docker-buildkit) ARGV=(env DOCKER_BUILDKIT=1 "$BUILDKIT_CLI" -H "unix://$T/docker.sock" build -q "$@" "$ctx") ;;
    berth) ARGV=(node "$BERTH_CLI" -H "unix://$T/berth.sock" build -q "$@" "$ctx") ;;
    berth+dockercli) ARGV=(env DOCKER_BUILDKIT=0 "$DOCKER_CLI" -H "unix://$T/berth.sock" build -q "$@" "$ctx") ;;
    podman) engine_argv podman; ARGV+=(build -q "$@" "$ctx") ;;
  esac
}

mkdir -p "$T/res"
declare -A OK=()
for e in "${ACTIVE[@]}"; do
  make_ctx "$T/ctx-$e" 0
  build_argv "$e" "$T/ctx-$e"
  if timeout 300 "${ARGV[@]}" >"$T/warm.out" 2>"$T/warm.err" </dev/null; then OK[$e]=1
  else WHY[$e]="warm-up build failed: $(grep -v '^\s*$' "$T/warm.err" | tail -n 3 | tr '\n' ' ')"; warn "$e: ${WHY[$e]}"; fi
done

timed() { # timed <file> argv...: appends the wall time in ms, returns the command's status
  local f=$1 t0 t1 rc=0; shift
  t0=$EPOCHREALTIME
  timeout 300 "$@" >"$T/run.out" 2>"$T/run.err" </dev/null || rc=$?
  t1=$EPOCHREALTIME
  [ $rc = 0 ] && awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }' >>"$f"
  return $rc
}

log "timing $N runs per engine and workload (interleaved)"
for ((i = 1; i <= N; i++)); do
  for e in "${ACTIVE[@]}"; do
    [ -n "${OK[$e]:-}" ] || continue
    ctx="$T/ctx-$e"
    build_argv "$e" "$ctx" --no-cache
    timed "$T/res/$e.cold" "${ARGV[@]}" || warn "$e cold: $(tail -n 2 "$T/run.err" | tr '\n' ' ')"
    build_argv "$e" "$ctx"
    timed "$T/res/$e.hit" "${ARGV[@]}" || warn "$e hit: $(tail -n 2 "$T/run.err" | tr '\n' ' ')"
    sed -i "s/^ENV MODE=.*/ENV MODE=$i/" "$ctx/Dockerfile"
    timed "$T/res/$e.change" "${ARGV[@]}" || warn "$e change: $(tail -n 2 "$T/run.err" | tr '\n' ' ')"
  done
done

median() { [ -s "$1" ] && sort -n "$1" | awk '{ a[NR] = $1 } END { printf "%.0f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }' || printf -- '-'; }
printf '\nbuild latency, median of %s runs (ms)\n' "$N"
printf '%-18s %8s %8s %8s\n' engine cold hit change
for e in docker-legacy docker-buildkit berth berth+dockercli podman; do
  if [ -n "${OK[$e]:-}" ]; then
    printf '%-18s %8s %8s %8s\n' "$e" "$(median "$T/res/$e.cold")" "$(median "$T/res/$e.hit")" "$(median "$T/res/$e.change")"
  elif [ -n "${WHY[$e]:-}" ]; then
    printf '%-18s not measured: %s\n' "$e" "${WHY[$e]}"
  fi
done
if [ -n "${OK[docker-legacy]:-}" ] && [ -n "${OK[berth+dockercli]:-}" ]; then
  awk -v b="$(median "$T/res/berth+dockercli.hit")" -v d="$(median "$T/res/docker-legacy.hit")" \
    'BEGIN { printf "\ncache hit, berthd / dockerd legacy (same docker CLI): %.2fx (goal <= 0.8x)\n", b / d }'
fi
if [ -n "${OK[docker-buildkit]:-}" ] && [ -n "${OK[berth+dockercli]:-}" ]; then
  awk -v b="$(median "$T/res/berth+dockercli.cold")" -v d="$(median "$T/res/docker-buildkit.cold")" \
    'BEGIN { printf "cold, berthd / BuildKit: %.2fx (goal <= 1x)\n", b / d }'
fi
