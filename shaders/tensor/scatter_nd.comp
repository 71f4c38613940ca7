#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
#include "params/scatter_nd.glsl"
// ScatterND (after a copy of data into y). Without a reduction every (tuple, element) pair is one
// invocation (ONNX leaves duplicate indices undefined then); with one (SERIAL), one invocation per
// slice element walks the tuples in order, so duplicates combine exactly as in the reference.
// Bindings: 0 indices (int[], M per tuple), 1 updates (T[]), 2 y (T[], read-write, holds data).
// Params (layout scatter_nd, src/ops/tensor/kernels.ts): P_n (invocations), P_slice (elements per tuple),
//   P_tuples, then per tuple entry j: P_tuple_dim(j), P_tuple_stride(j) (data).
// Defines: T, T_FLOAT for float, REDUCE (see tensor_reduce.glsl), M (tuple length), SERIAL.
layout(std430, binding = 0) readonly buffer I { int ind[]; };
layout(std430, binding = 1) readonly buffer U { T upd[]; };
layout(std430, binding = 2) buffer Y { T y[]; };
#include "tensor_reduce.glsl"

uint tuple_offset(uint t) {
  uint o = 0u;
  for (int j = 0; j < M; j++) o += tensor_fix_index(ind[t * uint(M) + uint(j)], P_tuple_dim(j)) * P_tuple_stride(j);
  return o;
}

void main() {
  uint i = vkrt_index();
  if (i >= P_n) return;
#ifdef SERIAL
  for (uint t = 0u; t < P_tuples; t++) {
    uint o = tuple_offset(t) + i;
    y[o] = tensor_combine(y[o], upd[t * P_slice + i]);
  }
#else
  uint t = i / P_slice;
  uint o = tuple_offset(t) + i % P_slice;
  y[o] = tensor_combine(y[o], upd[i]);
#endif
}
