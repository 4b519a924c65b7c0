#!/usr/bin/env bash
# Image pull throughput, side by side: Berth vs Debian's Docker (docker.io, dockerd 20.10).
#
#   bench/pull.sh [-n RUNS] [--engines docker,berth] [--keep] [--docker-topdir]
#
#   -n RUNS          timed pulls per engine (default 5)
#   --engines LIST   subset of docker,berth (default both)
#   --keep           keep the temp dir (logs) instead of removing it (BENCH_KEEP=1)
#   --docker-topdir  give dockerd's overlay2 directory the ext4 attribute berthd gives its layers
#                    directory (chattr +T: each layer in a block group of its own), to see what of
#                    the difference is that placement (src/engine/host/spread-dirs.ts)
#
# The image: ~150 MB compressed in 4 gzip layers (a debootstrap'd Debian minbase plus three layers
# of random data: many small files, a few big ones, a mix), built once by bench/pull-fixture.sh and
# cached under /var/lib/berth-bench/pull-image. It is pushed with skopeo to this run's loopback
# registry, which both engines use as their Docker Hub mirror. Each timed run removes the image
# first (`rmi`, so its layers and blobs are gone and every byte is fetched again), then times
# `pull bench-pull` as the wall clock of the whole CLI command. Engines alternate run by run (and
# which goes first alternates too), so drift on a loaded machine hits both alike. Reported: the
# median time and throughput (compressed bytes / time) per engine, and the ratio of throughputs;
# also the CPU seconds each daemon's process tree spent per pull (median) and the load average,
# since on a machine that other work shares the wall time follows the CPU share a pull gets.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=5
ENGINES="docker,berth"
DOCKER_TOPDIR=0
while [ $# -gt 0 ]; do
  case $1 in
    -n|--runs) N=$2; shift 2 ;;
    --engines) ENGINES=$2; shift 2 ;;
    --keep) export BENCH_KEEP=1; shift ;;
    --docker-topdir) DOCKER_TOPDIR=1; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "-n needs a positive integer" >&2; exit 2; }
want() { [[ ",$ENGINES," == *",$1,"* ]]; }

bench_init
IMAGE_DIR=$(bash "$BENCH_DIR/pull-fixture.sh")
bench_registry
log "bench-pull -> registry"
skopeo copy --quiet --dest-tls-verify=false "oci:$IMAGE_DIR:bench-pull" "docker://127.0.0.1:$PORT/library/bench-pull:latest" >/dev/null

# Compressed size of the image's layers (what a pull downloads).
BYTES=$(node -e '
  const fs = require("fs"), p = require("path"), d = process.argv[1];
  const idx = JSON.parse(fs.readFileSync(p.join(d, "index.json")));
  const m = JSON.parse(fs.readFileSync(p.join(d, "blobs/sha256", idx.manifests[0].digest.slice(7))));
  console.log(m.layers.reduce((a, l) => a + l.size, 0) + " " + m.layers.length);
' "$IMAGE_DIR")
read -r BYTES NLAYERS <<<"$BYTES"

ACTIVE=()
if want docker; then
  if bench_docker_start; then
    ACTIVE+=(docker)
    if [ "$DOCKER_TOPDIR" = 1 ]; then
      chattr +T "$T/docker-root/overlay2" && log "dockerd's overlay2 directory: $(lsattr -d "$T/docker-root/overlay2")"
    fi
  else
    warn "docker skipped: $DOCKER_WHY"
  fi
fi
if want berth; then
  if bench_berth_start; then ACTIVE+=(berth); else warn "berth skipped: $BERTH_WHY"; fi
fi
[ ${#ACTIVE[@]} -gt 0 ] || { echo "no engine to measure" >&2; exit 1; }

# CPU seconds (user+sys, reaped children included: dockerd's unpigz, berthd's helpers) of a daemon
# and every process under it (dockerd's containerd). On a loaded machine wall times follow the CPU
# share a pull gets; the CPU it burns is the steadier figure.
tree_cpu() {
  local pids=("$1") i=0 p kids sum=0 ticks
  while [ $i -lt ${#pids[@]} ]; do
    kids=$(ps -o pid= --ppid "${pids[$i]}" 2>/dev/null || true)
    for p in $kids; do pids+=("$p"); done
    i=$((i + 1))
  done
  for p in "${pids[@]}"; do
    ticks=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$p/stat" 2>/dev/null || echo 0)
    sum=$((sum + ticks))
  done
  awk -v t="$sum" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}
daemon_pid() { case $1 in docker) echo "$DOCKERD_PID" ;; berth) echo "$BERTHD_PID" ;; *) echo "" ;; esac; }

declare -A SAMPLES=() CPUS=()
time_pull() { # engine -> appends seconds to SAMPLES[engine], daemon CPU seconds to CPUS[engine]
  local e=$1 t0 t1 c0 c1 dp
  engine_argv "$e"
  dp=$(daemon_pid "$e")
  "${ARGV[@]}" rmi -f bench-pull >/dev/null 2>&1 || true
  sync
  [ -z "$dp" ] || c0=$(tree_cpu "$dp")
  t0=$EPOCHREALTIME
  "${ARGV[@]}" pull bench-pull >"$T/pull-$e.out" 2>"$T/pull-$e.err" \
    || { echo "$e: pull failed: $(tail -n 3 "$T/pull-$e.err")" >&2; exit 1; }
  t1=$EPOCHREALTIME
  [ -z "$dp" ] || { c1=$(tree_cpu "$dp"); CPUS[$e]+="$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }') "; }
  SAMPLES[$e]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') "
}

log "image: $NLAYERS layers, $BYTES bytes compressed; $N runs per engine"
for ((r = 0; r < N; r++)); do
  order=("${ACTIVE[@]}")
  if ((r % 2 == 1)); then order=(); for ((k = ${#ACTIVE[@]} - 1; k >= 0; k--)); do order+=("${ACTIVE[$k]}"); done; fi
  for e in "${order[@]}"; do time_pull "$e"; done
  line="run $((r + 1))/$N:"
  for e in "${ACTIVE[@]}"; do line+=" $e $(echo "${SAMPLES[$e]}" | awk '{print $NF}')s (cpu $(echo "${CPUS[$e]:-}" | awk '{print $NF}')s)"; done
  line+=" load $(cut -d' ' -f1 /proc/loadavg)"
  log "$line"
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END { if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2] + a[NR/2+1]) / 2 }'; }
printf '\n%-8s %10s %12s %12s   %s\n' engine "median s" "MB/s" "median cpu s" "samples (s)"
declare -A MED=() MEDCPU=()
for e in "${ACTIVE[@]}"; do
  MED[$e]=$(echo "${SAMPLES[$e]}" | median)
  MEDCPU[$e]=$(echo "${CPUS[$e]:-}" | median)
  printf '%-8s %10s %12s %12s   %s\n' "$e" "${MED[$e]}" "$(awk -v b="$BYTES" -v s="${MED[$e]}" 'BEGIN { printf "%.1f", b / 1e6 / s }')" "${MEDCPU[$e]:--}" "${SAMPLES[$e]}"
done
printf 'load average at the end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${MED[docker]:-}" ] && [ -n "${MED[berth]:-}" ]; then
  printf '\nimage: %s layers, %.1f MB compressed\n' "$NLAYERS" "$(awk -v b="$BYTES" 'BEGIN { print b / 1e6 }')"
  printf 'ratio berth/docker throughput (median): %.2fx (goal >= 1.5x)\n' "$(awk -v d="${MED[docker]}" -v b="${MED[berth]}" 'BEGIN { print d / b }')"
  [ -z "${MEDCPU[docker]:-}" ] || [ -z "${MEDCPU[berth]:-}" ] \
    || printf 'daemon CPU per pull (median): docker %ss, berth %ss: berth uses %.2fx docker'"'"'s\n' "${MEDCPU[docker]}" "${MEDCPU[berth]}" "$(awk -v d="${MEDCPU[docker]}" -v b="${MEDCPU[berth]}" 'BEGIN { print (d > 0 ? b / d : 0) }')"
fi
