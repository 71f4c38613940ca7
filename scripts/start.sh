#!/usr/bin/env bash
# `npm start`: set up whatever is missing, then run the main job on the bundled default.
# The device report, the native self-test, then the bundled default model (`vkrt demo`: a
# MobileNetV2-shaped network built in code, run on the GPU and checked against the reference).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node dist/cli/main.js devices
echo
node dist/cli/main.js selftest
echo
node dist/cli/main.js demo "$@"
