#!/usr/bin/env bash
# `npm start`: set up whatever is missing, then run the main job on the bundled default.
# For now that is the device report and the native self-test; it becomes "run a bundled model"
# once the engine runs models.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node dist/cli/main.js devices
echo
node dist/cli/main.js selftest "$@"
