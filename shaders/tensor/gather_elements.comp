#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
#include "params/gather_elements.glsl"
// GatherElements: y[c] = data[c with c_axis replaced by indices[c]] over the indices' shape.
// Bindings: 0 data (uint[]), 1 indices (int[]), 2 y (uint[]).
// Params (layout gather_elements, src/ops/tensor/kernels.ts): P_n, P_axisDim, P_axisStride, then per axis k
//   (innermost first): P_axes_dim(k) (indices), P_axes_stride(k) (data; 0 on the gather axis).
// Defines: RANK.
layout(std430, binding = 0) readonly buffer X { VKRT_WORD x[]; };
layout(std430, binding = 1) readonly buffer I { int ind[]; };
layout(std430, binding = 2) writeonly buffer Y { VKRT_WORD y[]; };

void main() {
  uint i = vkrt_index();
  if (i >= P_n) return;
  uint rem = i;
  uint so = 0u;
  for (int k = 0; k < RANK; k++) {
    uint d = P_axes_dim(k);
    so += (rem % d) * P_axes_stride(k);
    rem /= d;
  }
  so += tensor_fix_index(ind[i], P_axisDim) * P_axisStride;
  y[i] = x[so];
}
