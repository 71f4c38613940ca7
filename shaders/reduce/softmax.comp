#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/softmax.glsl"
#include "reduce_common.glsl"
// Softmax / LogSoftmax / Hardmax along one axis of an outer x len x inner view (FP32 math,
// max-subtracted).
// bindings: 0 input (FT x[]: float, or float16_t with VKRT_F16; FP32 arithmetic), 1 output (FT y[])
// params (layout softmax, src/ops/reduce/gpu.ts): P_outer, P_len, P_inner
// defines: KIND (SOFTMAX_KIND_Softmax / LogSoftmax / Hardmax),
//          WG_PER_ROW: one workgroup per row (power-of-two size <= RED_WG_MAX), else one
//          invocation per row.
layout(std430, binding = 0) readonly buffer In { FT x[]; };
layout(std430, binding = 1) writeonly buffer Out { FT y[]; };

#define OUTER P_outer
#define LEN P_len
#define INNER P_inner

// Hardmax: the first index of the largest value (strict >, as the reference)
bool hm_takes(float bv, uint bi, float v, uint i) {
  return v > bv || (v == bv && i < bi);
}

#ifdef WG_PER_ROW
shared float s_v[RED_WG_MAX];
shared uint s_i[RED_WG_MAX];
void main() {
  uint o = red_group_index();
  if (o >= OUTER * INNER) return;
  uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
  uint base = (o / INNER) * LEN * INNER + o % INNER;
#if KIND == SOFTMAX_KIND_Hardmax
  float bv = -RED_INF; uint bi = 0xffffffffu;
  for (uint k = tid; k < LEN; k += wg) {
    float v = x[base + k * INNER];
    if (hm_takes(bv, bi, v, k)) { bv = v; bi = k; }
  }
  s_v[tid] = bv; s_i[tid] = bi;
  barrier();
  for (uint s = wg / 2u; s > 0u; s >>= 1u) {
    if (tid < s && hm_takes(s_v[tid], s_i[tid], s_v[tid + s], s_i[tid + s])) { s_v[tid] = s_v[tid + s]; s_i[tid] = s_i[tid + s]; }
    barrier();
  }
  uint best = s_i[0] == 0xffffffffu ? 0u : s_i[0];
  for (uint k = tid; k < LEN; k += wg) y[base + k * INNER] = FT(k == best ? 1.0 : 0.0);
#else
  float m = -RED_INF;
  for (uint k = tid; k < LEN; k += wg) m = max(m, float(x[base + k * INNER]));
  s_v[tid] = m;
  barrier();
  for (uint s = wg / 2u; s > 0u; s >>= 1u) {
    if (tid < s) s_v[tid] = max(s_v[tid], s_v[tid + s]);
    barrier();
  }
  m = s_v[0];
  barrier();
  float sum = 0.0;
  for (uint k = tid; k < LEN; k += wg) sum += exp(x[base + k * INNER] - m);
  s_v[tid] = sum;
  barrier();
  for (uint s = wg / 2u; s > 0u; s >>= 1u) {
    if (tid < s) s_v[tid] += s_v[tid + s];
    barrier();
  }
  sum = s_v[0];
#if KIND == SOFTMAX_KIND_Softmax
  float inv = 1.0 / sum;
  for (uint k = tid; k < LEN; k += wg) y[base + k * INNER] = FT(exp(x[base + k * INNER] - m) * inv);
#else
  float lse = m + log(sum);
  for (uint k = tid; k < LEN; k += wg) y[base + k * INNER] = FT(x[base + k * INNER] - lse);
#endif
#endif
}
#else
void main() {
  uint o = vkrt_index();
  if (o >= OUTER * INNER) return;
  uint base = (o / INNER) * LEN * INNER + o % INNER;
#if KIND == SOFTMAX_KIND_Hardmax
  float bv = x[base]; uint bi = 0u;
  for (uint k = 1u; k < LEN; k++) {
    float v = x[base + k * INNER];
    if (v > bv) { bv = v; bi = k; }
  }
  for (uint k = 0u; k < LEN; k++) y[base + k * INNER] = FT(k == bi ? 1.0 : 0.0);
#else
  float m = -RED_INF;
  for (uint k = 0u; k < LEN; k++) m = max(m, float(x[base + k * INNER]));
  float sum = 0.0;
  for (uint k = 0u; k < LEN; k++) sum += exp(x[base + k * INNER] - m);
#if KIND == SOFTMAX_KIND_Softmax
  float inv = 1.0 / sum;
  for (uint k = 0u; k < LEN; k++) y[base + k * INNER] = FT(exp(x[base + k * INNER] - m) * inv);
#else
  float lse = m + log(sum);
  for (uint k = 0u; k < LEN; k++) y[base + k * INNER] = FT(x[base + k * INNER] - lse);
#endif
#endif
}
#endif
