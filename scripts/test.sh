#!/usr/bin/env bash
# `npm test`: set up whatever is missing, typecheck everything (src, test, bench), lint and check the
# import layering (.dependency-cruiser.cjs), then run every mocha test with the Khronos validation
# layer on. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "test: typecheck (src, test, bench)"
npx --no-install tsc -p test/tsconfig.json
echo "test: lint (eslint) and layering (dependency-cruiser)"
npm run --silent lint
echo "test: mocha"
export VKRT_VALIDATION=1
log=$(mktemp)
status=0
npm run --silent test:unit 2>&1 | tee "$log" || status=$?
# one plain closing line for CI readers: "N passed, N failed"
passed=$(grep -Eo '^ +[0-9]+ passing' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
failed=$(grep -Eo '^ +[0-9]+ failing' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
rm -f "$log"
echo "${passed} passed, ${failed} failed"
exit "$status"
