#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/gemm.glsl"
// Gemm and batched MatMul: Y[b] = act(alpha * A[b] x B[b] + beta * C), any strides (transposes are
// strides), batch broadcast through up to three collapsed batch axes.
// Bindings: 0 A, 1 B, 2 C (only with HAS_C), then Y (row-major [batch, M, N]).
// Params (layout gemm, src/ops/nn/gpu/gemm.ts): P_M, P_N, P_K, A's strides P_aStrideM/K, B's
//   P_bStrideK/N, batch dims P_batch_0..2 (outer to inner), A's and B's batch strides P_aBatch_*,
//   P_bBatch_*; float only: P_alpha and the activation (P_act, P_actAlpha, P_actBeta; nn_act.glsl);
//   with HAS_C: P_beta, C's strides P_cStrideM/N (0 where broadcast).
// Defines: T (storage and accumulator: float, or int with T_INT: no alpha, activation or C),
//   HAS_C, GEMM_TILED (shared-memory tiles, else one invocation per output), GEMM_* tile shape;
//   GEMM_COOPMAT (FP16 storage: cooperative matrices, nn_gemm_coopmat.glsl and its GEMM_CM_*, CM_*,
//   VKRT_COOPMAT_* defines; groups (ceil(N / GEMM_CM_BN), ceil(M / GEMM_CM_BM), batch)).
// Groups: (ceil(N / BN), ceil(M / BM), batch) tiled, (ceil(N / 16), ceil(M / 16), batch) simple.
// SPLITK (float, with GEMM_TILED; for products whose tile grid cannot fill the GPU): K is cut into
//   chunks of P_chunk; workgroup z = split * batch + b writes that chunk's raw products to binding
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
  uint i2 = b % P_batch_2;
  uint r = b / P_batch_2;
  uint i1 = r % P_batch_1;
  uint i0 = r / P_batch_1;
  return i0 * s0 + i1 * s1 + i2 * s2;
}

T gemm_load_a(uint b, uint m, uint k) {
  k += splitk_k0;
  return a_[batch_off(b, P_aBatch_0, P_aBatch_1, P_aBatch_2) + m * P_aStrideM + k * P_aStrideK];
}
T gemm_load_b(uint b, uint k, uint n) {
  k += splitk_k0;
  return b_[batch_off(b, P_bBatch_0, P_bBatch_1, P_bBatch_2) + k * P_bStrideK + n * P_bStrideN];
}
void gemm_store(uint b, uint m, uint n, T acc) {
#ifdef SPLITK
  part_[((splitk_s * P_batch_0 * P_batch_1 * P_batch_2 + b) * P_M + m) * P_N + n] = float(acc);
#else
#if defined(T_INT)
  T v = acc;
#else
  T v = P_alpha * acc;
#ifdef HAS_C
  v += P_beta * c_[m * P_cStrideM + n * P_cStrideN];
#endif
  v = nn_act(v, P_act, P_actAlpha, P_actBeta);
#endif
  y_[(b * P_M + m) * P_N + n] = TS(v);
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
  uint nb = P_batch_0 * P_batch_1 * P_batch_2;
  splitk_s = gl_WorkGroupID.z / nb;
  splitk_k0 = splitk_s * P_chunk;
  if (splitk_k0 >= P_K) return;
  gemm_tiled(gl_WorkGroupID.z % nb, P_M, P_N, min(P_chunk, P_K - splitk_k0));
  return;
#endif
  if (gl_WorkGroupID.z >= P_batch_0 * P_batch_1 * P_batch_2) return;
#ifdef GEMM_COOPMAT
  gemm_coopmat(gl_WorkGroupID.z, P_M, P_N, P_K);
#elif defined(GEMM_TILED)
  gemm_tiled(gl_WorkGroupID.z, P_M, P_N, P_K);
#elif defined(GEMM_ROWDOT)
  gemm_rowdot(gl_WorkGroupID.z, P_K);
#else
  gemm_simple(gl_WorkGroupID.z, P_M, P_N, P_K);
#endif
}
