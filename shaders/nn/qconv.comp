#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
// ConvInteger and QLinearConv (1-D, 2-D, 3-D as 3-D) as an exact int32 implicit GEMM per group:
// acc[n, m, p] = sum (w[m, c, t] - w_zp[m]) * (x[n, c, tap(p, t)] - x_zp) (padding taps count 0);
// ConvInteger stores acc, QLinearConv stores clamp(rint((acc + bias[m]) * x_s * w_s[m] / y_s) + y_zp).
// uint8/int8 values are held as int32.
// Bindings (numbers given by defines, absent ones have no define): 0 X, 1 W, B_XZP x zero point
//   (1 element), B_WZP w zero point (1 or M), QLINEAR only: B_XS x scale (1), B_WS w scale (1 or M),
//   B_YS y scale (1), B_YZP y zero point (1), B_BIAS bias (int32 [M]); B_Y output Y [NIMG, M, OD, OH, OW].
// Params: 0 C, 1 ID, 2 IH, 3 IW, 4 M, 5 OD, 6 OH, 7 OW, 8 KD, 9 KH, 10 KW, 11 SD, 12 SH, 13 SW,
//   14 PD, 15 PH, 16 PW (begin pads), 17 DD, 18 DH, 19 DW, 20 Cg, 21 Mg, 22 NIMG,
//   23 w zero point per channel (1) or per tensor (0), 24 w scale per channel (1) or not (0),
//   25 output low bound (int), 26 output high bound (int).
// Defines: the B_* binding numbers, QLINEAR, GEMM_TILED (else one invocation per output).
// Groups: (ceil(NIMG*OD*OH*OW / BN), ceil(Mg / BM), group count); simple: 16x16 tiles.
#define GEMM_T int
#include "nn_quant.glsl"

layout(std430, binding = 0) readonly buffer InX { int x_[]; };
layout(std430, binding = 1) readonly buffer InW { int w_[]; };
#ifdef B_XZP
layout(std430, binding = B_XZP) readonly buffer InXZ { int xzp_[]; };
#endif
#ifdef B_WZP
layout(std430, binding = B_WZP) readonly buffer InWZ { int wzp_[]; };
#endif
#ifdef QLINEAR
layout(std430, binding = B_XS) readonly buffer InXS { float xs_[]; };
layout(std430, binding = B_WS) readonly buffer InWS { float ws_[]; };
layout(std430, binding = B_YS) readonly buffer InYS { float ys_[]; };
#ifdef B_YZP
layout(std430, binding = B_YZP) readonly buffer InYZ { int yzp_[]; };
#endif
#ifdef B_BIAS
layout(std430, binding = B_BIAS) readonly buffer InB { int bias_[]; };
#endif
#endif
layout(std430, binding = B_Y) writeonly buffer Out { int y_[]; };

#define KSIZE (PARAM(8) * PARAM(9) * PARAM(10))
#define OSIZE (PARAM(5) * PARAM(6) * PARAM(7))
#define GK (PARAM(20) * KSIZE)

int gemm_load_a(uint g, uint m, uint k) {
  uint mo = g * PARAM(21) + m;
  int v = w_[mo * GK + k];
#ifdef B_WZP
  v -= wzp_[mo * PARAM(23)];
#endif
  return v;
}

int gemm_load_b(uint g, uint k, uint n) {
  uint c = k / KSIZE, t = k % KSIZE;
  uint kw = t % PARAM(10); t /= PARAM(10);
  uint kh = t % PARAM(9);
  uint kd = t / PARAM(9);
  uint img = n / OSIZE, p = n % OSIZE;
  uint ow = p % PARAM(7); p /= PARAM(7);
  uint oh = p % PARAM(6);
  uint od = p / PARAM(6);
  int id = int(od * PARAM(11) + kd * PARAM(17)) - PARAMI(14);
  int ih = int(oh * PARAM(12) + kh * PARAM(18)) - PARAMI(15);
  int iw = int(ow * PARAM(13) + kw * PARAM(19)) - PARAMI(16);
  if (id < 0 || id >= PARAMI(1) || ih < 0 || ih >= PARAMI(2) || iw < 0 || iw >= PARAMI(3)) return 0;
  int v = x_[(((img * PARAM(0) + g * PARAM(20) + c) * PARAM(1) + uint(id)) * PARAM(2) + uint(ih)) * PARAM(3) + uint(iw)];
#ifdef B_XZP
  v -= xzp_[0];
#endif
  return v;
}

void gemm_store(uint g, uint m, uint n, int acc) {
  uint mo = g * PARAM(21) + m;
  uint img = n / OSIZE, p = n % OSIZE;
  uint idx = (img * PARAM(4) + mo) * OSIZE + p;
#ifdef QLINEAR
#ifdef B_BIAS
  acc += bias_[mo];
#endif
  float s = nn_div(xs_[0] * ws_[mo * PARAM(24)], ys_[0]);
#ifdef B_YZP
  int z = yzp_[0];
#else
  int z = 0;
#endif
  y_[idx] = nn_requant(acc, s, z, PARAMI(25), PARAMI(26));
#else
  y_[idx] = acc;
#endif
}

#include "nn_gemm.glsl"

void main() {
#ifdef GEMM_TILED
  gemm_tiled(gl_WorkGroupID.z, PARAM(21), PARAM(22) * OSIZE, GK);
#else
  gemm_simple(gl_WorkGroupID.z, PARAM(21), PARAM(22) * OSIZE, GK);
#endif
}
