#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
// GatherND: output element i copies element q of the slice that index tuple t names.
// Bindings: 0 data (uint[]), 1 indices (int[], M per tuple), 2 y (uint[]).
// Params: 0 n, 1 slice (elements per tuple), 2 tuples per batch element, 3 data elements per batch
//   element, then per tuple entry j: 4+2j data dim, 5+2j data stride.
// Defines: M (tuple length).
layout(std430, binding = 0) readonly buffer X { VKRT_WORD x[]; };
layout(std430, binding = 1) readonly buffer I { int ind[]; };
layout(std430, binding = 2) writeonly buffer Y { VKRT_WORD y[]; };

void main() {
  uint i = vkrt_index();
  if (i >= PARAM(0)) return;
  uint q = i % PARAM(1);
  uint t = i / PARAM(1);
  uint so = (t / PARAM(2)) * PARAM(3) + q;
  for (int j = 0; j < M; j++) so += tensor_fix_index(ind[t * uint(M) + uint(j)], TP(4 + 2 * j)) * TP(5 + 2 * j);
  y[i] = x[so];
}
