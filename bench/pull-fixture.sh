#!/usr/bin/env bash
# Build (once) the pull benchmark's image as an OCI image layout, cached for later runs:
#
#   bench/pull-fixture.sh [OUT-DIR]        default /var/lib/berth-bench/pull-image
#
# (Not under /var/lib/berth-fixtures: scripts/install.sh rebuilds that directory from scratch.)
#
# Four gzip layers, ~150 MB compressed:
#   1. a Debian bookworm minbase made offline-style with debootstrap (from the Debian mirror named
#      in /etc/apt/sources.list*), ~8,000 small files;
#   2. 2,000 random 16 KiB files (many files: per-file cost);
#   3. four random 10 MiB files (big files: throughput);
#   4. 500 random 64 KiB files plus 8 random 4 MiB files (a mix).
# Random data does not compress, so compressed size ≈ uncompressed size for layers 2-4.
# The index entry is named `bench-pull`. Prints the directory. A second run only prints it.
set -euo pipefail
OUT=${1:-/var/lib/berth-bench/pull-image}
if [ -f "$OUT/index.json" ]; then echo "$OUT"; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "$0: run as root (debootstrap)" >&2; exit 1; }
command -v debootstrap >/dev/null || {
  echo "[pull-fixture] apt-get install debootstrap" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
}

mirror() {
  local u
  u=$(grep -hE '^\s*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  [ -n "$u" ] || u=$(grep -hE '^\s*deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  echo "${u:-http://deb.debian.org/debian}"
}

W=$(mktemp -d /tmp/bench-pull-fixture.XXXXXX)
trap 'rm -rf --one-file-system "$W"' EXIT
mkdir -p "$W/blobs/sha256" "$W/rootfs"

echo "[pull-fixture] debootstrap --variant=minbase bookworm ($(mirror))" >&2
debootstrap --variant=minbase bookworm "$W/rootfs" "$(mirror)" >"$W/debootstrap.log" 2>&1 \
  || { tail -n 20 "$W/debootstrap.log" >&2; exit 1; }
# What a base image leaves out: apt lists and caches, logs.
rm -rf "$W/rootfs/var/cache/apt/archives/"*.deb "$W/rootfs/var/lib/apt/lists/"* "$W/rootfs/var/log/"*

rand_files() { # dir count size-bytes
  local d=$1 n=$2 sz=$3 i
  mkdir -p "$d"
  for ((i = 0; i < n; i++)); do head -c "$sz" /dev/urandom >"$d/f$i"; done
}
rand_files "$W/l2/data/small" 2000 16384
rand_files "$W/l3/data/big" 4 $((10 * 1024 * 1024))
rand_files "$W/l4/data/mixed" 500 65536
rand_files "$W/l4/data/mixed-big" 8 $((4 * 1024 * 1024))

DIFFIDS=() LAYERS=()
add_layer() { # dir
  local tarf=$W/layer.tar gzf=$W/layer.tar.gz diff dig size
  tar --numeric-owner --xattrs --sort=name -C "$1" -cf "$tarf" .
  diff=$(sha256sum "$tarf" | cut -d' ' -f1)
  gzip -n -6 -c "$tarf" >"$gzf"
  dig=$(sha256sum "$gzf" | cut -d' ' -f1)
  size=$(stat -c %s "$gzf")
  mv "$gzf" "$W/blobs/sha256/$dig"
  rm -f "$tarf"
  DIFFIDS+=("\"sha256:$diff\"")
  LAYERS+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$dig\",\"size\":$size}")
  echo "[pull-fixture] layer sha256:${dig:0:12} $size bytes" >&2
}
add_layer "$W/rootfs"
add_layer "$W/l2"
add_layer "$W/l3"
add_layer "$W/l4"

join() { local IFS=,; echo "$*"; }
put_blob() { # json -> prints "digest size"
  local f=$W/blob.json d
  printf '%s' "$1" >"$f"
  d=$(sha256sum "$f" | cut -d' ' -f1)
  mv "$f" "$W/blobs/sha256/$d"
  echo "sha256:$d $(stat -c %s "$W/blobs/sha256/$d")"
}
CONFIG="{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-01T00:00:00Z\",\"config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[\"bash\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$(join "${DIFFIDS[@]}")]},\"history\":[{\"created\":\"2024-01-01T00:00:00Z\",\"created_by\":\"bench/pull-fixture.sh\"}]}"
read -r CDIG CSIZE < <(put_blob "$CONFIG")
MANIFEST="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$CDIG\",\"size\":$CSIZE},\"layers\":[$(join "${LAYERS[@]}")]}"
read -r MDIG MSIZE < <(put_blob "$MANIFEST")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"bench-pull"}}]}\n' "$MDIG" "$MSIZE" >"$W/index.json"
printf '{"imageLayoutVersion":"1.0.0"}\n' >"$W/oci-layout"

mkdir -p "$(dirname "$OUT")"
rm -rf "$OUT.tmp"
mkdir -p "$OUT.tmp"
mv "$W/blobs" "$W/index.json" "$W/oci-layout" "$OUT.tmp/"
mv "$OUT.tmp" "$OUT"
echo "$OUT"
