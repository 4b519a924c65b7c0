#!/usr/bin/env bash
# The whole test suite: installs what it needs, then unit and integration tests under node:test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --deps-only
npx tsc --noEmit -p .
# the dashboard's front end (web/, strict, DOM types)
npx tsc --noEmit -p web
shopt -s nullglob globstar
# Test files run side by side, BERTH_TEST_CONCURRENCY at a time (default 2): each integration file
# starts its own daemon on its own temp root, socket, bridge, subnet, chains and registry, as the
# files of clones tested at the same time on one host do, and most of a file's time is spent
# waiting on processes (crun, the shim, the registry), not on CPU. The leak check (zz-no-leaks)
# looks at the whole host, so it runs alone, after all of them.
files=()
for f in test/unit/**/*.test.ts test/integration/**/*.test.ts; do
  [[ $f == */zz-no-leaks.test.ts ]] || files+=("$f")
done
status=0
node --import tsx --test --test-concurrency="${BERTH_TEST_CONCURRENCY:-2}" --test-reporter=spec "${files[@]}" || status=$?
node --import tsx --test --test-concurrency=1 --test-reporter=spec test/integration/zz-no-leaks.test.ts || status=$?
exit "$status"
