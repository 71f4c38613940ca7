#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
// MatMulInteger and QLinearMatMul: exact int32 batched products with zero points,
// acc[b][m][n] = sum_k (A[b][m][k] - a_zp[.., m]) * (B[b][k][n] - b_zp[.., n]);
// MatMulInteger stores acc, QLinearMatMul stores clamp(rint(acc * (a_s * b_s / y_s)) + y_zp).
// A [.., M, K] and B [.., K, N] are row-major; batch broadcast through up to three collapsed axes.
// Zero points: per tensor, per row of A / per column of B, optionally per matrix of the operand
// (index ((matrix % count) * rows + row) * flag, flag 0 for per tensor).
// Bindings (numbers given by defines, absent ones have no define): 0 A, 1 B, B_AZP, B_BZP,
//   QLINEAR only: B_AS, B_BS, B_YS (1 element each), B_YZP; B_Y output [batch, M, N].
// Params: 0 M, 1 N, 2 K, 3..5 batch dims (outer to inner), 6..8 A batch strides (in matrices),
//   9..11 B batch strides (in matrices), 12 a_zp matrix count, 13 a_zp per-row flag,
//   14 b_zp matrix count, 15 b_zp per-column flag, 16 output low bound, 17 output high bound (int).
// Defines: the B_* binding numbers, QLINEAR, GEMM_TILED (else one invocation per output).
// Groups: (ceil(N / BN), ceil(M / BM), batch) tiled, (ceil(N / 16), ceil(M / 16), batch) simple.
#define GEMM_T int
#include "nn_quant.glsl"

layout(std430, binding = 0) readonly buffer InA { int a_[]; };
layout(std430, binding = 1) readonly buffer InB { int b_[]; };
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
layout(std430, binding = B_Y) writeonly buffer Out { int y_[]; };

uint batch_mat(uint b, uint s0, uint s1, uint s2) {
  uint i2 = b % PARAM(5);
  uint r = b / PARAM(5);
  uint i1 = r % PARAM(4);
  uint i0 = r / PARAM(4);
  return i0 * s0 + i1 * s1 + i2 * s2;
}

int gemm_load_a(uint b, uint m, uint k) {
  uint mat = batch_mat(b, PARAM(6), PARAM(7), PARAM(8));
  int v = a_[(mat * PARAM(0) + m) * PARAM(2) + k];
#ifdef B_AZP
  v -= azp_[((mat % PARAM(12)) * PARAM(0) + m) * PARAM(13)];
#endif
  return v;
}

int gemm_load_b(uint b, uint k, uint n) {
  uint mat = batch_mat(b, PARAM(9), PARAM(10), PARAM(11));
  int v = b_[(mat * PARAM(2) + k) * PARAM(1) + n];
#ifdef B_BZP
  v -= bzp_[((mat % PARAM(14)) * PARAM(1) + n) * PARAM(15)];
#endif
  return v;
}

void gemm_store(uint b, uint m, uint n, int acc) {
  uint idx = (b * PARAM(0) + m) * PARAM(1) + n;
#ifdef QLINEAR
  float s = nn_div(as_[0] * bs_[0], ys_[0]);
#ifdef B_YZP
  int z = yzp_[0];
#else
  int z = 0;
#endif
  y_[idx] = nn_requant(acc, s, z, PARAMI(16), PARAMI(17));
#else
  y_[idx] = acc;
#endif
}

#include "nn_gemm.glsl"

void main() {
  if (gl_WorkGroupID.z >= PARAM(3) * PARAM(4) * PARAM(5)) return;
#ifdef GEMM_TILED
  gemm_tiled(gl_WorkGroupID.z, PARAM(0), PARAM(1), PARAM(2));
#else
  gemm_simple(gl_WorkGroupID.z, PARAM(0), PARAM(1), PARAM(2));
#endif
}
