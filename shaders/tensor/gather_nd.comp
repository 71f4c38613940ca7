#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
#include "params/gather_nd.glsl"
// GatherND: output element i copies element q of the slice that index tuple t names.
// Bindings: 0 data (uint[]), 1 indices (int[], M per tuple), 2 y (uint[]).
// Params (layout gather_nd, src/ops/tensor/kernels.ts): P_n, P_slice (elements per tuple), P_perBatch (tuples
//   per batch element), P_dataBatch (data elements per batch element), then per tuple entry j:
//   P_tuple_dim(j), P_tuple_stride(j) (data).
// Defines: M (tuple length).
layout(std430, binding = 0) readonly buffer X { VKRT_WORD x[]; };
layout(std430, binding = 1) readonly buffer I { int ind[]; };
layout(std430, binding = 2) writeonly buffer Y { VKRT_WORD y[]; };

void main() {
  uint i = vkrt_index();
  if (i >= P_n) return;
  uint q = i % P_slice;
  uint t = i / P_slice;
  uint so = (t / P_perBatch) * P_dataBatch + q;
  for (int j = 0; j < M; j++) so += tensor_fix_index(ind[t * uint(M) + uint(j)], P_tuple_dim(j)) * P_tuple_stride(j);
  y[i] = x[so];
}
