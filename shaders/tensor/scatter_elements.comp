#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
// ScatterElements (after a copy of data into y): one invocation per line of updates along the
// axis, applying that line's updates in order, so duplicates resolve as in the reference (last
// wins; reductions exact) without atomics.
// Bindings: 0 indices (int[]), 1 updates (T[]), 2 y (T[], read-write, holds data).
// Params: 0 lines, 1 axisLen (updates dim on the axis), 2 updates axis stride, 3 data axis dim,
//   4 data axis stride, then per axis k (innermost first, the scatter axis left out):
//   5+3k dim (updates), 6+3k updates stride, 7+3k data stride.
// Defines: T (float/int), T_FLOAT for float, REDUCE (see tensor_reduce.glsl), RANK (axes other
//   than the scatter axis; 0 allowed).
layout(std430, binding = 0) readonly buffer I { int ind[]; };
layout(std430, binding = 1) readonly buffer U { T upd[]; };
layout(std430, binding = 2) buffer Y { T y[]; };
#include "tensor_reduce.glsl"

void main() {
  uint i = vkrt_index();
  if (i >= PARAM(0)) return;
  uint rem = i;
  uint uo = 0u, dof = 0u;
  for (int k = 0; k < RANK; k++) {
    uint d = TP(5 + 3 * k);
    uint c = rem % d;
    rem /= d;
    uo += c * TP(6 + 3 * k);
    dof += c * TP(7 + 3 * k);
  }
  for (uint a = 0u; a < PARAM(1); a++) {
    uint u = uo + a * PARAM(2);
    uint o = dof + tensor_fix_index(ind[u], PARAM(3)) * PARAM(4);
    y[o] = tensor_combine(y[o], upd[u]);
  }
}
