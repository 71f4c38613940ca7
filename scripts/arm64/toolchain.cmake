# CMake toolchain for linux-arm64 (aarch64, glibc) on a Debian x86-64 host: Debian's cross compiler
# (crossbuild-essential-arm64), the Vulkan loader through multiarch (libvulkan-dev:arm64) and the
# static shaderc/glslang/SPIRV-Tools of the sysroot scripts/arm64/setup.sh unpacks.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
if(DEFINED ENV{VKRT_ARM64_SYSROOT})
  set(VKRT_ARM64_SYSROOT $ENV{VKRT_ARM64_SYSROOT})
else()
  set(VKRT_ARM64_SYSROOT $ENV{HOME}/.cache/vkrt/arm64-sysroot)
endif()
# Search the cross toolchain's root, the unpacked sysroot, then the host's multiarch folders
# (/usr/lib/aarch64-linux-gnu through CMAKE_LIBRARY_ARCHITECTURE); programs (glslc) from the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu ${VKRT_ARM64_SYSROOT} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
