#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
// LpNormalization along one axis: one invocation per (outer, inner) line walks the axis twice
// (norm, then divide); zero vectors stay zero, like the reference.
// Bindings: 0 X [outer, A, inner], 1 Y.
// Params: 0 lines (outer * inner), 1 A (axis length), 2 inner.
// Defines: P (1 or 2).

layout(std430, binding = 0) readonly buffer InX { float x_[]; };
layout(std430, binding = 1) writeonly buffer Out { float y_[]; };

void main() {
  uint l = vkrt_index();
  if (l >= PARAM(0)) return;
  uint inner = PARAM(2);
  uint base = (l / inner) * PARAM(1) * inner + l % inner;
  float n = 0.0;
  for (uint a = 0; a < PARAM(1); a++) {
    float v = x_[base + a * inner];
#if P == 1
    n += abs(v);
#else
    n += v * v;
#endif
  }
#if P == 2
  n = sqrt(n);
#endif
  for (uint a = 0; a < PARAM(1); a++) y_[base + a * inner] = n == 0.0 ? 0.0 : x_[base + a * inner] / n;
}
