#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
#include "params/one_hot.glsl"
// OneHot: output viewed as [outer, depth, inner]; y = values[index == d ? 1 : 0] where index is
// indices[outer, inner] (truncated, negative counts from the end, out of range: all off).
// Bindings: 0 indices (IDX_T[]), 1 values (uint[2]: off, on), 2 y (uint[]).
// Params (layout one_hot, src/ops/tensor/kernels.ts): P_n, P_depth, P_inner.
// Defines: IDX_T (float or int).
layout(std430, binding = 0) readonly buffer I { IDX_T ind[]; };
layout(std430, binding = 1) readonly buffer V { uint vals[]; };
layout(std430, binding = 2) writeonly buffer Y { uint y[]; };

void main() {
  uint i = vkrt_index();
  if (i >= P_n) return;
  uint r = i % P_inner;
  uint t = i / P_inner;
  int d = int(t % P_depth);
  uint o = t / P_depth;
  int v = int(ind[o * P_inner + r]);  // int() truncates toward zero, as the reference does
  int depth = int(P_depth);
  if (v < 0) v += depth;
  y[i] = vals[v == d ? 1 : 0];
}
