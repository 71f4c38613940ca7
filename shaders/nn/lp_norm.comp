#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/lp_norm.glsl"
// LpNormalization along one axis: one invocation per (outer, inner) line walks the axis twice
// (norm, then divide); zero vectors stay zero, like the reference.
// Bindings: 0 X [outer, A, inner], 1 Y.
// Params (layout lp_norm, src/ops/nn/gpu/norm.ts): P_lines (outer * inner), P_A (axis length), P_inner.
// Defines: P (1 or 2).

layout(std430, binding = 0) readonly buffer InX { float x_[]; };
layout(std430, binding = 1) writeonly buffer Out { float y_[]; };

void main() {
  uint l = vkrt_index();
  if (l >= P_lines) return;
  uint inner = P_inner;
  uint base = (l / inner) * P_A * inner + l % inner;
  float n = 0.0;
  for (uint a = 0; a < P_A; a++) {
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
  for (uint a = 0; a < P_A; a++) y_[base + a * inner] = n == 0.0 ? 0.0 : x_[base + a * inner] / n;
}
