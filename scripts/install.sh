#!/usr/bin/env bash
# Install everything Berth needs on a fresh Debian machine (as root), build it, prepare the
# offline images in a loopback registry, start berthd and run hello-world.
#   scripts/install.sh              the README's first command
#   scripts/install.sh --deps-only  packages, npm deps and the build only (used by the tests)
# Safe to run again: every step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEPS_ONLY=0
[ "${1:-}" = "--deps-only" ] && DEPS_ONLY=1

REGISTRY_PORT=${BERTH_REGISTRY_PORT:-5000}
REGISTRY_DIR=/var/lib/berth-registry
FIXTURES_DIR=/var/lib/berth-fixtures
SOCK=/run/berth/berth.sock

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then echo "install.sh: run as root" >&2; exit 1; fi

# 1. Debian packages
PKGS=(crun runc docker-registry busybox-static skopeo iptables iproute2 gcc make libc6-dev util-linux curl python3-docker docker-compose golang-github-containers-common tini)
# zstd: the pull-zstd tests make zstd layers; debootstrap: compose's offline Debian service images
# (scripts/fixtures/debian-images.mjs) and bench/pull-fixture.sh
PKGS+=(zstd debootstrap)
# chattr: layer directories are marked as hierarchy tops on ext4 (src/engine/host/spread-dirs.ts)
PKGS+=(e2fsprogs)
# the dashboard's end-to-end tests drive Debian's chromium (test/integration/dashboard-e2e.test.ts)
PKGS+=(chromium)
missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The API socket's group (as Docker's `docker`): berthd makes its socket root:berth 0660.
# Membership is root-equivalent; add users with `usermod -aG berth USER` knowingly.
getent group berth >/dev/null || { say "groupadd berth"; groupadd -f berth; }

# 2. npm dependencies and the build
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
say "build (berth, berthd, berth-shim)"
npm run -s build
make -s -C native/shim

[ $DEPS_ONLY = 1 ] && exit 0

ln -sf "$ROOT/dist/berth.mjs" /usr/local/bin/berth
ln -sf "$ROOT/dist/berthd.mjs" /usr/local/bin/berthd
# `docker compose …` runs Berth's compose: the docker CLI plugin (bin/docker-compose-plugin)
mkdir -p "${HOME:-/root}/.docker/cli-plugins"
ln -sf "$ROOT/bin/docker-compose-plugin" "${HOME:-/root}/.docker/cli-plugins/docker-compose"

# 3. Offline images, served by a registry on loopback that berthd uses as its Docker Hub mirror
say "offline images -> registry on 127.0.0.1:$REGISTRY_PORT"
node scripts/fixtures/build-images.mjs "$FIXTURES_DIR" >/dev/null
bash scripts/fixtures/registry.sh start "$REGISTRY_PORT" "$REGISTRY_DIR" >/dev/null
bash scripts/fixtures/push-images.sh "$FIXTURES_DIR" "127.0.0.1:$REGISTRY_PORT" >/dev/null

mkdir -p /etc/berth
node -e '
  const fs = require("fs"); const f = "/etc/berth/daemon.json"; const mirror = process.argv[1];
  let c = {}; try { c = JSON.parse(fs.readFileSync(f, "utf8")); } catch {}
  c["registry-mirrors"] = [mirror, ...(c["registry-mirrors"] || []).filter((m) => m !== mirror)];
  fs.writeFileSync(f, JSON.stringify(c, null, 2) + "\n");
' "http://127.0.0.1:$REGISTRY_PORT"

# 4. berthd
if ! berth version >/dev/null 2>&1; then
  say "starting berthd (log: /var/log/berthd.log)"
  nohup setsid berthd >>/var/log/berthd.log 2>&1 </dev/null &
  for _ in $(seq 1 100); do [ -S "$SOCK" ] && berth version >/dev/null 2>&1 && break; sleep 0.1; done
fi

say "berth run hello-world"
berth run hello-world
