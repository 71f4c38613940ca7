#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
// Gather along one axis: data viewed as [outer, axisDim, inner], output as [outer, nIdx, inner].
// Bindings: 0 data (uint[]), 1 indices (int[]), 2 y (uint[]).
// Params: 0 n, 1 inner, 2 nIdx, 3 axisDim.
layout(std430, binding = 0) readonly buffer X { VKRT_WORD x[]; };
layout(std430, binding = 1) readonly buffer I { int ind[]; };
layout(std430, binding = 2) writeonly buffer Y { VKRT_WORD y[]; };

void main() {
  uint i = vkrt_index();
  if (i >= PARAM(0)) return;
  uint r = i % PARAM(1);
  uint t = i / PARAM(1);
  uint j = t % PARAM(2);
  uint o = t / PARAM(2);
  uint v = tensor_fix_index(ind[j], PARAM(3));
  y[i] = x[(o * PARAM(3) + v) * PARAM(1) + r];
}
