#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#ifdef AXIS_INPUT
#include "params/cumulative_axis.glsl"
#else
#include "params/cumulative.glsl"
#endif
// CumSum / CumProd along one axis of an outer x len x inner view: one invocation per line.
// bindings: 0 input (T x[]), 1 output (T y[])
// params (layout cumulative, src/ops/reduce/gpu.ts): P_outer, P_len, P_inner, P_exclusive (0|1),
//   P_reverse (0|1); with AXIS_INPUT (the axis is only known at run time, binding 2 holds it),
//   layout cumulative_axis: P_rank, P_dims_0..7 (padded with 1), P_exclusive, P_reverse
// defines: T (float|int), PROD (0 sum, 1 product), AXIS_INPUT
layout(std430, binding = 0) readonly buffer In { T x[]; };
layout(std430, binding = 1) writeonly buffer Out { T y[]; };
#ifdef AXIS_INPUT
layout(std430, binding = 2) readonly buffer Axis { int axis_v[]; };
#endif

void main() {
  uint o = vkrt_index();
#ifdef AXIS_INPUT
  uint d[8] = uint[8](P_dims_0, P_dims_1, P_dims_2, P_dims_3, P_dims_4, P_dims_5, P_dims_6, P_dims_7);
  int a = axis_v[0];
  uint ax = uint(a < 0 ? a + int(P_rank) : a);
  uint outer = 1u, inner = 1u, len = 1u;
  for (uint k = 0u; k < 8u; k++) {
    if (k < ax) outer *= d[k]; else if (k == ax) len = d[k]; else inner *= d[k];
  }
  if (o >= outer * inner) return;
  bool exclusive = P_exclusive != 0u, reverse = P_reverse != 0u;
#else
  uint inner = P_inner, len = P_len;
  if (o >= P_outer * inner) return;
  bool exclusive = P_exclusive != 0u, reverse = P_reverse != 0u;
#endif
  uint base = (o / inner) * len * inner + o % inner;
  T acc = T(PROD);
  for (uint s = 0u; s < len; s++) {
    uint p = base + (reverse ? len - 1u - s : s) * inner;
    T v = x[p];
    if (exclusive) { y[p] = acc; }
#if PROD
    acc *= v;
#else
    acc += v;
#endif
    if (!exclusive) { y[p] = acc; }
  }
}
