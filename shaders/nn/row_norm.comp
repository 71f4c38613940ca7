#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/row_norm.glsl"
// Normalizations over contiguous rows (LayerNormalization, InstanceNormalization,
// GroupNormalization, RMSNormalization): one workgroup per row of L elements computes the row's
// mean and variance (two passes over the row, nn_reduce.glsl), then writes
//   y = (x - mean) / sqrt(var + eps) * scale[s(row, j)] + bias[b(row, j)]   (RMS: x / sqrt(mean(x^2) + eps) * scale)
// where j is the element's index in its row and the parameter index maps are
//   s(row, j) = (row % P_scaleR) * P_scaleRm + (j / P_scaleDiv) % P_scaleMod, b(row, j) likewise with P_bias*.
// Bindings: 0 X, 1 scale, then bias (HAS_BIAS), then Y, then Mean and InvStdDev [rows] (OUT_STATS).
// Params (layout row_norm, src/ops/nn/gpu/norm.ts): P_rows, P_L, P_epsilon, the scale map, the bias map (HAS_BIAS).
// Defines: RMS, HAS_BIAS, OUT_STATS, NN_WG (workgroup size, a power of two).
#include "nn_reduce.glsl"

layout(std430, binding = 0) readonly buffer InX { FT x_[]; };
layout(std430, binding = 1) readonly buffer InS { FT s_[]; };
#ifdef HAS_BIAS
layout(std430, binding = 2) readonly buffer InB { FT b_[]; };
#define Y_BINDING 3
#else
#define Y_BINDING 2
#endif
layout(std430, binding = Y_BINDING) writeonly buffer Out { FT y_[]; };
#ifdef OUT_STATS
layout(std430, binding = Y_BINDING + 1) writeonly buffer OutM { FT mean_[]; };
layout(std430, binding = Y_BINDING + 2) writeonly buffer OutI { FT inv_[]; };
#endif

void main() {
  uint row = nn_row();
  if (row >= P_rows) return;  // whole workgroups leave together
  uint L = P_L;
  uint base = row * L;
  uint t = gl_LocalInvocationID.x;
#ifdef RMS
  float mean = 0.0;
  float acc = 0.0;
  for (uint i = t; i < L; i += NN_WG) { float v = x_[base + i]; acc += v * v; }
  float var = nn_wg_sum(acc) / float(L);
#else
  float acc = 0.0;
  for (uint i = t; i < L; i += NN_WG) acc += x_[base + i];
  float mean = nn_wg_sum(acc) / float(L);
  acc = 0.0;
  for (uint i = t; i < L; i += NN_WG) { float d = x_[base + i] - mean; acc += d * d; }
  float var = nn_wg_sum(acc) / float(L);
#endif
  float inv = 1.0 / sqrt(var + P_epsilon);
  uint sb = (row % P_scaleR) * P_scaleRm;
#ifdef HAS_BIAS
  uint bb = (row % P_biasR) * P_biasRm;
#endif
  for (uint i = t; i < L; i += NN_WG) {
    float v = (x_[base + i] - mean) * inv * s_[sb + (i / P_scaleDiv) % P_scaleMod];
#ifdef HAS_BIAS
    v += b_[bb + (i / P_biasDiv) % P_biasMod];
#endif
    y_[base + i] = FT(v);
  }
#ifdef OUT_STATS
  if (t == 0) { mean_[row] = FT(mean); inv_[row] = FT(inv); }
#endif
}
