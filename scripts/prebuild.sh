#!/usr/bin/env bash
# Builds the prebuilt addon the package ships for one platform, in node-gyp-build's layout:
#   bash scripts/prebuild.sh x64     ->  prebuilds/linux-x64/node.napi.glibc.node
#   bash scripts/prebuild.sh arm64   ->  prebuilds/linux-arm64/node.napi.glibc.node (cross-compiled)
# Node-API 8, so one file serves every Node >= 18 and Electron. Stripped (--strip-all): the
# dynamic symbols the loader needs stay. x64 is the regular build (build/, as npm run build:native);
# arm64 uses Debian's cross toolchain and arm64 libraries (scripts/arm64/setup.sh installs them)
# in build-arm64/. Each prints the file's architecture.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:?usage: scripts/prebuild.sh x64|arm64}
case "$arch" in
  x64)
    [ "$(uname -m)" = x86_64 ] || { echo "prebuild x64: build it on an x86-64 host" >&2; exit 1; }
    npx --no-install cmake-js build --out build
    touch build/.vkrt-native-stamp
    out=build/Release/vkrt.node strip=strip ;;
  arm64)
    bash scripts/arm64/setup.sh
    npx --no-install cmake-js build --out build-arm64 --CDCMAKE_TOOLCHAIN_FILE="$PWD/scripts/arm64/toolchain.cmake" --CDVKRT_SHADERS=OFF
    out=build-arm64/Release/vkrt.node strip=aarch64-linux-gnu-strip ;;
  *) echo "prebuild: unknown arch '$arch' (x64 or arm64)" >&2; exit 1 ;;
esac
dest=prebuilds/linux-$arch/node.napi.glibc.node
mkdir -p "$(dirname "$dest")"
"$strip" --strip-all -o "$dest" "$out"
echo "prebuild: $dest ($(stat -c %s "$dest") bytes, from $(stat -c %s "$out")): $(file -b "$dest" | cut -d, -f1-2)"
