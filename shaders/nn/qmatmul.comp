#version 450
#extension GL_GOOGLE_include_directive : require
#ifdef VKRT_BYTES
// int8/uint8 tensors held one byte per element (src/kernel/storage.ts 'i8' / 'u8')
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
#endif
#include "vkrt.glsl"
#include "params/qmatmul.glsl"
// MatMulInteger and QLinearMatMul: exact int32 batched products with zero points,
// acc[b][m][n] = sum_k (A[b][m][k] - a_zp[.., m]) * (B[b][k][n] - b_zp[.., n]);
// MatMulInteger stores acc, QLinearMatMul stores clamp(rint(acc * (a_s * b_s / y_s)) + y_zp), with a
// fused activation (P_act) on the real value first (nn_requant_act, nn_quant.glsl).
// A [.., M, K] and B [.., K, N] are row-major; batch broadcast through up to three collapsed axes.
// Zero points: per tensor, per row of A / per column of B, optionally per matrix of the operand
// (index ((matrix % count) * rows + row) * flag, flag 0 for per tensor).
// Bindings (numbers given by defines, absent ones have no define): 0 A, 1 B, B_AZP, B_BZP,
//   QLINEAR only: B_AS, B_BS, B_YS (1 element each), B_YZP; B_Y output [batch, M, N].
// Params (layout qmatmul, src/ops/nn/gpu/qlinear.ts): P_M, P_N, P_K, batch dims P_batch_0..2 (outer
//   to inner), A's and B's batch strides P_aBatch_*, P_bBatch_* (in matrices), a_zp's matrix count
//   and per-row flag (P_azpCount, P_azpPerRow), b_zp's (P_bzpCount, P_bzpPerCol), the output's
//   bounds P_lo, P_hi, the fused activation P_act, P_actAlpha, P_actBeta.
// Defines: the B_* binding numbers, QLINEAR, GEMM_TILED (else one invocation per output), or
//   QGEMM_COOPMAT with its defines (int8 matrix units, shaders/common/nn_qgemm_coopmat.glsl), or
//   QGEMM_DOT with its defines (packed 4x8-bit dot products, shaders/common/nn_qgemm_dot.glsl).
// Storage: A, B and Y as int32, or one byte each (VKRT_BYTES with A_ST / B_ST / Y_ST: int8_t,
//   uint8_t or int; converted to int on load and back on store).
// Groups: (ceil(N / BN), ceil(M / BM), batch) tiled, (ceil(N / 16), ceil(M / 16), batch) simple.
#define GEMM_T int
#ifndef A_ST
#define A_ST int
#endif
#ifndef B_ST
#define B_ST int
#endif
#ifndef Y_ST
#define Y_ST int
#endif
#include "nn_act.glsl"
#include "nn_quant.glsl"

layout(std430, binding = 0) readonly buffer InA { A_ST a_[]; };
layout(std430, binding = 1) readonly buffer InB { B_ST b_[]; };
#ifdef B_AZP
layout(std430, binding = B_AZP) readonly buffer InAZ { int azp_[]; };
#endif
#ifdef B_BZP
layout(std430, binding = B_BZP) readonly buffer InBZ { int bzp_[]; };
#endif
#ifdef QLINEAR
layout(std430, binding = B_AS) readonly buffer InAS { float as_[]; };
layout(std430, binding = B_BS) readonly buffer InBS { float bs_[]; };
layout(std430, binding = B_YS) readonly buffer InYS { float ys_[]; };
#ifdef B_YZP
layout(std430, binding = B_YZP) readonly buffer InYZ { int yzp_[]; };
#endif
#endif
layout(std430, binding = B_Y) writeonly buffer Out { Y_ST y_[]; };

uint batch_mat(uint b, uint s0, uint s1, uint s2) {
  uint i2 = b % P_batch_2;
  uint r = b / P_batch_2;
  uint i1 = r % P_batch_1;
  uint i0 = r / P_batch_1;
  return i0 * s0 + i1 * s1 + i2 * s2;
}

int gemm_load_a(uint b, uint m, uint k) {
  uint mat = batch_mat(b, P_aBatch_0, P_aBatch_1, P_aBatch_2);
  int v = int(a_[(mat * P_M + m) * P_K + k]);
#ifdef B_AZP
  v -= azp_[((mat % P_azpCount) * P_M + m) * P_azpPerRow];
#endif
  return v;
}

int gemm_load_b(uint b, uint k, uint n) {
  uint mat = batch_mat(b, P_bBatch_0, P_bBatch_1, P_bBatch_2);
  int v = int(b_[(mat * P_K + k) * P_N + n]);
#ifdef B_BZP
  v -= bzp_[((mat % P_bzpCount) * P_N + n) * P_bzpPerCol];
#endif
  return v;
}

void gemm_store(uint b, uint m, uint n, int acc) {
  uint idx = (b * P_M + m) * P_N + n;
#ifdef QLINEAR
  precise float real = as_[0] * bs_[0];
  float s = nn_div(real, ys_[0]);
#ifdef B_YZP
  int z = yzp_[0];
#else
  int z = 0;
#endif
  y_[idx] = Y_ST(nn_requant_act(acc, s, real, ys_[0], z, P_lo, P_hi, P_act, P_actAlpha, P_actBeta));
#else
  y_[idx] = Y_ST(acc);
#endif
}

#if defined(QGEMM_COOPMAT) || defined(QGEMM_DOT)
// int8 matrix units or packed dot products (nn_qgemm_coopmat.glsl): raw values and zero points
int qgemm_raw_a(uint b, uint m, uint k) { return int(a_[(batch_mat(b, P_aBatch_0, P_aBatch_1, P_aBatch_2) * P_M + m) * P_K + k]); }
int qgemm_raw_b(uint b, uint k, uint n) { return int(b_[(batch_mat(b, P_bBatch_0, P_bBatch_1, P_bBatch_2) * P_K + k) * P_N + n]); }
int qgemm_zp_a(uint b, uint m) {
#ifdef B_AZP
  uint mat = batch_mat(b, P_aBatch_0, P_aBatch_1, P_aBatch_2);
  return azp_[((mat % P_azpCount) * P_M + m) * P_azpPerRow];
#else
  return 0;
#endif
}
int qgemm_zp_b(uint b, uint n) {
#ifdef B_BZP
  uint mat = batch_mat(b, P_bBatch_0, P_bBatch_1, P_bBatch_2);
  return bzp_[((mat % P_bzpCount) * P_N + n) * P_bzpPerCol];
#else
  return 0;
#endif
}
#ifdef QGEMM_COOPMAT
#include "nn_qgemm_coopmat.glsl"
#else
#include "nn_qgemm_dot.glsl"
#endif
#else
#include "nn_gemm.glsl"
#endif

void main() {
  if (gl_WorkGroupID.z >= P_batch_0 * P_batch_1 * P_batch_2) return;
#if defined(QGEMM_COOPMAT)
  qgemm_coopmat(gl_WorkGroupID.z, P_M, P_N, P_K);
#elif defined(QGEMM_DOT)
  qgemm_dot(gl_WorkGroupID.z, P_M, P_N, P_K);
#elif defined(GEMM_TILED)
  gemm_tiled(gl_WorkGroupID.z, P_M, P_N, P_K);
#else
  gemm_simple(gl_WorkGroupID.z, P_M, P_N, P_K);
#endif
}
