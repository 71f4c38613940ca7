#!/usr/bin/env bash
# The ARM64 (aarch64) toolchain and test sysroot on a Debian 12 x86-64 machine, idempotent:
#   - apt: crossbuild-essential-arm64 (aarch64-linux-gnu-g++), qemu-user, and through multiarch
#     libvulkan-dev:arm64 (the Vulkan loader to link against);
#   - $VKRT_ARM64_SYSROOT (default ~/.cache/vkrt/arm64-sysroot): Debian's arm64 packages that must
#     not be installed on the host, unpacked with `apt-get download` + `dpkg -x`: libshaderc-dev,
#     glslang-dev and spirv-tools (static libraries to link; spirv-tools is not Multi-Arch: same, so
#     apt would remove the host's copy), nodejs with its libraries (to run the tests under qemu), and
#     mesa-vulkan-drivers (lavapipe; kept out of the host's /usr/share/vulkan/icd.d, where the
#     host's Vulkan loader would report the foreign driver), each with its dependencies.
# Used by scripts/prebuild.sh arm64 and scripts/arm64/test.sh.
set -euo pipefail
SYSROOT=${VKRT_ARM64_SYSROOT:-$HOME/.cache/vkrt/arm64-sysroot}
say() { echo "arm64 setup: $*"; }

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  [ "$(id -u)" = 0 ] || { echo "run as root, or: sudo dpkg --add-architecture arm64 && sudo apt-get update" >&2; exit 1; }
  say "enabling the arm64 architecture (dpkg --add-architecture arm64)"
  dpkg --add-architecture arm64
  apt-get update -qq
fi
HOST_PKGS=(crossbuild-essential-arm64 qemu-user libvulkan-dev:arm64)
missing=()
for p in "${HOST_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  [ "$(id -u)" = 0 ] || { echo "missing: ${missing[*]}; install with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2; exit 1; }
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

ROOTS=(libshaderc-dev glslang-dev spirv-tools nodejs mesa-vulkan-drivers vulkan-validationlayers)
stamp="$SYSROOT/.vkrt-sysroot-$(echo "${ROOTS[*]}" | md5sum | cut -c1-8)"
if [ ! -f "$stamp" ]; then
  say "unpacking Debian arm64 packages into $SYSROOT: ${ROOTS[*]} and their dependencies"
  mkdir -p "$SYSROOT/.debs"
  # the dependency closure, as apt resolves it (virtual packages and alternatives skipped)
  mapfile -t pkgs < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
      --no-replaces --no-enhances "${ROOTS[@]/%/:arm64}" | grep -E '^[a-z0-9]' | sed 's/:arm64$//' | sort -u)
  (cd "$SYSROOT/.debs" && for p in "${pkgs[@]}"; do
     ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download -qq "$p:arm64" 2>/dev/null || apt-get download -qq "$p" 2>/dev/null || echo "skip $p"
   done)
  for d in "$SYSROOT"/.debs/*.deb; do dpkg -x "$d" "$SYSROOT"; done
  touch "$stamp"
fi
say "ready: sysroot $SYSROOT ($(ls "$SYSROOT"/.debs | wc -l) packages)"
