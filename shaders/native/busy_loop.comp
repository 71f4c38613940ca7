#version 450
// A deliberately long GPU job for the event-loop test: each invocation iterates a hash.
// out[i] = h applied 16 * iterations times to i, h(x) = (y ^ (y >> 13)) with y = x * 1664525 +
// 1013904223, all mod 2^32. Each loop iteration does 16 steps because llvmpipe (lavapipe) ends a
// shader's loops after 65535 iterations in total: keep `iterations` below that.
//
// Bindings (set 0):   0  out  uint[]  write
// Specialization:     0  LOCAL_SIZE_X  uint  workgroup size (default 64)
// Push constants (8 bytes):
//                     0  uint  n           element count
//                     4  uint  iterations  loop iterations (16 hash steps each), < 65536
#extension GL_GOOGLE_include_directive : require
#include "index.glsl"

layout(local_size_x = 64, local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Out { uint outv[]; };
layout(push_constant) uniform Push { uint n; uint iterations; } pc;

#define STEP h = h * 1664525u + 1013904223u; h ^= h >> 13;
#define STEP4 STEP STEP STEP STEP

void main() {
  uint i = global_index();
  if (i >= pc.n) return;
  uint h = i;
  for (uint k = 0u; k < pc.iterations; k++) {
    STEP4 STEP4 STEP4 STEP4
  }
  outv[i] = h;
}
