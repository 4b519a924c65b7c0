#!/usr/bin/env bash
# Container run latency, side by side: Berth vs Debian's Docker (docker.io: dockerd 20.10 +
# containerd + runc, driven by the real docker CLI) vs Podman (only if installed).
#
#   bench/run-latency.sh [-n RUNS] [--engines docker,berth,podman] [--docker-crun] [--json FILE] [--keep]
#
#   -n RUNS          timed runs per engine and workload (default 20), after one warm-up pull and
#                    one untimed warm-up run
#   --engines LIST   subset of docker,berth,podman (default: all three; missing ones are skipped)
#   --docker-crun    also time docker with crun as its runtime (row "docker+crun"), to separate the
#                    engine's cost from the OCI runtime's (Berth uses crun, Docker runc by default)
#   --json FILE      also write the results (samples included) as JSON, e.g. bench/results/x.json
#   --keep           keep the temp dir (logs) instead of removing it (BENCH_KEEP=1)
#
# Rows: docker, berth, podman; "berth+dockercli" is the real docker CLI against berthd (the daemon
# with a Go client that starts in ~10 ms instead of Node's ~60 ms).
#
# Workloads: `run --rm busybox true`, `run --rm hello-world`, "busybox (API)" (the same run --rm
# done through the Engine API by one Node process, bench/api-run.mjs: the daemon's and runtime's
# share, without CLI start-up) and `version` (CLI start-up plus one API round trip: the floor under
# every command). Engines are interleaved run by run, so drift on
# the machine hits all of them alike. Times are wall clock of the whole CLI command
# (bash $EPOCHREALTIME, no extra process in the timed path).
#
# Everything runs on private instances under one temp dir: a loopback registry serving the fixture
# images (scripts/fixtures), a dockerd with its own socket/data root/exec root/containerd/cgroup
# parent using that registry as its Docker Hub mirror, a berthd likewise, podman with its own
# root/runroot/registries.conf. All of it is stopped by PID, unmounted and removed on exit.
# Docker's default bridge is disabled (--bridge none); berthd runs with its own default bridge (a
# name and /24 of its own), so every berth container gets a netns, a veth and an address: berth
# pays for networking that docker does not in this comparison. Both apply their default seccomp
# profile (dockerd its built-in one, berthd containers-common's, handed to crun precompiled after
# the first start); the load average is printed with the results, since a loaded machine swamps
# the differences (compare ratios of alternating runs, not single times).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=20
ENGINES="docker,berth,podman"
DOCKER_CRUN=0
JSON_OUT=""
while [ $# -gt 0 ]; do
  case $1 in
    -n|--runs) N=$2; shift 2 ;;
    --engines) ENGINES=$2; shift 2 ;;
    --docker-crun) DOCKER_CRUN=1; shift ;;
    --json) JSON_OUT=$2; shift 2 ;;
    --keep) export BENCH_KEEP=1; shift ;;
    -h|--help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "-n needs a positive integer" >&2; exit 2; }
want() { [[ ",$ENGINES," == *",$1,"* ]]; }
[ -z "$JSON_OUT" ] || JSON_OUT=$(realpath -m "$JSON_OUT")

bench_init
START_TS=$EPOCHREALTIME
bench_registry

declare -A WHY=()       # engine -> why it is not measured
ACTIVE=()               # engines measured, in table order
if want docker; then
  if bench_docker_start; then
    if bench_pull docker busybox hello-world; then ACTIVE+=(docker)
      [ $DOCKER_CRUN = 1 ] && ACTIVE+=(docker+crun)
    else WHY[docker]="pull failed: $(tail -n 2 "$T/pull-docker.err")"; fi
  else WHY[docker]=$DOCKER_WHY; fi
fi
if want berth; then
  if bench_berth_start; then
    if bench_pull berth busybox hello-world; then ACTIVE+=(berth berth+dockercli)
    else WHY[berth]="pull failed: $(tail -n 2 "$T/pull-berth.err" | tr '\n' ' ')"; fi
  else WHY[berth]=$BERTH_WHY; fi
fi
if want podman; then
  if bench_podman_setup; then
    if bench_pull podman busybox hello-world; then ACTIVE+=(podman)
    else WHY[podman]="pull failed: $(tail -n 2 "$T/pull-podman.err" | tr '\n' ' ')"; fi
  else WHY[podman]=$PODMAN_WHY; fi
fi

# Workloads. "busybox (API)" is `run --rm busybox true` through the Engine API by one Node process
# (bench/api-run.mjs): no CLI start-up, so it is the daemon's and runtime's share.
WORKLOADS=("busybox true" "hello-world" "busybox (API)" "version")
API_W="busybox (API)"
applies() { # applies <engine> <workload>
  case "$1|$2" in
    "docker+crun|version") return 1 ;;   # the same as docker's
    "podman|$API_W") return 1 ;;         # no API service in this setup
    "berth+dockercli|$API_W") return 1 ;;  # the same as berth's
  esac
}
# argv of one engine + CLI workload -> ARGV
workload_argv() {
  local e=$1 w=$2 base=$1 extra=()
  if [ "$e" = docker+crun ]; then base=docker; extra=(--runtime crun); fi
  if [ "$e" = berth+dockercli ]; then ARGV=("$DOCKER_CLI" -H "unix://$T/berth.sock")
  else engine_argv "$base"; fi
  case $w in
    "busybox true") ARGV+=(run --rm "${extra[@]}" busybox true) ;;
    "hello-world") ARGV+=(run --rm "${extra[@]}" hello-world) ;;
    "version") ARGV+=(version) ;;
    *) return 1 ;;
  esac
}
resfile() { echo "$T/res/$1.${2// /_}"; }

mkdir -p "$T/res"
declare -A OK=()   # "engine|workload" -> 1 when the warm-up run succeeded
for w in "${WORKLOADS[@]}"; do
  for e in "${ACTIVE[@]}"; do
    applies "$e" "$w" && workload_argv "$e" "$w" || continue
    if timeout 60 "${ARGV[@]}" >"$T/warm.out" 2>"$T/warm.err" </dev/null; then
      OK["$e|$w"]=1
      : >"$(resfile "$e" "$w")"
    else
      WHY["$e|$w"]="warm-up run failed (exit $?): $(grep -v '^\s*$' "$T/warm.err" | head -n 3 | tr '\n' ' ')"
      warn "$e ${ARGV[*]:2}: ${WHY["$e|$w"]}"
    fi
  done
done

log "timing $N runs per engine and workload (interleaved)"
declare -A FAILS=() FAILMSG=()
for w in "${WORKLOADS[@]}"; do
  if [ "$w" = "$API_W" ]; then
    api=()
    for e in "${ACTIVE[@]}"; do
      applies "$e" "$w" || continue
      case $e in docker|docker+crun) api+=("$e=$T/docker.sock") ;; berth) api+=("$e=$T/berth.sock") ;; esac
    done
    [ ${#api[@]} -gt 0 ] || continue
    timeout 300 node "$BENCH_DIR/api-run.mjs" "$N" "${api[@]}" -- busybox true >"$T/api.out" 2>"$T/api.err" </dev/null || true
    for e in "${ACTIVE[@]}"; do
      applies "$e" "$w" || continue
      f=$(resfile "$e" "$w")
      awk -v e="$e" '$1 == e && $2 ~ /^[0-9]+$/ { print $2 }' "$T/api.out" >"$f"
      if [ -s "$f" ]; then
        OK["$e|$w"]=1
        n_fail=$(awk -v e="$e" '$1 == e && $2 == "FAIL"' "$T/api.err" | wc -l)
        if [ "$n_fail" != 0 ]; then
          FAILS["$e|$w"]=$n_fail
          FAILMSG["$e|$w"]=$(awk -v e="$e" '$1 == e && $2 == "FAIL" { $1 = ""; $2 = ""; print substr($0, 3, 200); exit }' "$T/api.err")
        fi
      else
        WHY["$e|$w"]=$(awk -v e="$e" '$1 == e { $1 = ""; print; exit }' "$T/api.err")
        [ -n "${WHY["$e|$w"]}" ] || WHY["$e|$w"]="no result: $(head -c 200 "$T/api.err")"
      fi
    done
    continue
  fi
  for ((i = 0; i < N; i++)); do
    for e in "${ACTIVE[@]}"; do
      [ -n "${OK["$e|$w"]:-}" ] || continue
      workload_argv "$e" "$w"
      t0=${EPOCHREALTIME/[.,]/}
      if "${ARGV[@]}" >/dev/null 2>"$T/run.err" </dev/null; then
        t1=${EPOCHREALTIME/[.,]/}
        echo $((t1 - t0)) >>"$(resfile "$e" "$w")"
      else
        rc=$?
        FAILS["$e|$w"]=$((${FAILS["$e|$w"]:-0} + 1))
        FAILMSG["$e|$w"]=${FAILMSG["$e|$w"]:-"exit $rc: $(grep -v '^\s*$' "$T/run.err" | head -n 2 | tr '\n' ' ' | cut -c1-200)"}
      fi
    done
  done
done

# stats <file of microseconds> -> "median p90 min mean n" in ms (p90: nearest rank)
stats() {
  sort -n "$1" | awk '{ v[NR] = $1; s += $1 }
    END { if (NR == 0) { print "- - - - 0"; exit }
          med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          r = int(0.9 * NR); if (r < 0.9 * NR) r++; if (r < 1) r = 1
          printf "%.1f %.1f %.1f %.1f %d\n", med / 1000, v[r] / 1000, v[1] / 1000, s / NR / 1000, NR }'
}

declare -A MED=() P90=()
ver() { "$@" 2>/dev/null | head -n 1 || echo "?"; }
echo
echo "Berth run latency bench  ($(date -u +%FT%TZ), $(nproc) CPUs, kernel $(uname -r), $(stat -fc %T /sys/fs/cgroup/ | sed 's/tmpfs/cgroup v1 (hybrid)/;s/cgroup2fs/cgroup v2/'))"
echo "  docker : CLI $("$DOCKER_CLI" --version | awk '{print $3}' | tr -d ,) -> $(ver dockerd --version), $(ver containerd --version | awk '{print $1, $3}'), $(ver runc --version)"
echo "  berth  : $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo ?)$(cd "$ROOT" && git diff --quiet HEAD -- src native 2>/dev/null || echo '+dirty') (dist built $(date -u -r "$ROOT/dist/berth.mjs" +%FT%TZ 2>/dev/null || echo never)), node $(node --version), $(ver crun --version)"
[ -z "$PODMAN_BIN" ] || echo "  podman : $(ver "$PODMAN_BIN" --version)"
echo "  registry: 127.0.0.1:$PORT (loopback, Docker Hub mirror for all engines); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  networking: berth containers get a veth on berthd's own bridge; docker runs with --bridge none (loopback only); podman with netns=none"
echo
for e in docker berth podman; do   # engines not measured at all: one line each
  [ -n "${WHY[$e]:-}" ] && echo "  $e: not measured: $(echo "${WHY[$e]}" | tr '\n' ' ' | cut -c1-200)"
done
want docker || echo "  docker: not requested (--engines)"
want berth || echo "  berth: not requested (--engines)"
want podman || echo "  podman: not requested (--engines)"
echo
printf '%-14s %-16s %9s %9s %9s %9s %6s\n' workload engine "median" "p90" "min" "mean" "runs"
printf '%-14s %-16s %9s %9s %9s %9s %6s\n' -------- ------ "ms" "ms" "ms" "ms" ----
for w in "${WORKLOADS[@]}"; do
  for e in "${ACTIVE[@]}"; do
    applies "$e" "$w" || continue
    if [ -n "${OK["$e|$w"]:-}" ]; then
      read -r med p90 min mean cnt < <(stats "$(resfile "$e" "$w")")
      MED["$e|$w"]=$med; P90["$e|$w"]=$p90
      f=${FAILS["$e|$w"]:-0}
      printf '%-14s %-16s %9s %9s %9s %9s %6s\n' "$w" "$e" "$med" "$p90" "$min" "$mean" "$cnt$([ "$f" = 0 ] || echo " ($f failed)")"
      [ -z "${FAILMSG["$e|$w"]:-}" ] || printf '%-14s %-16s   first failure: %s\n' "" "" "${FAILMSG["$e|$w"]}"
    else
      printf '%-14s %-16s   failed: %s\n' "$w" "$e" "$(echo "${WHY["$e|$w"]}" | tr '\n' ' ' | cut -c1-150)"
    fi
  done
done

ratio() { # ratio <a> <b> -> a/b with 2 decimals, or n/a
  if [[ -n ${1:-} && -n ${2:-} && $1 != - && $2 != - ]]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; else echo "n/a"; fi
}
echo
echo "ratios (lower is faster; project goal for run --rm: berth/docker <= 0.40x):"
for w in "${WORKLOADS[@]}"; do
  for pair in berth/docker berth/docker+crun berth+dockercli/docker podman/docker; do
    a=${pair%%/*}; b=${pair#*/}
    [ -n "${MED["$a|$w"]:-}" ] && [ -n "${MED["$b|$w"]:-}" ] || continue
    printf '  ratio %-22s %-15s median: %-7s p90: %s\n' "$pair" "($w)" \
      "$(ratio "${MED["$a|$w"]}" "${MED["$b|$w"]}")" "$(ratio "${P90["$a|$w"]}" "${P90["$b|$w"]}")"
  done
done
echo "bench took $(awk -v a="$START_TS" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s (setup and warm-ups included)"
headline=$(ratio "${MED["berth|busybox true"]:-}" "${MED["docker|busybox true"]:-}")
if [ "$headline" = n/a ]; then
  for e in berth docker; do
    [ -n "${MED["$e|busybox true"]:-}" ] || { headline+=" ($e: $(echo "${WHY["$e|busybox true"]:-${WHY[$e]:-not requested}}" | tr '\n' ' ' | cut -c1-120))"; break; }
  done
fi
echo "ratio berth/docker (busybox true, median): $headline"

if [ -n "$JSON_OUT" ]; then
  mkdir -p "$(dirname "$JSON_OUT")"
  node - "$T/res" "$JSON_OUT" "$N" <<'JS'
const fs = require('fs'); const path = require('path');
const [dir, out, n] = process.argv.slice(2);
const results = {};
for (const f of fs.readdirSync(dir)) {
  const dot = f.indexOf('.'); const engine = f.slice(0, dot); const workload = f.slice(dot + 1).replace(/_/g, ' ');
  const us = fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).map(Number);
  const s = [...us].sort((a, b) => a - b);
  const med = s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
  const p90 = s.length ? s[Math.max(0, Math.ceil(0.9 * s.length) - 1)] : null;
  (results[workload] ??= {})[engine] = { median_ms: med / 1000, p90_ms: p90 / 1000, min_ms: s[0] / 1000, samples_ms: us.map((x) => x / 1000) };
}
const ratios = {};
for (const [w, r] of Object.entries(results)) if (r.berth && r.docker) ratios[`berth/docker ${w}`] = { median: r.berth.median_ms / r.docker.median_ms, p90: r.berth.p90_ms / r.docker.p90_ms };
fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), runs: Number(n), results, ratios }, null, 2) + '\n');
JS
  echo "results written to $JSON_OUT"
fi
