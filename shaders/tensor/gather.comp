#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
#include "params/gather.glsl"
// Gather along one axis: data viewed as [outer, axisDim, inner], output as [outer, nIdx, inner].
// Bindings: 0 data (uint[]), 1 indices (int[]), 2 y (uint[]).
// Params (layout gather, src/ops/tensor/kernels.ts): P_n, P_inner, P_nIdx, P_axisDim.
layout(std430, binding = 0) readonly buffer X { VKRT_WORD x[]; };
layout(std430, binding = 1) readonly buffer I { int ind[]; };
layout(std430, binding = 2) writeonly buffer Y { VKRT_WORD y[]; };

void main() {
  uint i = vkrt_index();
  if (i >= P_n) return;
  uint r = i % P_inner;
  uint t = i / P_inner;
  uint j = t % P_nIdx;
  uint o = t / P_nIdx;
  uint v = tensor_fix_index(ind[j], P_axisDim);
  y[i] = x[(o * P_axisDim + v) * P_inner + r];
}
