# shellcheck shell=bash
# Shared setup for the benchmarks in bench/: a loopback registry with the fixture images, a private
# Debian dockerd, a private berthd and (if installed) podman, all under one temp dir $T, and a
# cleanup that removes exactly what was started here: processes by PID, mounts under $T, cgroups
# and /run directories this run created. Nothing of a running system install is touched.
#
# Sourced by bench/run-latency.sh and bench/memory.sh, which call:
#   bench_init                      temp dir, traps, root check
#   bench_registry                  fixtures -> registry on a free loopback port ($PORT)
#   bench_docker_start / bench_podman_setup / bench_berth_start   each returns 1 (with $*_WHY set) when unavailable
#   bench_pull <engine> <image...>  warm-up pull through the mirror
#   engine_argv <engine>            sets ARGV to that engine's CLI against the private instance
# Everything is torn down by the EXIT trap (bench_cleanup).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
DOCKER_CLI=${DOCKER_CLI:-/usr/local/bin/docker}
[ -x "$DOCKER_CLI" ] || DOCKER_CLI=$(command -v docker || echo /usr/local/bin/docker)

T=""
PORT=""
DOCKERD_PID=""
BERTHD_PID=""
# The bench berthd's own default bridge: a name and /24 of its own, beside a system berthd's berth0.
BERTH_BRIDGE="bb-$$"
BERTH_BRIDGE=${BERTH_BRIDGE:0:15}
BERTH_BIP="10.$((200 + $$ % 50)).$(($$ % 250)).1/24"
BERTH_CLI=""
BERTH_WHY=""
DOCKER_WHY=""
PODMAN_WHY=""
PODMAN_BIN=""
DOCKER_CGROUP=""
CREATED_DIRS=()     # /run directories (and cgroup dirs) that did not exist before this run
CLEANED=0
POLICY_PLACED=""    # /usr/sbin/policy-rc.d while apt_install_no_start runs (removed even if interrupted)

log() { printf '\033[2m[bench] %s\033[0m\n' "$*" >&2; }
warn() { printf '\033[33m[bench] %s\033[0m\n' "$*" >&2; }

bench_init() {
  if [ "$(id -u)" != 0 ]; then echo "$0: run as root (it starts dockerd and berthd)" >&2; exit 1; fi
  # Short on purpose: berthd puts unix sockets (shim.sock, console.sock) under
  # <data-root>/containers/<64 hex>/ and sun_path holds 107 characters; berth's data root is $T/b,
  # 14 characters like the default /var/lib/berth.
  T=$(mktemp -d /tmp/bbXXXXXX)
  chmod 711 "$T"
  mkdir -p "$T/tmp"
  export TMPDIR="$T/tmp"
  export DOCKER_CONFIG="$T/docker-cli-config" DOCKER_CLI_HINTS=false
  mkdir -p "$DOCKER_CONFIG"
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # Directories that dockerd/containerd/runtimes create at fixed places: remove them at the end only
  # if this run created them and they are empty.
  local d
  for d in /run/docker /run/docker/plugins /run/containerd /run/containerd/s /run/containerd/runc; do
    [ -e "$d" ] || CREATED_DIRS+=("$d")
  done
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# PIDs (one per line) of processes whose exe basename is $1 and whose command line mentions $T.
pids_of_mine() {
  local name=$1 p exe
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    [ "${exe##*/}" = "$name" ] || continue
    tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF "$T/" || continue
    echo "${p#/proc/}"
  done
}

# kill_wait <seconds> <pid...>: SIGTERM, wait, then SIGKILL whatever is left.
kill_wait() {
  local secs=$1; shift
  local p alive i
  [ $# -gt 0 ] || return 0
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for ((i = 0; i < secs * 10; i++)); do
    alive=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && return 0
    sleep 0.1
  done
  for p in "$@"; do kill -0 "$p" 2>/dev/null && { warn "pid $p did not stop, SIGKILL"; kill -KILL "$p" 2>/dev/null || true; }; done
  sleep 0.2
}

# ---------------------------------------------------------------- registry + fixtures
bench_registry() {
  command -v skopeo >/dev/null && [ -x /usr/bin/docker-registry ] || {
    log "apt-get install skopeo docker-registry (fixtures need them)"
    apt_install_no_start skopeo docker-registry || { echo "apt-get install failed: $(tail -n 3 "$T/apt.err")" >&2; exit 1; }
  }
  [ -d "$ROOT/node_modules/tar-stream" ] || (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  PORT=$(free_port)
  log "fixture images -> registry on 127.0.0.1:$PORT"
  node "$ROOT/scripts/fixtures/build-images.mjs" "$T/oci" >/dev/null
  bash "$ROOT/scripts/fixtures/registry.sh" start "$PORT" "$T/registry" >/dev/null
  bash "$ROOT/scripts/fixtures/push-images.sh" "$T/oci" "127.0.0.1:$PORT" hello-world busybox >/dev/null
}

# apt-get install without letting maintainer scripts start services: a policy-rc.d that denies
# everything, put in place only if there is none, and removed right after.
apt_install_no_start() {
  local policy=/usr/sbin/policy-rc.d rc=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# placed by berth bench/lib.sh during apt-get install\nexit 101\n' >"$policy"
    chmod 755 "$policy"; POLICY_PLACED=$policy
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "$@" >"$T/apt.log" 2>"$T/apt.err" \
    || { apt-get update -qq >>"$T/apt.log" 2>>"$T/apt.err" && apt-get install -y -qq --no-install-recommends "$@" >>"$T/apt.log" 2>>"$T/apt.err"; } \
    || rc=$?
  [ -z "$POLICY_PLACED" ] || { rm -f "$POLICY_PLACED"; POLICY_PLACED=""; }
  return $rc
}

# ---------------------------------------------------------------- docker (Debian docker.io)
docker_cmd() { "$DOCKER_CLI" -H "unix://$T/docker.sock" "$@"; }

bench_docker_start() {
  if ! command -v dockerd >/dev/null; then
    log "dockerd missing: apt-get install -y docker.io (bench only; its init script is kept from starting a system dockerd)"
    if ! apt_install_no_start docker.io; then
      DOCKER_WHY="apt-get install docker.io failed: $(tail -n 3 "$T/apt.err")"
      return 1
    fi
  fi
  # The package may have started a system dockerd via its init script; that one is left alone:
  # ours has its own socket, roots, pidfile, containerd and cgroup parent.
  local cg d
  DOCKER_CGROUP="berth-bench-docker-${T##*/}"
  for d in /sys/fs/cgroup/*/; do
    [ -d "$d$DOCKER_CGROUP" ] || CREATED_DIRS+=("$d$DOCKER_CGROUP")
  done
  # crun is registered as an extra runtime (run-latency.sh --docker-crun); runc stays the default.
  # "deprecated-key-path" keeps dockerd 20.10 from writing its trust key to /etc/docker/key.json.
  local runtimes='{}'
  [ -x /usr/bin/crun ] && runtimes='{"crun":{"path":"/usr/bin/crun"}}'
  printf '{"deprecated-key-path":"%s","runtimes":%s}\n' "$T/docker-key.json" "$runtimes" >"$T/docker-daemon.json"
  mkdir -p "$T/docker-root" "$T/docker-exec"
  log "starting dockerd (own socket, data root, exec root, containerd; --bridge none)"
  setsid dockerd \
    -H "unix://$T/docker.sock" \
    --config-file "$T/docker-daemon.json" \
    --data-root "$T/docker-root" \
    --exec-root "$T/docker-exec" \
    --pidfile "$T/docker.pid" \
    --containerd-namespace berth-bench \
    --containerd-plugins-namespace berth-bench-plugins \
    --cgroup-parent "/$DOCKER_CGROUP" \
    --registry-mirror "http://127.0.0.1:$PORT" \
    --bridge none --iptables=false --ip-masq=false --ip6tables=false \
    --storage-driver overlay2 \
    >"$T/dockerd.log" 2>&1 </dev/null &
  DOCKERD_PID=$!
  local i
  for ((i = 0; i < 300; i++)); do
    if ! kill -0 "$DOCKERD_PID" 2>/dev/null; then
      DOCKER_WHY="dockerd exited: $(tail -n 5 "$T/dockerd.log")"; DOCKERD_PID=""; return 1
    fi
    if [ -S "$T/docker.sock" ] && docker_cmd version >/dev/null 2>&1; then
      [ -f "$T/docker.pid" ] && DOCKERD_PID=$(cat "$T/docker.pid")
      return 0
    fi
    sleep 0.1
  done
  DOCKER_WHY="dockerd did not answer within 30 s (log: $T/dockerd.log)"
  return 1
}

bench_docker_stop() {
  [ -n "$DOCKERD_PID" ] || return 0
  local ids
  ids=$(docker_cmd ps -aq 2>/dev/null || true)
  # shellcheck disable=SC2086
  [ -z "$ids" ] || timeout 60 "$DOCKER_CLI" -H "unix://$T/docker.sock" rm -f $ids >/dev/null 2>&1 || true
  local ctrd=""
  [ -f "$T/docker-exec/containerd/containerd.pid" ] && ctrd=$(cat "$T/docker-exec/containerd/containerd.pid")
  kill_wait 20 "$DOCKERD_PID"
  # dockerd stops its containerd on a clean shutdown; make sure, by PID, and any shim of ours.
  if [ -n "$ctrd" ] && kill -0 "$ctrd" 2>/dev/null && tr '\0' ' ' <"/proc/$ctrd/cmdline" | grep -qF "$T/"; then
    kill_wait 10 "$ctrd"
  fi
  # shellcheck disable=SC2046
  kill_wait 5 $(pids_of_mine containerd-shim-runc-v2)
  DOCKERD_PID=""
}

# ---------------------------------------------------------------- podman (only if installed)
podman_cmd() {
  "$PODMAN_BIN" --root "$T/podman/root" --runroot "$T/podman/run" --tmpdir "$T/podman/tmp" \
    --cgroup-manager cgroupfs --events-backend file "$@"
}

bench_podman_setup() {
  PODMAN_BIN=$(command -v podman || true)
  if [ -z "$PODMAN_BIN" ]; then PODMAN_WHY="podman not installed"; return 1; fi
  mkdir -p "$T/podman/root" "$T/podman/run" "$T/podman/tmp"
  export CONTAINERS_CONF="$T/podman/containers.conf"
  export CONTAINERS_REGISTRIES_CONF="$T/podman/registries.conf"
  export CONTAINERS_STORAGE_CONF="$T/podman/storage.conf"
  cat >"$T/podman/registries.conf" <<EOF
unqualified-search-registries = ["docker.io"]
[[registry]]
prefix = "docker.io"
location = "docker.io"
[[registry.mirror]]
location = "127.0.0.1:$PORT"
insecure = true
EOF
  cat >"$T/podman/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$T/podman/root"
runroot = "$T/podman/run"
EOF
  cat >"$T/podman/containers.conf" <<EOF
[containers]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/podman/events.log"
tmp_dir = "$T/podman/tmp"
volume_path = "$T/podman/volumes"
EOF
  if ! podman_cmd info >/dev/null 2>"$T/podman.err"; then
    PODMAN_WHY="podman info failed: $(tail -n 3 "$T/podman.err")"; PODMAN_BIN=""; return 1
  fi
}

bench_podman_stop() {
  [ -n "$PODMAN_BIN" ] || return 0
  engine_argv podman
  timeout 60 "${ARGV[@]}" rm -af -t 0 >/dev/null 2>&1 || true
  # shellcheck disable=SC2046
  kill_wait 5 $(pids_of_mine conmon)
  PODMAN_BIN=""
}

# ---------------------------------------------------------------- berth
berth_cmd() { node "$BERTH_CLI" -H "unix://$T/berth.sock" "$@"; }

bench_berth_start() {
  local d
  for d in /sys/fs/cgroup/*/; do [ -d "${d}berth" ] || CREATED_DIRS+=("${d}berth"); done
  if [ ! -f "$ROOT/dist/berthd.mjs" ] || [ ! -f "$ROOT/dist/berth.mjs" ]; then
    if [ -f "$ROOT/scripts/build.mjs" ]; then
      log "building berth (npm run build)"
      (cd "$ROOT" && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run -s build) >"$T/berth-build.log" 2>&1 \
        || { BERTH_WHY="npm run build failed: $(tail -n 3 "$T/berth-build.log")"; return 1; }
    else
      BERTH_WHY="not built (no dist/berthd.mjs, and no scripts/build.mjs to build it)"; return 1
    fi
  fi
  [ -f "$ROOT/dist/berthd.mjs" ] || { BERTH_WHY="build produced no dist/berthd.mjs"; return 1; }
  BERTH_CLI="$ROOT/dist/berth.mjs"
  [ -f "$BERTH_CLI" ] || { BERTH_WHY="build produced no dist/berth.mjs"; return 1; }
  if [ ! -x "$ROOT/native/shim/berth-shim" ] || [ "$ROOT/native/shim/berth-shim.c" -nt "$ROOT/native/shim/berth-shim" ]; then
    log "building berth-shim (make -C native/shim)"
    make -s -C "$ROOT/native/shim" >"$T/shim-build.log" 2>&1 \
      || { BERTH_WHY="make -C native/shim failed: $(tail -n 3 "$T/shim-build.log")"; return 1; }
  fi
  log "starting berthd (own socket, data root, bridge $BERTH_BRIDGE $BERTH_BIP)"
  # An empty own config file (not /etc/berth/daemon.json); `{}` rather than /dev/null, which berthd
  # rejects as invalid JSON.
  echo '{}' >"$T/berth-daemon.json"
  # BERTH_NODE_ARGS: options for node itself (e.g. --cpu-prof --cpu-prof-dir=DIR to see where a
  # benchmark's time goes); word-split on purpose.
  # shellcheck disable=SC2086
  setsid node ${BERTH_NODE_ARGS:-} "$ROOT/dist/berthd.mjs" \
    -H "unix://$T/berth.sock" \
    --data-root "$T/b" \
    --pidfile "$T/berthd.pid" \
    --config-file "$T/berth-daemon.json" \
    --registry-mirror "http://127.0.0.1:$PORT" \
    --bridge "$BERTH_BRIDGE" --bip "$BERTH_BIP" \
    >"$T/berthd.log" 2>&1 </dev/null &
  BERTHD_PID=$!
  local i
  for ((i = 0; i < 200; i++)); do
    if ! kill -0 "$BERTHD_PID" 2>/dev/null; then
      BERTH_WHY="berthd exited: $(tail -n 5 "$T/berthd.log")"; BERTHD_PID=""; return 1
    fi
    if [ -S "$T/berth.sock" ] && [ "$(curl -s --max-time 2 --unix-socket "$T/berth.sock" http://d/_ping 2>/dev/null)" = OK ]; then
      return 0
    fi
    sleep 0.1
  done
  BERTH_WHY="berthd did not answer /_ping within 20 s: $(tail -n 5 "$T/berthd.log")"
  return 1
}

bench_berth_stop() {
  if [ -n "$BERTHD_PID" ] && kill -0 "$BERTHD_PID" 2>/dev/null; then
    local ids
    ids=$(timeout 20 node "$BERTH_CLI" -H "unix://$T/berth.sock" ps -aq 2>/dev/null || true)
    # shellcheck disable=SC2086
    [ -z "$ids" ] || timeout 60 node "$BERTH_CLI" -H "unix://$T/berth.sock" rm -f $ids >/dev/null 2>&1 || true
    kill_wait 10 "$BERTHD_PID"
  fi
  BERTHD_PID=""
  # Shims outlive berthd by design (own session): stop ours, by PID (SIGTERM kills the container
  # and makes the shim clean up and unmount).
  # shellcheck disable=SC2046
  kill_wait 10 $(pids_of_mine berth-shim)
  # Our own bridge and iptables chains (never the system's berth0), by name.
  ip link del "$BERTH_BRIDGE" 2>/dev/null || true
  local chain="BERTH-${BERTH_BRIDGE^^}"
  iptables-save -t nat 2>/dev/null | grep -E -- "^-A (PREROUTING|OUTPUT|POSTROUTING) .*-j ${chain}(-POST)?\$" | sed 's/^-A/-D/' \
    | while read -r rule; do eval "iptables -t nat $rule" 2>/dev/null || true; done
  iptables -D FORWARD -j "${chain}-FWD" 2>/dev/null || true
  for c in "$chain" "${chain}-POST"; do iptables -t nat -F "$c" 2>/dev/null; iptables -t nat -X "$c" 2>/dev/null; done
  iptables -F "${chain}-FWD" 2>/dev/null; iptables -X "${chain}-FWD" 2>/dev/null || true
  # A shim that had to be SIGKILLed leaves its container in crun's state dir: delete ours by ID.
  local c id
  for c in "$T"/b/containers/*/; do
    [ -d "$c" ] || continue
    id=$(basename "$c")
    [ ! -e "/run/crun/$id" ] || crun delete --force "$id" >/dev/null 2>&1 || true
  done
}

# ---------------------------------------------------------------- common
# engine_argv <engine>: sets ARGV to the command line of that engine's CLI against our instance,
# so callers can run it directly (no shell function in the timed path) or under `timeout`.
engine_argv() {
  case $1 in
    docker) ARGV=("$DOCKER_CLI" -H "unix://$T/docker.sock") ;;
    berth) ARGV=(node "$BERTH_CLI" -H "unix://$T/berth.sock") ;;
    podman) ARGV=("$PODMAN_BIN" --root "$T/podman/root" --runroot "$T/podman/run" --tmpdir "$T/podman/tmp"
                  --cgroup-manager cgroupfs --events-backend file) ;;
    *) echo "unknown engine $1" >&2; return 2 ;;
  esac
}

# bench_pull <engine> <image...>: returns 1 on the first failure (error text in $T/pull-<engine>.err)
bench_pull() {
  local e=$1 img; shift
  engine_argv "$e"
  for img in "$@"; do
    timeout 120 "${ARGV[@]}" pull "$img" >"$T/pull-$e.out" 2>"$T/pull-$e.err" || return 1
  done
}

unmount_under_T() {
  local m
  [ -n "$T" ] || return 0
  # Deepest first. mountinfo field 5 is the mount point (octal-escaped; $T has no spaces).
  for m in $(awk -v t="$T/" 'index($5, t) == 1 || $5 == substr(t, 1, length(t) - 1) { print $5 }' /proc/self/mountinfo | sort -r -u); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || warn "could not unmount $m"
  done
}

bench_cleanup() {
  local rc=$?
  [ $CLEANED = 0 ] || return 0
  CLEANED=1
  trap '' INT TERM
  [ -n "$T" ] || exit $rc
  log "cleaning up $T"
  [ -z "$POLICY_PLACED" ] || rm -f "$POLICY_PLACED"
  bench_berth_stop || true
  bench_docker_stop || true
  bench_podman_stop || true
  if [ -n "$PORT" ]; then bash "$ROOT/scripts/fixtures/registry.sh" stop "$PORT" "$T/registry" >/dev/null 2>&1 || true; fi
  unmount_under_T
  # cgroups and /run directories this run created, deepest first, only if empty (rmdir).
  local i d
  for ((i = ${#CREATED_DIRS[@]} - 1; i >= 0; i--)); do
    d=${CREATED_DIRS[$i]}
    [ -d "$d" ] || continue
    if [[ $d == /sys/fs/cgroup/* ]]; then
      # remove empty child cgroups first (depth-first), then the dir itself
      find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    else
      rmdir "$d" 2>/dev/null || true
    fi
  done
  if [ -n "$(awk -v t="$T/" 'index($5, t) == 1' /proc/self/mountinfo)" ]; then
    warn "mounts remain under $T; not removing it"
  elif [ "${BENCH_KEEP:-0}" = 1 ]; then
    log "kept $T (BENCH_KEEP=1)"
  else
    rm -rf --one-file-system "$T"
  fi
  exit $rc
}
