#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/histogram.glsl"
// vkrt.Histogram (INT8 calibration): counts of |x| in P_bins equal bins over [0, amax], bin =
// min(bins - 1, floor(|x| * P_inv)) with P_inv = bins / amax given by the host (0 when amax is 0:
// everything in bin 0); NaN is not counted, +-Inf lands in the last bin. Two passes of one layer:
// ZERO clears the counts, the other adds this run's counts (per-workgroup counts in shared memory,
// then one atomic add per non-empty bin).
// Bindings: 0 x (FT[]), 1 counts (int[P_bins]).
// Params (layout histogram, src/ops/reduce/gpu.ts): P_n elements, P_bins (<= HIST_MAX_BINS), P_inv.
// Defines: ZERO (the clearing pass).
#define HIST_MAX_BINS 4096u
layout(std430, binding = 0) readonly buffer X { FT x[]; };
layout(std430, binding = 1) buffer H { int h[]; };

#ifdef ZERO
void main() {
  uint i = vkrt_index();
  if (i < P_bins) h[i] = 0;
}
#else
shared uint s_h[HIST_MAX_BINS];
void main() {
  uint tid = gl_LocalInvocationIndex, wg = gl_WorkGroupSize.x;
  for (uint b = tid; b < P_bins; b += wg) s_h[b] = 0u;
  barrier();
  uint stride = gl_NumWorkGroups.x * wg;
  float last = float(P_bins - 1u);
  for (uint i = gl_WorkGroupID.x * wg + tid; i < P_n; i += stride) {
    float v = abs(float(x[i]));
    if (isnan(v)) continue;
    float f = P_inv == 0.0 ? 0.0 : min(floor(v * P_inv), last);
    atomicAdd(s_h[uint(f)], 1u);
  }
  barrier();
  for (uint b = tid; b < P_bins; b += wg)
    if (s_h[b] != 0u) atomicAdd(h[b], int(s_h[b]));
}
#endif
