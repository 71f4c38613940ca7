#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
// CumSum / CumProd along one axis of an outer x len x inner view: one invocation per line.
// bindings: 0 input (T x[]), 1 output (T y[])
// params: 0 OUTER, 1 LEN, 2 INNER, 3 EXCLUSIVE (0|1), 4 REVERSE (0|1)
// defines: T (float|int), PROD (0 sum, 1 product)
layout(std430, binding = 0) readonly buffer In { T x[]; };
layout(std430, binding = 1) writeonly buffer Out { T y[]; };

void main() {
  uint o = vkrt_index();
  uint inner = PARAM(2), len = PARAM(1);
  if (o >= PARAM(0) * inner) return;
  uint base = (o / inner) * len * inner + o % inner;
  bool exclusive = PARAM(3) != 0u, reverse = PARAM(4) != 0u;
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
