#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/arg.glsl"
#include "reduce_common.glsl"
// ArgMax / ArgMin along one axis of an outer x len x inner view.
// bindings: 0 input (T x[]), 1 output indices (int y[], outer x inner)
// params (layout arg, src/ops/reduce/gpu.ts): P_outer, P_len, P_inner
// defines: T (float|int), IS_MAX (0|1), LAST (select_last_index 0|1),
//          WG_PER_OUT: one workgroup per output (power-of-two size <= RED_WG_MAX), else one
//          invocation per output.
// NaN wins (the first NaN), like numpy and the reference.
layout(std430, binding = 0) readonly buffer In { T x[]; };
layout(std430, binding = 1) writeonly buffer Out { int y[]; };

#define OUTER P_outer
#define LEN P_len
#define INNER P_inner

// whether candidate (v, i) replaces the best so far (bv, bi); a commutative pick, so any order of
// visiting gives the sequential answer
bool takes(T bv, uint bi, T v, uint i) {
  bool bn = red_isnan(bv), vn = red_isnan(v);
  if (bn || vn) return vn && (!bn || i < bi);
  if (IS_MAX != 0 ? v > bv : v < bv) return true;
  if (v == bv) return LAST != 0 ? i > bi : i < bi;
  return false;
}

#ifdef WG_PER_OUT
shared T s_v[RED_WG_MAX];
shared uint s_i[RED_WG_MAX];
void main() {
  uint o = red_group_index();
  if (o >= OUTER * INNER) return;
  uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
  uint base = (o / INNER) * LEN * INNER + o % INNER;
  T bv = x[base];
  uint bi = 0u;
  for (uint k = tid; k < LEN; k += wg) {
    T v = x[base + k * INNER];
    if (takes(bv, bi, v, k)) { bv = v; bi = k; }
  }
  s_v[tid] = bv; s_i[tid] = bi;
  barrier();
  for (uint s = wg / 2u; s > 0u; s >>= 1u) {
    if (tid < s && takes(s_v[tid], s_i[tid], s_v[tid + s], s_i[tid + s])) { s_v[tid] = s_v[tid + s]; s_i[tid] = s_i[tid + s]; }
    barrier();
  }
  if (tid == 0u) y[o] = int(s_i[0]);
}
#else
void main() {
  uint o = vkrt_index();
  if (o >= OUTER * INNER) return;
  uint base = (o / INNER) * LEN * INNER + o % INNER;
  T bv = x[base];
  uint bi = 0u;
  for (uint k = 1u; k < LEN; k++) {
    T v = x[base + k * INNER];
    if (takes(bv, bi, v, k)) { bv = v; bi = k; }
  }
  y[o] = int(bi);
}
#endif
