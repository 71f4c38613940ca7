// Integer GEMM on packed 4x8-bit dot products (SPV_KHR_integer_dot_product's OpSDot; Vulkan 1.3 core,
// VK_KHR_shader_integer_dot_product before), exact:
//   acc[b][m][n] = sum_k (A[b][m][k] - za[b][m]) * (B[b][k][n] - zb[b][n])
// for uint8 or int8 A and B with zero points (ConvInteger, QLinearConv, MatMulInteger, QLinearMatMul),
// on devices without int8 matrix units (or where the tuner finds it faster).
// Operands are staged in shared memory as int8 a' = A - QG_SHIFT_A, b' = B - QG_SHIFT_B (the shift
// is 128 for a uint8 operand, 0 for int8), four consecutive k of one row of A / one column of B
// packed in a 32-bit word, so one OpSDot multiplies and adds four pairs. With za' = QG_SHIFT_A - za,
// zb' = QG_SHIFT_B - zb and Ks the number of staged k (K rounded up to the k-tile):
//   acc = sum a'b' + zb' * sum_k a'[m] + za' * sum_k b'[n] + Ks * za' * zb'
// where elements past K are staged as the zero point (raw value za / zb), whose exact contribution
// is 0 and which the identity counts consistently. The row sums of A' (QG_ROWSUM, needed when zb'
// may be nonzero) and column sums of B' (QG_COLSUM) are dot products with 0x01010101. The identity
// holds in wrapping int32 arithmetic, so the result is the int32 reference's bit for bit.
// The including shader defines
//   int  qgemm_raw_a(uint b, uint m, uint k);  // m < M, k < K: A's stored value
//   int  qgemm_raw_b(uint b, uint k, uint n);  // k < K, n < N: B's stored value (a tap outside the
//                                              //   input returns B's zero point: it then adds 0)
//   int  qgemm_zp_a(uint b, uint m);  int qgemm_zp_b(uint b, uint n);   // zero points (0: none)
//   void gemm_store(uint b, uint m, uint n, int acc);  // m < M, n < N (the epilogue)
// and calls qgemm_dot(b, M, N, K) with a QD_WX x QD_WY workgroup. Each invocation computes QD_TM x
// QD_TN outputs (rows ty + i*QD_WY, columns tx + j*QD_WX: neighbouring invocations store neighbouring
// columns); the k-tile is QD_KW words (4*QD_KW values). Groups: (ceil(N / (QD_TN*QD_WX)),
// ceil(M / (QD_TM*QD_WY)), batch).
#ifndef NN_QGEMM_DOT_GLSL
#define NN_QGEMM_DOT_GLSL
#extension GL_EXT_spirv_intrinsics : require

#ifndef QD_TM
#define QD_TM 4
#endif
#ifndef QD_TN
#define QD_TN 4
#endif
#ifndef QD_KW
#define QD_KW 8
#endif
#define QD_BM (QD_TM * QD_WY)
#define QD_BN (QD_TN * QD_WX)
#define QD_S (QD_KW + 1u)

// OpSDot (4450) with PackedVectorFormat4x8Bit (0): the sum of the four signed byte products
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018], id = 4450)
int qd_sdot(uint a, uint b, spirv_literal int packedFormat);

shared uint qd_as[QD_BM * QD_S];
shared uint qd_bs[QD_BN * QD_S];

uint qd_pack(int v0, int v1, int v2, int v3) {
  return (uint(v0) & 0xffu) | ((uint(v1) & 0xffu) << 8) | ((uint(v2) & 0xffu) << 16) | (uint(v3) << 24);
}

void qgemm_dot(uint b, uint M, uint N, uint K) {
  uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
  uint tid = ty * QD_WX + tx;
  uint m0 = gl_WorkGroupID.y * QD_BM, n0 = gl_WorkGroupID.x * QD_BN;
  int acc[QD_TM][QD_TN];
  int rs[QD_TM], cs[QD_TN];
  for (uint i = 0u; i < QD_TM; i++) {
    rs[i] = 0;
    for (uint j = 0u; j < QD_TN; j++) acc[i][j] = 0;
  }
  for (uint j = 0u; j < QD_TN; j++) cs[j] = 0;
  const uint bk = QD_KW * 4u;
  uint tiles = (K + bk - 1u) / bk;
  for (uint t = 0u; t < tiles; t++) {
    uint k0 = t * bk;
    for (uint e = tid; e < QD_BM * QD_KW; e += QD_WX * QD_WY) {
      uint r = e / QD_KW, w = e % QD_KW, m = m0 + r, k = k0 + w * 4u;
      int v[4];
      if (m < M) {
        int za = qgemm_zp_a(b, m);
        for (uint q = 0u; q < 4u; q++) v[q] = (k + q < K ? qgemm_raw_a(b, m, k + q) : za) - QG_SHIFT_A;
      } else {
        for (uint q = 0u; q < 4u; q++) v[q] = 0;
      }
      qd_as[r * QD_S + w] = qd_pack(v[0], v[1], v[2], v[3]);
    }
    for (uint e = tid; e < QD_BN * QD_KW; e += QD_WX * QD_WY) {
      uint c = e / QD_KW, w = e % QD_KW, n = n0 + c, k = k0 + w * 4u;
      int v[4];
      if (n < N) {
        int zb = qgemm_zp_b(b, n);
        for (uint q = 0u; q < 4u; q++) v[q] = (k + q < K ? qgemm_raw_b(b, k + q, n) : zb) - QG_SHIFT_B;
      } else {
        for (uint q = 0u; q < 4u; q++) v[q] = 0;
      }
      qd_bs[c * QD_S + w] = qd_pack(v[0], v[1], v[2], v[3]);
    }
    barrier();
    for (uint w = 0u; w < QD_KW; w++) {
      uint bw[QD_TN];
      for (uint j = 0u; j < QD_TN; j++) {
        bw[j] = qd_bs[(tx + j * QD_WX) * QD_S + w];
#ifdef QG_COLSUM
        cs[j] += qd_sdot(bw[j], 0x01010101u, 0);
#endif
      }
      for (uint i = 0u; i < QD_TM; i++) {
        uint aw = qd_as[(ty + i * QD_WY) * QD_S + w];
#ifdef QG_ROWSUM
        rs[i] += qd_sdot(aw, 0x01010101u, 0);
#endif
        for (uint j = 0u; j < QD_TN; j++) acc[i][j] += qd_sdot(aw, bw[j], 0);
      }
    }
    barrier();
  }
  int ks = int(tiles * bk);
  for (uint i = 0u; i < QD_TM; i++) {
    uint m = m0 + ty + i * QD_WY;
    if (m >= M) continue;
    int za = QG_SHIFT_A - qgemm_zp_a(b, m);
    for (uint j = 0u; j < QD_TN; j++) {
      uint n = n0 + tx + j * QD_WX;
      if (n >= N) continue;
      int zb = QG_SHIFT_B - qgemm_zp_b(b, n);
      int r = acc[i][j] + ks * za * zb;
#ifdef QG_ROWSUM
      r += zb * rs[i];
#endif
#ifdef QG_COLSUM
      r += za * cs[j];
#endif
      gemm_store(b, m, n, r);
    }
  }
}

#endif
