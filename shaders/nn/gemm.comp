#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
// Gemm and batched MatMul: Y[b] = act(alpha * A[b] x B[b] + beta * C), any strides (transposes are
// strides), batch broadcast through up to three collapsed batch axes.
// Bindings: 0 A, 1 B, 2 C (only with HAS_C), then Y (row-major [batch, M, N]).
// Params: 0 M, 1 N, 2 K, 3 A stride m, 4 A stride k, 5 B stride k, 6 B stride n,
//   7..9 batch dims (outer to inner), 10..12 A batch strides, 13..15 B batch strides;
//   float only: 16 alpha (f32), 17 activation kind, 18 activation a (f32), 19 activation b (f32)
//   (see nn_act.glsl); with HAS_C: 20 beta (f32), 21 C stride m, 22 C stride n (0 where broadcast).
// Defines: T (storage and accumulator: float, or int with T_INT: no alpha, activation or C),
//   HAS_C, GEMM_TILED (shared-memory tiles, else one invocation per output), GEMM_* tile shape;
//   GEMM_COOPMAT (FP16 storage: cooperative matrices, nn_gemm_coopmat.glsl and its GEMM_CM_*, CM_*,
//   VKRT_COOPMAT_* defines; groups (ceil(N / GEMM_CM_BN), ceil(M / GEMM_CM_BM), batch)).
// Groups: (ceil(N / BN), ceil(M / BM), batch) tiled, (ceil(N / 16), ceil(M / 16), batch) simple.
// SPLITK (float, with GEMM_TILED; for products whose tile grid cannot fill the GPU): K is cut into
//   chunks of param 23; workgroup z = split * batch + b writes that chunk's raw products to binding
//   2, Part [splits, batch, M, N] (float); nn/gemm_splitk.comp sums them and applies the epilogue.
#ifndef T
#define T float
#endif
#define GEMM_T T
// storage type: f16 under VKRT_F16 (float layers only), converted to T on load and from T on store
#if defined(VKRT_F16) && !defined(T_INT)
#define TS FT
#else
#define TS T
#endif
#include "nn_act.glsl"

layout(std430, binding = 0) readonly buffer InA { TS a_[]; };
layout(std430, binding = 1) readonly buffer InB { TS b_[]; };
#ifdef SPLITK
layout(std430, binding = 2) writeonly buffer Part { float part_[]; };
#else
#ifdef HAS_C
layout(std430, binding = 2) readonly buffer InC { TS c_[]; };
#define Y_BINDING 3
#else
#define Y_BINDING 2
#endif
layout(std430, binding = Y_BINDING) writeonly buffer Out { TS y_[]; };
#endif

// First K index of this workgroup's chunk (0 without SPLITK); loads see chunk-relative k.
uint splitk_k0 = 0u;
uint splitk_s = 0u;

uint batch_off(uint b, uint s0, uint s1, uint s2) {
  uint i2 = b % PARAM(9);
  uint r = b / PARAM(9);
  uint i1 = r % PARAM(8);
  uint i0 = r / PARAM(8);
  return i0 * s0 + i1 * s1 + i2 * s2;
}

T gemm_load_a(uint b, uint m, uint k) {
  k += splitk_k0;
  return a_[batch_off(b, PARAM(10), PARAM(11), PARAM(12)) + m * PARAM(3) + k * PARAM(4)];
}
T gemm_load_b(uint b, uint k, uint n) {
  k += splitk_k0;
  return b_[batch_off(b, PARAM(13), PARAM(14), PARAM(15)) + k * PARAM(5) + n * PARAM(6)];
}
void gemm_store(uint b, uint m, uint n, T acc) {
#ifdef SPLITK
  part_[((splitk_s * PARAM(7) * PARAM(8) * PARAM(9) + b) * PARAM(0) + m) * PARAM(1) + n] = float(acc);
#else
#if defined(T_INT)
  T v = acc;
#else
  T v = PARAMF(16) * acc;
#ifdef HAS_C
  v += PARAMF(20) * c_[m * PARAM(21) + n * PARAM(22)];
#endif
  v = nn_act(v, PARAM(17), PARAMF(18), PARAMF(19));
#endif
  y_[(b * PARAM(0) + m) * PARAM(1) + n] = TS(v);
#endif
}

#include "nn_gemm.glsl"
#ifdef GEMM_COOPMAT
// matrix units: FP16 storage only (VKRT_F16), FP32 accumulation; see nn_gemm_coopmat.glsl
#include "nn_gemm_coopmat.glsl"
#endif

#ifdef GEMM_ROWDOT
// One workgroup of GEMM_RD_WG invocations per output (n = group x, m = group y): they stride over
// K (coalesced where B's k stride is 1, as for a transposed weight), then reduce in shared memory.
// For matrix-vector products (M of a few rows), where a tile or one invocation per output would
// leave the GPU nearly idle. Workgroup (GEMM_RD_WG, 1, 1); groups (N, M, batch).
#define GEMM_RD_WG 64
shared T rowdot_[GEMM_RD_WG];
void gemm_rowdot(uint b, uint K) {
  uint n = gl_WorkGroupID.x, m = gl_WorkGroupID.y, t = gl_LocalInvocationID.x;
  T acc = T(0);
  for (uint k = t; k < K; k += GEMM_RD_WG) acc += gemm_load_a(b, m, k) * gemm_load_b(b, k, n);
  rowdot_[t] = acc;
  barrier();
  for (uint s = GEMM_RD_WG / 2; s > 0; s >>= 1) {
    if (t < s) rowdot_[t] += rowdot_[t + s];
    barrier();
  }
  if (t == 0) gemm_store(b, m, n, rowdot_[0]);
}
#endif

void main() {
  // whole workgroups leave together (before any barrier)
#ifdef SPLITK
  uint nb = PARAM(7) * PARAM(8) * PARAM(9);
  splitk_s = gl_WorkGroupID.z / nb;
  splitk_k0 = splitk_s * PARAM(23);
  if (splitk_k0 >= PARAM(2)) return;
  gemm_tiled(gl_WorkGroupID.z % nb, PARAM(0), PARAM(1), min(PARAM(23), PARAM(2) - splitk_k0));
  return;
#endif
  if (gl_WorkGroupID.z >= PARAM(7) * PARAM(8) * PARAM(9)) return;
#ifdef GEMM_COOPMAT
  gemm_coopmat(gl_WorkGroupID.z, PARAM(0), PARAM(1), PARAM(2));
#elif defined(GEMM_TILED)
  gemm_tiled(gl_WorkGroupID.z, PARAM(0), PARAM(1), PARAM(2));
#elif defined(GEMM_ROWDOT)
  gemm_rowdot(gl_WorkGroupID.z, PARAM(2));
#else
  gemm_simple(gl_WorkGroupID.z, PARAM(0), PARAM(1), PARAM(2));
#endif
}
