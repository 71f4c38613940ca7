#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
#include "params/scatter_elements.glsl"
// ScatterElements (after a copy of data into y): one invocation per line of updates along the
// axis, applying that line's updates in order, so duplicates resolve as in the reference (last
// wins; reductions exact) without atomics.
// Bindings: 0 indices (int[]), 1 updates (T[]), 2 y (T[], read-write, holds data).
// Params (layout scatter_elements, src/ops/tensor/kernels.ts): P_n (lines), P_axisLen (updates dim on the axis),
//   P_updAxisStride, P_dataAxisDim, P_dataAxisStride, then per axis k (innermost first, the scatter
//   axis left out): P_axes_dim(k) (updates), P_axes_updStride(k), P_axes_dataStride(k).
// Defines: T (float/int), T_FLOAT for float, REDUCE (see tensor_reduce.glsl), RANK (axes other
//   than the scatter axis; 0 allowed).
layout(std430, binding = 0) readonly buffer I { int ind[]; };
layout(std430, binding = 1) readonly buffer U { T upd[]; };
layout(std430, binding = 2) buffer Y { T y[]; };
#include "tensor_reduce.glsl"

void main() {
  uint i = vkrt_index();
  if (i >= P_n) return;
  uint rem = i;
  uint uo = 0u, dof = 0u;
  for (int k = 0; k < RANK; k++) {
    uint d = P_axes_dim(k);
    uint c = rem % d;
    rem /= d;
    uo += c * P_axes_updStride(k);
    dof += c * P_axes_dataStride(k);
  }
  for (uint a = 0u; a < P_axisLen; a++) {
    uint u = uo + a * P_updAxisStride;
    uint o = dof + tensor_fix_index(ind[u], P_dataAxisDim) * P_dataAxisStride;
    y[o] = tensor_combine(y[o], upd[u]);
  }
}
