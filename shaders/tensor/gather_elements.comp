#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
// GatherElements: y[c] = data[c with c_axis replaced by indices[c]] over the indices' shape.
// Bindings: 0 data (uint[]), 1 indices (int[]), 2 y (uint[]).
// Params: 0 n, 1 axisDim, 2 axisStride, then per axis k (innermost first): 3+2k dim (indices),
//   4+2k data stride (0 on the gather axis).
// Defines: RANK.
layout(std430, binding = 0) readonly buffer X { VKRT_WORD x[]; };
layout(std430, binding = 1) readonly buffer I { int ind[]; };
layout(std430, binding = 2) writeonly buffer Y { VKRT_WORD y[]; };

void main() {
  uint i = vkrt_index();
  if (i >= PARAM(0)) return;
  uint rem = i;
  uint so = 0u;
  for (int k = 0; k < RANK; k++) {
    uint d = TP(3 + 2 * k);
    so += (rem % d) * TP(4 + 2 * k);
    rem /= d;
  }
  so += tensor_fix_index(ind[i], PARAM(1)) * PARAM(2);
  y[i] = x[so];
}
