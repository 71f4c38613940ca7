#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/global_pool.glsl"
// GlobalAveragePool, GlobalMaxPool, GlobalLpPool: one workgroup per (n, c) plane (nn_reduce.glsl).
// NaN and Inf as in the reference: a NaN anywhere gives NaN (vkrt_math.glsl).
// Bindings: 0 X [planes x L], 1 Y [planes].
// Params (layout global_pool, src/ops/nn/gpu/pool.ts): P_planes, P_L (spatial size), GlobalLpPool: P_p.
// Defines: VKRT_F16 (f16 buffers; the sum stays FP32), POOL (POOL_OP_Max, POOL_OP_Average, POOL_OP_Lp); NN_WG (the workgroup size, a power of two).
#include "nn_reduce.glsl"

layout(std430, binding = 0) readonly buffer InX { FT x_[]; };
layout(std430, binding = 1) writeonly buffer Out { FT y_[]; };

void main() {
  uint row = nn_row();
  if (row >= P_planes) return;  // whole workgroups leave together
  uint L = P_L;
  uint base = row * L;
#if POOL == POOL_OP_Max
  float acc = uintBitsToFloat(0xff800000u);
  for (uint i = gl_LocalInvocationID.x; i < L; i += NN_WG) acc = vkrt_max(acc, float(x_[base + i]));
  acc = nn_wg_max(acc);
#elif POOL == POOL_OP_Average
  float acc = 0.0;
  for (uint i = gl_LocalInvocationID.x; i < L; i += NN_WG) acc += x_[base + i];
  acc = nn_wg_sum(acc) / float(L);
#else
  // scaled by the largest magnitude (NaN if any): |x|^p cannot overflow where the reference's
  // double sum does not
  float m = 0.0;
  for (uint i = gl_LocalInvocationID.x; i < L; i += NN_WG) m = vkrt_max(m, abs(float(x_[base + i])));
  m = nn_wg_max(m);
  float acc = 0.0;
  for (uint i = gl_LocalInvocationID.x; i < L; i += NN_WG) acc += vkrt_powabs(float(x_[base + i]) / m, P_p);
  acc = nn_wg_sum(acc);
  acc = (m == 0.0 || vkrt_isinf(m) || vkrt_isnan(m)) ? m : m * pow(acc, 1.0 / P_p);
#endif
  if (gl_LocalInvocationID.x == 0) y_[row] = FT(acc);
}
