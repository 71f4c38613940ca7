#!/usr/bin/env bash
# `npm test`: set up whatever is missing, typecheck everything (src, test, bench), then run every
# mocha test with the Khronos validation layer on. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "test: typecheck (src, test, bench)"
npx --no-install tsc -p test/tsconfig.json
echo "test: mocha"
export VKRT_VALIDATION=1
npm run --silent test:unit
