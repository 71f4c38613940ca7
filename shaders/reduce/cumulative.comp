#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
// CumSum / CumProd along one axis of an outer x len x inner view: one invocation per line.
// bindings: 0 input (T x[]), 1 output (T y[])
// params: 0 OUTER, 1 LEN, 2 INNER, 3 EXCLUSIVE (0|1), 4 REVERSE (0|1)
//   with AXIS_INPUT (the axis is only known at run time, binding 2 holds it):
//   0 RANK, 1-8 dims (padded with 1), 9 EXCLUSIVE, 10 REVERSE
// defines: T (float|int), PROD (0 sum, 1 product), AXIS_INPUT
layout(std430, binding = 0) readonly buffer In { T x[]; };
layout(std430, binding = 1) writeonly buffer Out { T y[]; };
#ifdef AXIS_INPUT
layout(std430, binding = 2) readonly buffer Axis { int axis_v[]; };
#endif

void main() {
  uint o = vkrt_index();
#ifdef AXIS_INPUT
  uint d[8] = uint[8](PARAM(1), PARAM(2), PARAM(3), PARAM(4), PARAM(5), PARAM(6), PARAM(7), PARAM(8));
  int a = axis_v[0];
  uint ax = uint(a < 0 ? a + PARAMI(0) : a);
  uint outer = 1u, inner = 1u, len = 1u;
  for (uint k = 0u; k < 8u; k++) {
    if (k < ax) outer *= d[k]; else if (k == ax) len = d[k]; else inner *= d[k];
  }
  if (o >= outer * inner) return;
  bool exclusive = PARAM(9) != 0u, reverse = PARAM(10) != 0u;
#else
  uint inner = PARAM(2), len = PARAM(1);
  if (o >= PARAM(0) * inner) return;
  bool exclusive = PARAM(3) != 0u, reverse = PARAM(4) != 0u;
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
