#!/usr/bin/env bash
# Installs and builds whatever is missing; does nothing that is already done (idempotent).
#   1. system packages (Debian/Ubuntu): installed with apt-get when run as root, otherwise the
#      exact sudo command is printed and setup stops;
#   2. npm dependencies (npm ci) when node_modules is missing or older than package-lock.json;
#   3. the native addon and the SPIR-V of every shader when missing or older than their sources;
#   4. the TypeScript build (dist/);
#   5. the shared test data (../shared/data) unpacked into .data/ when it exists.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "setup: $*"; }

# ---- 1. system packages -------------------------------------------------------------------------
# Build: cmake g++ make; Vulkan headers/loader: libvulkan-dev; shader compilers: glslc and
# libshaderc-dev (+ glslang-dev spirv-tools, whose static libraries it links against on Debian);
# lavapipe (CPU Vulkan driver): mesa-vulkan-drivers; tests: vulkan-validationlayers; data: xz-utils.
PKGS=(cmake g++ make libvulkan-dev glslc libshaderc-dev glslang-dev spirv-tools
      mesa-vulkan-drivers vulkan-validationlayers xz-utils)
if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ]; then
      say "installing ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
      echo "setup: missing system packages: ${missing[*]}" >&2
      echo "setup: install them with:" >&2
      echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
      exit 1
    fi
  fi
else
  say "not a Debian/Ubuntu system: make sure these (or your distribution's equivalents) are installed: ${PKGS[*]}"
fi

# ---- 2. npm dependencies ------------------------------------------------------------------------
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] ||
   { [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  say "installing npm dependencies"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi

# ---- 3. native addon + SPIR-V -------------------------------------------------------------------
stamp=build/.vkrt-native-stamp
if [ ! -f build/Release/vkrt.node ] || [ ! -f "$stamp" ] ||
   [ -n "$(find native binding shaders CMakeLists.txt -newer "$stamp" -type f -print -quit 2>/dev/null)" ]; then
  say "building the native addon and shaders (npm run build:native)"
  npm run --silent build:native
  touch "$stamp"
fi

# ---- 4. TypeScript ------------------------------------------------------------------------------
say "compiling TypeScript (npm run build:ts)"
npm run --silent build:ts

# ---- 5. test data -------------------------------------------------------------------------------
if [ -x ../shared/data/unpack.sh ]; then
  ../shared/data/unpack.sh .data
fi
say "ready"
