#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/det.glsl"
// Det (src/ops/tensor/misc.ts): one invocation per matrix; LU decomposition with partial pivoting
// (the reference's algorithm) on the invocation's copy of its matrix in scratch.
// Bindings: 0 x [..., M, M], 1 y [...], 2 scratch (float, count*M*M).
// Params (layout det, src/ops/tensor/kernels.ts): P_count, P_M.
layout(std430, binding = 0) readonly buffer InX { FT x_[]; };
layout(std430, binding = 1) writeonly buffer OutY { FT y_[]; };
layout(std430, binding = 2) buffer Scratch { float a_[]; };

void main() {
  uint b = vkrt_index();
  if (b >= P_count) return;
  uint n = P_M, o = b * n * n;
  for (uint i = 0u; i < n * n; i++) a_[o + i] = float(x_[o + i]);
  float det = 1.0;
  for (uint c = 0u; c < n; c++) {
    uint p = c;
    for (uint r = c + 1u; r < n; r++) if (abs(a_[o + r * n + c]) > abs(a_[o + p * n + c])) p = r;
    if (a_[o + p * n + c] == 0.0) { det = 0.0; break; }
    if (p != c) {
      for (uint j = 0u; j < n; j++) { float t = a_[o + c * n + j]; a_[o + c * n + j] = a_[o + p * n + j]; a_[o + p * n + j] = t; }
      det = -det;
    }
    float piv = a_[o + c * n + c];
    det *= piv;
    for (uint r = c + 1u; r < n; r++) {
      float f = a_[o + r * n + c] / piv;
      if (f == 0.0) continue;
      for (uint j = c; j < n; j++) a_[o + r * n + j] -= f * a_[o + c * n + j];
    }
  }
  y_[b] = FT(det);
}
