#!/usr/bin/env bash
# The ARM64 (linux-arm64, glibc) build tested on this x86-64 machine under qemu-user, with Debian's
# arm64 Node.js (18) and Debian's arm64 lavapipe (mesa-vulkan-drivers:arm64), all from
# scripts/arm64/setup.sh. Too slow for `npm test` (qemu runs Node and LLVM's JIT ~10-30x slower);
# run it before a release:
#
#   bash scripts/arm64/test.sh            # setup, cross build, then the subset below
#   VKRT_VALIDATION=1 bash scripts/arm64/test.sh   # the same under the arm64 Khronos validation layer
#
# The subset: `vkrt devices`, `vkrt selftest`, `vkrt demo`, the native tests (buffers, dispatch,
# GLSL, lifetimes, arguments, timestamps), the model suite (test/gpu/models: real models against
# their reference outputs), the onnxruntime-node parity tests (without the side-by-side run with
# onnxruntime-node itself: its arm64 binary crashes under qemu-user), and the packaging test (the packed
# tarball installed into an app and mnist-8 run from CJS, ESM and TypeScript) with the arm64 Node.
# Tests run from JavaScript compiled by tsc (tsx's esbuild has no arm64 binary here).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SYSROOT=${VKRT_ARM64_SYSROOT:-$HOME/.cache/vkrt/arm64-sysroot}
export VKRT_ARM64_SYSROOT=$SYSROOT
bash scripts/arm64/setup.sh
addon=prebuilds/linux-arm64/node.napi.glibc.node
if [ ! -f "$addon" ] || [ -n "$(find native binding CMakeLists.txt -newer "$addon" -type f -print -quit)" ]; then
  bash scripts/prebuild.sh arm64
fi
node scripts/embed-assets.cjs

work=$(mktemp -d /tmp/vkrt-arm64-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "arm64 test: compiling src/ and test/ to JavaScript in $work"
npx --no-install tsc -p test/tsconfig.json --noEmit false --outDir "$work" --sourceMap false
cp src/gpu/assets.generated.js "$work/src/gpu/"
cp package.json "$work/"
ln -s "$ROOT/prebuilds" "$work/prebuilds"
ln -s "$ROOT/node_modules" "$work/node_modules"
ln -s "$ROOT/.data" "$work/.data"

export VK_DRIVER_FILES=$SYSROOT/usr/share/vulkan/icd.d/lvp_icd.aarch64.json
export VK_ICD_FILENAMES=$VK_DRIVER_FILES
node64() { qemu-aarch64 -L "$SYSROOT" "$SYSROOT/usr/bin/node" "$@"; }
status=0
step() { echo; echo "== arm64: $*"; }

step "node $(node64 -p 'process.version + " " + process.arch'), $(file -b "$addon" | cut -d, -f1-2)"
step "vkrt devices"
node64 "$work/src/cli/main.js" devices | head -4 || status=1
step "vkrt selftest"
node64 "$work/src/cli/main.js" selftest || status=1
step "vkrt demo --size=32"
node64 "$work/src/cli/main.js" demo --size=32 --iterations=2 || status=1
step "mocha: native tests, model suite, onnxruntime-node parity"
VKRT_SKIP_ORT=1 node64 node_modules/mocha/bin/mocha.js --no-config --reporter spec --timeout 0 \
  "$work"/test/native/{buffer,dispatch,glsl,lifetime,arguments,timing}.test.js \
  "$work"/test/gpu/models.test.js "$work"/test/api/onnxruntime.test.js || status=1
step "packaging: npm pack, install, mnist-8 from CJS, ESM and TypeScript with the arm64 Node"
VKRT_PACKAGE_NODE="qemu-aarch64 -L $SYSROOT $SYSROOT/usr/bin/node" node scripts/test-package.mjs || status=1
echo
[ "$status" = 0 ] && echo "arm64: all steps passed" || echo "arm64: FAILED (see above)"
exit "$status"
