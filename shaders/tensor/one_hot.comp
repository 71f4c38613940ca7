#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
// OneHot: output viewed as [outer, depth, inner]; y = values[index == d ? 1 : 0] where index is
// indices[outer, inner] (truncated, negative counts from the end, out of range: all off).
// Bindings: 0 indices (IDX_T[]), 1 values (uint[2]: off, on), 2 y (uint[]).
// Params: 0 n, 1 depth, 2 inner.
// Defines: IDX_T (float or int).
layout(std430, binding = 0) readonly buffer I { IDX_T ind[]; };
layout(std430, binding = 1) readonly buffer V { uint vals[]; };
layout(std430, binding = 2) writeonly buffer Y { uint y[]; };

void main() {
  uint i = vkrt_index();
  if (i >= PARAM(0)) return;
  uint r = i % PARAM(2);
  uint t = i / PARAM(2);
  int d = int(t % PARAM(1));
  uint o = t / PARAM(1);
  int v = int(ind[o * PARAM(2) + r]);  // int() truncates toward zero, as the reference does
  int depth = int(PARAM(1));
  if (v < 0) v += depth;
  y[i] = vals[v == d ? 1 : 0];
}
