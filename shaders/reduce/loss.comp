#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/loss.glsl"
#include "reduce_common.glsl"
// NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss over input [N, C, D...] and target [N, D...].
// Item it = (n, d) takes -lp[n, target, d] * weight[target] (0 and weight 0 for ignore_index); for
// SCE lp is the log-softmax over C (max-subtracted, FP32), optionally written out (log_prob).
// reduction none: one invocation per item; sum/mean: one workgroup (power of two <= RED_WG_MAX)
// folds every item (mean divides by the applied weights).
// bindings: 0 input, 1 target (int), 2 weight (any buffer without), 3 loss, 4 log_prob (any buffer
//   without WRITE_LP)
// params (layout loss, src/ops/reduce/gpu.ts): P_items (N*D), P_C, P_D, P_ignoreIndex, P_flags
//   (LOSS_FLAG_* bits: has ignore_index, has weight)
// defines: SCE (0|1), WRITE_LP (0|1), RED (LOSS_REDUCTION_none / sum / mean)
layout(std430, binding = 0) readonly buffer Xb { float x[]; };
layout(std430, binding = 1) readonly buffer Tb { int target[]; };
layout(std430, binding = 2) readonly buffer Wb { float weight[]; };
layout(std430, binding = 3) writeonly buffer Lb { float loss[]; };
layout(std430, binding = 4) writeonly buffer LPb { float lp_out[]; };

#define C P_C
#define D P_D

float item(uint it, out float w) {
  uint n = it / D, d = it % D;
  uint base = n * C * D + d;
  float lse = 0.0;
#if SCE
  float m = -RED_INF;
  for (uint c = 0u; c < C; c++) m = max(m, x[base + c * D]);
  float s = 0.0;
  for (uint c = 0u; c < C; c++) s += exp(x[base + c * D] - m);
  lse = m + log(s);
#if WRITE_LP
  for (uint c = 0u; c < C; c++) lp_out[base + c * D] = x[base + c * D] - lse;
#endif
#endif
  int t = target[it];
  if ((P_flags & LOSS_FLAG_ignoreIndex) != 0u && t == P_ignoreIndex) { w = 0.0; return 0.0; }
  uint c = uint(clamp(t, 0, int(C) - 1));
  w = (P_flags & LOSS_FLAG_weight) != 0u ? weight[c] : 1.0;
  return -(x[base + c * D] - lse) * w;
}

#if RED == LOSS_REDUCTION_none
void main() {
  uint it = vkrt_index();
  if (it >= P_items) return;
  float w;
  loss[it] = item(it, w);
}
#else
shared float s_l[RED_WG_MAX];
shared float s_w[RED_WG_MAX];
void main() {
  uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
  float l = 0.0, ws = 0.0;
  for (uint it = tid; it < P_items; it += wg) {
    float w;
    l += item(it, w);
    ws += w;
  }
  s_l[tid] = l; s_w[tid] = ws;
  barrier();
  for (uint s = wg / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { s_l[tid] += s_l[tid + s]; s_w[tid] += s_w[tid + s]; }
    barrier();
  }
#if RED == LOSS_REDUCTION_sum
  if (tid == 0u) loss[0] = s_l[0];
#else
  if (tid == 0u) loss[0] = s_w[0] == 0.0 ? (s_l[0] == 0.0 ? RED_NAN : s_l[0] * RED_INF) : s_l[0] / s_w[0];
#endif
}
#endif
