// nn GEMM on cooperative matrices (matrix units): C[b][m][n] = sum_k A[b][m][k] * B[b][k][n] with
// FP16 operands and FP32 accumulation. Same contract as nn_gemm.glsl: the including shader defines
//   GEMM_T  gemm_load_a(uint b, uint m, uint k);   // called only for m < M, k < K
//   GEMM_T  gemm_load_b(uint b, uint k, uint n);   // called only for k < K, n < N
//   void    gemm_store(uint b, uint m, uint n, GEMM_T acc);  // called only for m < M, n < N
// and calls gemm_coopmat(b, M, N, K) from main(); the epilogue (alpha, C, activation, storage type)
// is the shader's gemm_store, so every GEMM kernel keeps its semantics on matrix units.
//
// One workgroup computes a GEMM_CM_BM x GEMM_CM_BN tile of C with GEMM_CM_WM x GEMM_CM_WN
// subgroups; each subgroup owns a (BM / WM) x (BN / WN) block of FM x FN accumulator fragments.
// Per GEMM_CM_BK-deep step the whole workgroup stages the A and B slices in shared memory as FP16
// (out-of-range elements as 0: any M, N, K works, nothing is refused), then each subgroup loads
// its fragments from there and multiplies. The epilogue goes fragment by fragment through a small
// shared scratch (one fragment per subgroup), where every invocation takes elements, masks the
// edges and calls gemm_store. Only workgroup barriers in uniform control flow: the emulation
// (coopmat.glsl, VKRT_COOPMAT_EMULATE) runs the identical code.
// Defines: CM_M, CM_N, CM_K and VKRT_COOPMAT_* (coopmat.glsl); GEMM_CM_BM, GEMM_CM_BN, GEMM_CM_BK
//   (a multiple of CM_K), GEMM_CM_WM, GEMM_CM_WN; GEMM_CM_A_MFAST: stage A with m fastest (for an A
//   whose m stride is 1, a transposed A), else k fastest; GEMM_CM_B_KFAST: stage B with k fastest
//   (for a B whose k stride is 1: Gemm weights with transB), else n fastest.
// Workgroup (GEMM_CM_WM * GEMM_CM_WN * subgroup size, 1, 1) (emulation: CM_LANES per subgroup);
// groups (ceil(N / BN), ceil(M / BM), batch).
// Subgroups: the workgroup must have at least WM * WN of them (a pipeline whose subgroups are larger
// than the size the workgroup was planned with has fewer); then every output is written NaN (before
// the epilogue's activation) instead of silently wrong numbers. Extra subgroups only help stage.
#ifndef NN_GEMM_COOPMAT_GLSL
#define NN_GEMM_COOPMAT_GLSL

#ifndef GEMM_T
#define GEMM_T float
#endif
#define GEMM_CM_WARPS (GEMM_CM_WM * GEMM_CM_WN)
#define GEMM_CM_FM (GEMM_CM_BM / (GEMM_CM_WM * CM_M))
#define GEMM_CM_FN (GEMM_CM_BN / (GEMM_CM_WN * CM_N))
// Row strides of the staged tiles (FP16 elements) and of a scratch fragment (floats): 8 halfs / 4
// floats of padding keep rows 16-byte aligned and spread them over shared-memory banks.
#define GEMM_CM_SA (GEMM_CM_BK + 8u)
#define GEMM_CM_SB (GEMM_CM_BN + 8u)
#define GEMM_CM_SC (CM_N + 4u)

shared float16_t gemm_cm_as[GEMM_CM_BM * GEMM_CM_SA];
shared float16_t gemm_cm_bs[GEMM_CM_BK * GEMM_CM_SB];
shared float gemm_cm_cs[GEMM_CM_WARPS * CM_M * GEMM_CM_SC];
#define CM_SHARED_A gemm_cm_as
#define CM_SHARED_B gemm_cm_bs
#include "coopmat.glsl"

void gemm_coopmat(uint b, uint M, uint N, uint K) {
  uint tid = gl_LocalInvocationIndex;
  uint wg = gl_WorkGroupSize.x * gl_WorkGroupSize.y * gl_WorkGroupSize.z;
  uint m0 = gl_WorkGroupID.y * GEMM_CM_BM, n0 = gl_WorkGroupID.x * GEMM_CM_BN;
  if (CM_SUBGROUPS < GEMM_CM_WARPS) {
    for (uint e = tid; e < GEMM_CM_BM * GEMM_CM_BN; e += wg) {
      uint m = m0 + e / GEMM_CM_BN, n = n0 + e % GEMM_CM_BN;
      if (m < M && n < N) gemm_store(b, m, n, GEMM_T(uintBitsToFloat(0x7fc00000u)));
    }
    return;
  }
  uint warp = CM_SUBGROUP;
  bool busy = warp < GEMM_CM_WARPS;  // uniform per subgroup
  uint wm = (warp / GEMM_CM_WN) * GEMM_CM_FM * CM_M;  // this subgroup's first row and column in the tile
  uint wn = (warp % GEMM_CM_WN) * GEMM_CM_FN * CM_N;
  CM_ACC_T acc[GEMM_CM_FM][GEMM_CM_FN];
  for (uint i = 0u; i < GEMM_CM_FM; i++)
    for (uint j = 0u; j < GEMM_CM_FN; j++) CM_ZERO(acc[i][j]);

  for (uint k0 = 0u; k0 < K; k0 += GEMM_CM_BK) {
    for (uint e = tid; e < GEMM_CM_BM * GEMM_CM_BK; e += wg) {
#ifdef GEMM_CM_A_MFAST
      uint mm = e % GEMM_CM_BM, kk = e / GEMM_CM_BM;
#else
      uint mm = e / GEMM_CM_BK, kk = e % GEMM_CM_BK;
#endif
      uint m = m0 + mm, k = k0 + kk;
      gemm_cm_as[mm * GEMM_CM_SA + kk] = float16_t((m < M && k < K) ? gemm_load_a(b, m, k) : GEMM_T(0));
    }
    for (uint e = tid; e < GEMM_CM_BK * GEMM_CM_BN; e += wg) {
#ifdef GEMM_CM_B_KFAST
      uint kk = e % GEMM_CM_BK, nn = e / GEMM_CM_BK;
#else
      uint kk = e / GEMM_CM_BN, nn = e % GEMM_CM_BN;
#endif
      uint k = k0 + kk, n = n0 + nn;
      gemm_cm_bs[kk * GEMM_CM_SB + nn] = float16_t((k < K && n < N) ? gemm_load_b(b, k, n) : GEMM_T(0));
    }
    barrier();
    if (busy) {
      for (uint kk = 0u; kk < GEMM_CM_BK; kk += CM_K) {
        CM_A_T fa[GEMM_CM_FM];
        CM_B_T fb[GEMM_CM_FN];
        for (uint i = 0u; i < GEMM_CM_FM; i++) CM_LOAD_A(fa[i], gemm_cm_as, (wm + i * CM_M) * GEMM_CM_SA + kk, GEMM_CM_SA);
        for (uint j = 0u; j < GEMM_CM_FN; j++) CM_LOAD_B(fb[j], gemm_cm_bs, kk * GEMM_CM_SB + wn + j * CM_N, GEMM_CM_SB);
        for (uint i = 0u; i < GEMM_CM_FM; i++)
          for (uint j = 0u; j < GEMM_CM_FN; j++) CM_MMA(acc[i][j], fa[i], fb[j]);
      }
    }
    barrier();
  }

  // epilogue: fragment (i, j) of every subgroup through the scratch, elements masked at the edges
  for (uint i = 0u; i < GEMM_CM_FM; i++) {
    for (uint j = 0u; j < GEMM_CM_FN; j++) {
      if (busy) CM_STORE(acc[i][j], gemm_cm_cs, warp * CM_M * GEMM_CM_SC, GEMM_CM_SC);
      barrier();
      for (uint e = tid; e < GEMM_CM_WARPS * CM_M * CM_N; e += wg) {
        uint w = e / (CM_M * CM_N), r = (e / CM_N) % CM_M, c = e % CM_N;
        uint m = m0 + (w / GEMM_CM_WN) * GEMM_CM_FM * CM_M + i * CM_M + r;
        uint n = n0 + (w % GEMM_CM_WN) * GEMM_CM_FN * CM_N + j * CM_N + c;
        if (m < M && n < N) gemm_store(b, m, n, GEMM_T(gemm_cm_cs[(w * CM_M + r) * GEMM_CM_SC + c]));
      }
      barrier();
    }
  }
}

#endif
