// Integer GEMM on int8 cooperative matrices (int8 x int8 -> int32 matrix units), exact:
//   acc[b][m][n] = sum_k (A[b][m][k] - za[b][m]) * (B[b][k][n] - zb[b][n])
// for uint8 or int8 A and B with zero points (ConvInteger, QLinearConv, MatMulInteger, QLinearMatMul).
// Values are staged as int8 a' = A - QG_SHIFT_A, b' = B - QG_SHIFT_B (QG_SHIFT_* is 128 for a uint8
// operand, 0 for int8), so the matrix units see int8 x int8 whatever the operand types, and
//   acc = sum a'b' - zb' * sum_k a'[m] - za' * sum_k b'[n] + K * za' * zb'   (za' = za - QG_SHIFT_A, ...)
// The row sums of A' (QG_ROWSUM, needed when zb' may be nonzero) and column sums of B' (QG_COLSUM)
// are kept per tile in shared memory, each row / column by one invocation (no atomics).
// The including shader defines
//   int  qgemm_raw_a(uint b, uint m, uint k);  // m < M, k < K: A's stored value
//   int  qgemm_raw_b(uint b, uint k, uint n);  // k < K, n < N: B's stored value (a tap outside the
//                                              //   input returns B's zero point: it then adds 0)
//   int  qgemm_zp_a(uint b, uint m);  int qgemm_zp_b(uint b, uint n);   // zero points (0: none)
//   void gemm_store(uint b, uint m, uint n, int acc);  // m < M, n < N (the epilogue)
// and calls qgemm_coopmat(b, M, N, K). Elements outside the matrices are staged as 0 (any M, N, K).
// Tiling, subgroups, the scratch epilogue and the subgroup-count guard are nn_gemm_coopmat.glsl's
// (a pipeline with fewer subgroups than planned writes the zero point-free value INT_MIN, clamped
// by requantization, instead of silently wrong numbers); defines: CM_M, CM_N, CM_K,
// VKRT_COOPMAT_*, GEMM_CM_BM, GEMM_CM_BN, GEMM_CM_BK (a multiple of CM_K and 16), GEMM_CM_WM, GEMM_CM_WN.
#ifndef NN_QGEMM_COOPMAT_GLSL
#define NN_QGEMM_COOPMAT_GLSL

#define CM_INT8 1
#define GEMM_CM_WARPS (GEMM_CM_WM * GEMM_CM_WN)
#define GEMM_CM_FM (GEMM_CM_BM / (GEMM_CM_WM * CM_M))
#define GEMM_CM_FN (GEMM_CM_BN / (GEMM_CM_WN * CM_N))
// row strides: 16 bytes of padding keep int8 rows 16-byte aligned; 4 ints for the scratch
#define GEMM_CM_SA (GEMM_CM_BK + 16u)
#define GEMM_CM_SB (GEMM_CM_BN + 16u)
#define GEMM_CM_SC (CM_N + 4u)

#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
shared int8_t gemm_cm_as[GEMM_CM_BM * GEMM_CM_SA];
shared int8_t gemm_cm_bs[GEMM_CM_BK * GEMM_CM_SB];
shared int gemm_cm_cs[GEMM_CM_WARPS * CM_M * GEMM_CM_SC];
#ifdef QG_ROWSUM
shared int qg_rows[GEMM_CM_BM];
#endif
#ifdef QG_COLSUM
shared int qg_cols[GEMM_CM_BN];
#endif
#define CM_SHARED_A gemm_cm_as
#define CM_SHARED_B gemm_cm_bs
#include "coopmat.glsl"

void qgemm_coopmat(uint b, uint M, uint N, uint K) {
  uint tid = gl_LocalInvocationIndex;
  uint wg = gl_WorkGroupSize.x * gl_WorkGroupSize.y * gl_WorkGroupSize.z;
  uint m0 = gl_WorkGroupID.y * GEMM_CM_BM, n0 = gl_WorkGroupID.x * GEMM_CM_BN;
  if (CM_SUBGROUPS < GEMM_CM_WARPS) {
    for (uint e = tid; e < GEMM_CM_BM * GEMM_CM_BN; e += wg) {
      uint m = m0 + e / GEMM_CM_BN, n = n0 + e % GEMM_CM_BN;
      if (m < M && n < N) gemm_store(b, m, n, int(0x80000000u));
    }
    return;
  }
  uint warp = CM_SUBGROUP;
  bool busy = warp < GEMM_CM_WARPS;  // uniform per subgroup
  uint wm = (warp / GEMM_CM_WN) * GEMM_CM_FM * CM_M;
  uint wn = (warp % GEMM_CM_WN) * GEMM_CM_FN * CM_N;
  CM_ACC_T acc[GEMM_CM_FM][GEMM_CM_FN];
  for (uint i = 0u; i < GEMM_CM_FM; i++)
    for (uint j = 0u; j < GEMM_CM_FN; j++) CM_ZERO(acc[i][j]);
#ifdef QG_ROWSUM
  for (uint r = tid; r < GEMM_CM_BM; r += wg) qg_rows[r] = 0;
#endif
#ifdef QG_COLSUM
  for (uint c = tid; c < GEMM_CM_BN; c += wg) qg_cols[c] = 0;
#endif

  for (uint k0 = 0u; k0 < K; k0 += GEMM_CM_BK) {
    for (uint e = tid; e < GEMM_CM_BM * GEMM_CM_BK; e += wg) {
      uint mm = e / GEMM_CM_BK, kk = e % GEMM_CM_BK;
      uint m = m0 + mm, k = k0 + kk;
      gemm_cm_as[mm * GEMM_CM_SA + kk] = int8_t((m < M && k < K) ? qgemm_raw_a(b, m, k) - QG_SHIFT_A : 0);
    }
    for (uint e = tid; e < GEMM_CM_BK * GEMM_CM_BN; e += wg) {
      uint kk = e / GEMM_CM_BN, nn = e % GEMM_CM_BN;
      uint k = k0 + kk, n = n0 + nn;
      gemm_cm_bs[kk * GEMM_CM_SB + nn] = int8_t((k < K && n < N) ? qgemm_raw_b(b, k, n) - QG_SHIFT_B : 0);
    }
    barrier();
#ifdef QG_ROWSUM
    for (uint r = tid; r < GEMM_CM_BM; r += wg) {
      int s = 0;
      for (uint kk = 0u; kk < GEMM_CM_BK; kk++) s += int(gemm_cm_as[r * GEMM_CM_SA + kk]);
      qg_rows[r] += s;
    }
#endif
#ifdef QG_COLSUM
    for (uint c = tid; c < GEMM_CM_BN; c += wg) {
      int s = 0;
      for (uint kk = 0u; kk < GEMM_CM_BK; kk++) s += int(gemm_cm_bs[kk * GEMM_CM_SB + c]);
      qg_cols[c] += s;
    }
#endif
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

  // epilogue: fragment (i, j) of every subgroup through the scratch, zero-point terms, edges masked
  for (uint i = 0u; i < GEMM_CM_FM; i++) {
    for (uint j = 0u; j < GEMM_CM_FN; j++) {
      if (busy) CM_STORE(acc[i][j], gemm_cm_cs, warp * CM_M * GEMM_CM_SC, GEMM_CM_SC);
      barrier();
      for (uint e = tid; e < GEMM_CM_WARPS * CM_M * CM_N; e += wg) {
        uint w = e / (CM_M * CM_N), r = (e / CM_N) % CM_M, c = e % CM_N;
        uint mm = (w / GEMM_CM_WN) * GEMM_CM_FM * CM_M + i * CM_M + r;
        uint nn = (w % GEMM_CM_WN) * GEMM_CM_FN * CM_N + j * CM_N + c;
        uint m = m0 + mm, n = n0 + nn;
        if (m < M && n < N) {
          int v = gemm_cm_cs[(w * CM_M + r) * GEMM_CM_SC + c];
          int za = qgemm_zp_a(b, m) - QG_SHIFT_A, zb = qgemm_zp_b(b, n) - QG_SHIFT_B;
#ifdef QG_ROWSUM
          v -= zb * qg_rows[mm];
#endif
#ifdef QG_COLSUM
          v -= za * qg_cols[nn];
#endif
          v += int(K) * za * zb;
          gemm_store(b, m, n, v);
        }
      }
      barrier();
    }
  }
}

#endif
