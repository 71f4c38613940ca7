#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/topk.glsl"
#include "reduce_common.glsl"
// TopK along one axis of an outer x len x inner view, by k rounds of selection (small k): round j
// picks the first element, in output order, that comes after round j-1's pick. Output order:
// larger (or smaller) values first, NaN as the largest, equal values by lower index.
// bindings: 0 input (T x[]), 1 values (T v[], outer x k x inner), 2 indices (int ix[])
// params (layout topk, src/ops/reduce/gpu.ts): P_outer, P_len, P_inner, P_k, P_largest (0|1)
// defines: T (float|int), WG_PER_LINE: one workgroup per line (power-of-two size <= RED_WG_MAX),
//          else one invocation per line.
layout(std430, binding = 0) readonly buffer In { T x[]; };
layout(std430, binding = 1) writeonly buffer Vals { T vals[]; };
layout(std430, binding = 2) writeonly buffer Idx { int ix[]; };

#define OUTER P_outer
#define LEN P_len
#define INNER P_inner
#define K P_k
#define NONE 0xffffffffu

// whether (va, ia) comes before (vb, ib) in the output
bool before(T va, uint ia, T vb, uint ib) {
  if (ib == NONE) return ia != NONE;
  if (ia == NONE) return false;
  bool an = red_isnan(va), bn = red_isnan(vb);
  if ((an && bn) || va == vb) return ia < ib;
  bool above = an || (!bn && va > vb);
  return above == (P_largest != 0u);
}

#ifdef WG_PER_LINE
shared T s_v[RED_WG_MAX];
shared uint s_i[RED_WG_MAX];
void main() {
  uint o = red_group_index();
  if (o >= OUTER * INNER) return;
  uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
  uint oi = o / INNER, ii = o % INNER;
  uint base = oi * LEN * INNER + ii, obase = oi * K * INNER + ii;
  T pv = T(0); uint pi = NONE;
  for (uint j = 0u; j < K; j++) {
    T bv = T(0); uint bi = NONE;
    for (uint t = tid; t < LEN; t += wg) {
      T v = x[base + t * INNER];
      if ((j == 0u || before(pv, pi, v, t)) && before(v, t, bv, bi)) { bv = v; bi = t; }
    }
    s_v[tid] = bv; s_i[tid] = bi;
    barrier();
    for (uint s = wg / 2u; s > 0u; s >>= 1u) {
      if (tid < s && before(s_v[tid + s], s_i[tid + s], s_v[tid], s_i[tid])) { s_v[tid] = s_v[tid + s]; s_i[tid] = s_i[tid + s]; }
      barrier();
    }
    pv = s_v[0]; pi = s_i[0];
    if (tid == 0u) { vals[obase + j * INNER] = pv; ix[obase + j * INNER] = int(pi); }
    barrier();
  }
}
#else
void main() {
  uint o = vkrt_index();
  if (o >= OUTER * INNER) return;
  uint oi = o / INNER, ii = o % INNER;
  uint base = oi * LEN * INNER + ii, obase = oi * K * INNER + ii;
  T pv = T(0); uint pi = NONE;
  for (uint j = 0u; j < K; j++) {
    T bv = T(0); uint bi = NONE;
    for (uint t = 0u; t < LEN; t++) {
      T v = x[base + t * INNER];
      if ((j == 0u || before(pv, pi, v, t)) && before(v, t, bv, bi)) { bv = v; bi = t; }
    }
    pv = bv; pi = bi;
    vals[obase + j * INNER] = pv; ix[obase + j * INNER] = int(pi);
  }
}
#endif
