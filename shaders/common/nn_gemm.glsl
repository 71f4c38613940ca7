// nn GEMM template: C[b][m][n] = sum_k A[b][m][k] * B[b][k][n] for Gemm, MatMul and implicit-GEMM
// convolution. The including shader defines, before including this file:
//   GEMM_T  gemm_load_a(uint b, uint m, uint k);   // called only for m < M, k < K
//   GEMM_T  gemm_load_b(uint b, uint k, uint n);   // called only for k < K, n < N
//   void    gemm_store(uint b, uint m, uint n, GEMM_T acc);  // called only for m < M, n < N
// and calls gemm_tiled(b, M, N, K) or gemm_simple(b, M, N, K) from main().
//
// gemm_tiled: one workgroup computes a GEMM_BM x GEMM_BN tile of C, staging GEMM_BK-deep slices of
// A and B in shared memory; each invocation accumulates GEMM_TM x GEMM_TN outputs held in registers,
// strided by the workgroup's extent so shared-memory reads and global stores stay contiguous.
// Workgroup (GEMM_BN / GEMM_TN, GEMM_BM / GEMM_TM, 1); groups (ceil(N / BN), ceil(M / BM), batch).
// gemm_simple: one invocation per output; workgroup (16, 16, 1); groups (ceil(N/16), ceil(M/16), batch).
// Defines: GEMM_T (accumulator type, default float), GEMM_BM/BN/BK/TM/TN (tile shape).
#ifndef NN_GEMM_GLSL
#define NN_GEMM_GLSL

#ifndef GEMM_T
#define GEMM_T float
#endif
#ifndef GEMM_BM
#define GEMM_BM 64
#endif
#ifndef GEMM_BN
#define GEMM_BN 64
#endif
#ifndef GEMM_BK
#define GEMM_BK 16
#endif
#ifndef GEMM_TM
#define GEMM_TM 4
#endif
#ifndef GEMM_TN
#define GEMM_TN 4
#endif

#define GEMM_WX (GEMM_BN / GEMM_TN)
#define GEMM_WY (GEMM_BM / GEMM_TM)
#define GEMM_WG (GEMM_WX * GEMM_WY)

#ifdef GEMM_TILED
// A is staged k-fastest (consecutive invocations take consecutive k of one row): one padding
// column keeps those stores in distinct shared-memory banks
shared GEMM_T gemm_as[GEMM_BK][GEMM_BM + 1];
shared GEMM_T gemm_bs[GEMM_BK][GEMM_BN];

void gemm_tiled(uint b, uint M, uint N, uint K) {
  uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
  uint tid = ty * GEMM_WX + tx;
  uint m0 = gl_WorkGroupID.y * GEMM_BM, n0 = gl_WorkGroupID.x * GEMM_BN;
  GEMM_T acc[GEMM_TM][GEMM_TN];
  for (uint i = 0; i < GEMM_TM; i++)
    for (uint j = 0; j < GEMM_TN; j++) acc[i][j] = GEMM_T(0);
  for (uint k0 = 0; k0 < K; k0 += GEMM_BK) {
    // A tile, k fastest (rows of A are contiguous in k for weights and row-major A)
    for (uint e = tid; e < GEMM_BM * GEMM_BK; e += GEMM_WG) {
      uint mm = e / GEMM_BK, kk = e % GEMM_BK;
      uint m = m0 + mm, k = k0 + kk;
      gemm_as[kk][mm] = (m < M && k < K) ? gemm_load_a(b, m, k) : GEMM_T(0);
    }
    // B tile, n fastest (output positions / columns are contiguous)
    for (uint e = tid; e < GEMM_BN * GEMM_BK; e += GEMM_WG) {
      uint kk = e / GEMM_BN, nn = e % GEMM_BN;
      uint k = k0 + kk, n = n0 + nn;
      gemm_bs[kk][nn] = (k < K && n < N) ? gemm_load_b(b, k, n) : GEMM_T(0);
    }
    barrier();
    for (uint kk = 0; kk < GEMM_BK; kk++) {
      GEMM_T a[GEMM_TM], bv[GEMM_TN];
      for (uint i = 0; i < GEMM_TM; i++) a[i] = gemm_as[kk][ty + i * GEMM_WY];
      for (uint j = 0; j < GEMM_TN; j++) bv[j] = gemm_bs[kk][tx + j * GEMM_WX];
      for (uint i = 0; i < GEMM_TM; i++)
        for (uint j = 0; j < GEMM_TN; j++) acc[i][j] += a[i] * bv[j];
    }
    barrier();
  }
  for (uint i = 0; i < GEMM_TM; i++) {
    uint m = m0 + ty + i * GEMM_WY;
    if (m >= M) continue;
    for (uint j = 0; j < GEMM_TN; j++) {
      uint n = n0 + tx + j * GEMM_WX;
      if (n < N) gemm_store(b, m, n, acc[i][j]);
    }
  }
}
#endif

void gemm_simple(uint b, uint M, uint N, uint K) {
  uint n = gl_GlobalInvocationID.x, m = gl_GlobalInvocationID.y;
  if (m >= M || n >= N) return;
  GEMM_T acc = GEMM_T(0);
  for (uint k = 0; k < K; k++) acc += gemm_load_a(b, m, k) * gemm_load_b(b, k, n);
  gemm_store(b, m, n, acc);
}

#endif
