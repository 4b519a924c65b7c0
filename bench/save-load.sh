#!/usr/bin/env bash
# docker save / load, side by side: Berth vs Debian's Docker (docker.io, dockerd 20.10), and the
# round trip between them.
#
#   bench/save-load.sh [-n RUNS] [--mb MB] [--keep]
#
#   -n RUNS   timed runs per engine and operation (default 5), engines alternating run by run
#   --mb MB   size of the test image (default 150): busybox plus three layers of random data,
#             committed on berthd (made offline: nothing is downloaded), then loaded into dockerd
#   --keep    keep the temp dir (logs, archives)
#
# Operations (wall clock of the whole CLI command, median and ratio berth/docker):
#   save    `save -o FILE IMAGE` (each engine its own archive)
#   load    `rmi IMAGE; load -i FILE` (both load the archive Berth wrote: Docker 25+'s layout, which
#           dockerd 20.10 reads through its manifest.json); the rmi is not timed
# Round trip (checked, not timed): berth save → dockerd load → same image ID and layer digests;
# dockerd save (its older layout) → berth load → same again.
#
# Everything runs on private instances under one temp dir (bench/lib.sh) and is removed on exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=5
MB=150
while [ $# -gt 0 ]; do
  case $1 in
    -n) N=$2; shift 2 ;;
    --mb) MB=$2; shift 2 ;;
    --keep) export BENCH_KEEP=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

bench_init
bench_registry
bench_docker_start || { echo "docker unavailable: $DOCKER_WHY" >&2; exit 1; }
bench_berth_start || { echo "berth unavailable: $BERTH_WHY" >&2; exit 1; }
bench_pull berth busybox || { echo "berth pull failed: $(cat "$T/pull-berth.err")" >&2; exit 1; }

IMG=bench/saveload:big
part=$((MB / 3))
log "building $IMG on berthd: busybox + 3 layers of ${part} MB of random data"
berth_cmd tag busybox "$IMG"
for i in 1 2 3; do
  berth_cmd rm -f mk >/dev/null 2>&1 || true
  berth_cmd run --name mk "$IMG" sh -c "head -c $((part * 1048576)) /dev/urandom > /data$i" >/dev/null
  berth_cmd commit mk "$IMG" >/dev/null
done
berth_cmd rm -f mk >/dev/null

fmt='{{.Id}} {{json .RootFS.Layers}}'
berth_cmd save -o "$T/berth.tar" "$IMG"
docker_cmd load -i "$T/berth.tar" >/dev/null
ours=$(berth_cmd image inspect --format "$fmt" "$IMG")
theirs=$(docker_cmd image inspect --format "$fmt" "$IMG")
[ "$ours" = "$theirs" ] || { echo "round trip berth → docker: IDs differ: $ours vs $theirs" >&2; exit 1; }
docker_cmd save -o "$T/docker.tar" "$IMG"
berth_cmd rmi "$IMG" >/dev/null
berth_cmd load -i "$T/docker.tar" >/dev/null
back=$(berth_cmd image inspect --format "$fmt" "$IMG")
[ "$ours" = "$back" ] || { echo "round trip docker → berth: IDs differ: $ours vs $back" >&2; exit 1; }
echo "round trip: same image ID and layer digests both ways (${ours%% *})"
size=$(stat -c %s "$T/berth.tar")

# time_us <out var> <command...>: microseconds of wall clock
time_us() {
  local __v=$1; shift
  local t0 t1
  t0=${EPOCHREALTIME/[.,]/}
  "$@" >/dev/null
  t1=${EPOCHREALTIME/[.,]/}
  printf -v "$__v" '%s' $((t1 - t0))
}

: >"$T/save-docker" ; : >"$T/save-berth" ; : >"$T/load-docker" ; : >"$T/load-berth"
for ((r = 1; r <= N; r++)); do
  for e in docker berth; do
    engine_argv "$e"
    rm -f "$T/out-$e.tar"
    time_us us "${ARGV[@]}" save -o "$T/out-$e.tar" "$IMG"; echo "$us" >>"$T/save-$e"
    "${ARGV[@]}" rmi "$IMG" >/dev/null
    time_us us "${ARGV[@]}" load -i "$T/berth.tar"; echo "$us" >>"$T/load-$e"
  done
  log "run $r/$N done"
done

median() { sort -n "$1" | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
printf '\nimage: %s, archive %.1f MB, 4 layers; %d runs each, engines alternating\n' "$IMG" "$(awk -v s="$size" 'BEGIN { print s / 1048576 }')" "$N"
printf '%-6s %12s %12s %10s %12s %12s\n' op docker_ms berth_ms ratio docker_MB/s berth_MB/s
for op in save load; do
  d=$(median "$T/$op-docker"); b=$(median "$T/$op-berth")
  awk -v op="$op" -v d="$d" -v b="$b" -v s="$size" 'BEGIN {
    printf "%-6s %12.0f %12.0f %9.2fx %12.1f %12.1f\n", op, d / 1000, b / 1000, d / b, s / 1048576 / (d / 1e6), s / 1048576 / (b / 1e6) }'
done
echo "(ratio = docker time / berth time: above 1 means Berth is faster)"
