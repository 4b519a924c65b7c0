#!/usr/bin/env bash
# The whole test suite: installs what it needs, then unit and integration tests under node:test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --deps-only
npx tsc --noEmit -p .
# the dashboard's front end (web/, strict, DOM types)
npx tsc --noEmit -p web
shopt -s nullglob globstar
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec \
  test/unit/**/*.test.ts test/integration/**/*.test.ts
