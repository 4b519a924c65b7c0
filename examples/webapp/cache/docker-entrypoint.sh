#!/bin/bash
# The example's redis image (cache/Dockerfile): redis-server in the foreground as user redis, data in /data.
set -euo pipefail
if [ "${1:-}" = redis-server ] && [ "$(id -u)" = 0 ]; then
  mkdir -p /data; chown redis:redis /data
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
exec "$@"
