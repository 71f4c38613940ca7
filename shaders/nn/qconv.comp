#version 450
#extension GL_GOOGLE_include_directive : require
#ifdef VKRT_BYTES
// int8/uint8 tensors held one byte per element (src/kernel/storage.ts 'i8' / 'u8')
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
#endif
#include "vkrt.glsl"
#include "params/qconv.glsl"
// ConvInteger and QLinearConv (1-D, 2-D, 3-D as 3-D) as an exact int32 implicit GEMM per group:
// acc[n, m, p] = sum (w[m, c, t] - w_zp[m]) * (x[n, c, tap(p, t)] - x_zp) (padding taps count 0);
// ConvInteger stores acc, QLinearConv stores clamp(rint((acc + bias[m]) * x_s * w_s[m] / y_s) + y_zp),
// with a fused activation (P_act) on the real value first (nn_requant_act, nn_quant.glsl).
// uint8/int8 values are held as int32, or one byte each (VKRT_BYTES with X_ST / W_ST / Y_ST the
// storage types of x, w and y: int8_t, uint8_t or int; converted to int on load and back on store).
// Bindings (numbers given by defines, absent ones have no define): 0 X, 1 W, B_XZP x zero point
//   (1 element), B_WZP w zero point (1 or M), QLINEAR only: B_XS x scale (1), B_WS w scale (1 or M),
//   B_YS y scale (1), B_YZP y zero point (1), B_BIAS bias (int32 [M]); B_Y output Y [NIMG, M, OD, OH, OW].
// Params (layout qconv, src/ops/nn/gpu/qlinear.ts): the geometry as conv_gemm.comp's (P_C .. P_Mg),
//   P_NIMG, P_wzpPerChannel / P_wsPerChannel (w's zero point / scale per output channel: 1, per
//   tensor: 0), the output's bounds P_lo, P_hi, the fused activation P_act, P_actAlpha, P_actBeta.
// Defines: the B_* binding numbers, QLINEAR, GEMM_TILED (else one invocation per output),
//   QGEMM_COOPMAT with its defines (int8 matrix units, shaders/common/nn_qgemm_coopmat.glsl),
//   QGEMM_DOT with its defines (packed 4x8-bit dot products, shaders/common/nn_qgemm_dot.glsl), or
//   QDW_DIRECT with QDW_VEC (the direct kernel of depthwise convolutions, P_Cg == 1).
// Residual epilogue (QLINEAR, src/ops/nn/conv.ts residualOf): B_RES the skip tensor (storage R_ST,
//   the output's shape), B_RS its scale, B_RZ its zero point, B_MS / B_MZ the mid quantization of
//   the convolution's value (int8 with RES_MID_SIGNED 1, uint8 with 0); qconv_residual.
// Groups: (ceil(NIMG*OD*OH*OW / BN), ceil(Mg / BM), group count); simple: 16x16 tiles.
#define GEMM_T int
#ifndef X_ST
#define X_ST int
#endif
#ifndef W_ST
#define W_ST int
#endif
#ifndef Y_ST
#define Y_ST int
#endif
#ifndef R_ST
#define R_ST int
#endif
#include "nn_act.glsl"
#include "nn_quant.glsl"

layout(std430, binding = 0) readonly buffer InX { X_ST x_[]; };
layout(std430, binding = 1) readonly buffer InW { W_ST w_[]; };
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
#ifdef B_RES
layout(std430, binding = B_RES) readonly buffer InR { R_ST res_[]; };
layout(std430, binding = B_RS) readonly buffer InRS { float rs_[]; };
#ifdef B_RZ
layout(std430, binding = B_RZ) readonly buffer InRZ { int rz_[]; };
#endif
#ifdef B_MS
layout(std430, binding = B_MS) readonly buffer InMS { float ms_[]; };
layout(std430, binding = B_MZ) readonly buffer InMZ { int mz_[]; };
#endif
#endif
#endif
layout(std430, binding = B_Y) writeonly buffer Out { Y_ST y_[]; };

#define KSIZE (P_KD * P_KH * P_KW)
#define OSIZE (P_OD * P_OH * P_OW)
#define GK (P_Cg * KSIZE)

int gemm_load_a(uint g, uint m, uint k) {
  uint mo = g * P_Mg + m;
  int v = int(w_[mo * GK + k]);
#ifdef B_WZP
  v -= wzp_[mo * P_wzpPerChannel];
#endif
  return v;
}

int gemm_load_b(uint g, uint k, uint n) {
  uint c = k / KSIZE, t = k % KSIZE;
  uint kw = t % P_KW; t /= P_KW;
  uint kh = t % P_KH;
  uint kd = t / P_KH;
  uint img = n / OSIZE, p = n % OSIZE;
  uint ow = p % P_OW; p /= P_OW;
  uint oh = p % P_OH;
  uint od = p / P_OH;
  int id = int(od * P_SD + kd * P_DD) - P_PD;
  int ih = int(oh * P_SH + kh * P_DH) - P_PH;
  int iw = int(ow * P_SW + kw * P_DW) - P_PW;
  if (id < 0 || id >= int(P_ID) || ih < 0 || ih >= int(P_IH) || iw < 0 || iw >= int(P_IW)) return 0;
  int v = int(x_[(((img * P_C + g * P_Cg + c) * P_ID + uint(id)) * P_IH + uint(ih)) * P_IW + uint(iw)]);
#ifdef B_XZP
  v -= xzp_[0];
#endif
  return v;
}

#if defined(QLINEAR) && defined(B_RES)
// The residual epilogue (requantResidual in src/ops/nn/gpu/epilogue.ts): the float32 chain of the
// unfused Q(act(Add(DQ(conv), DQ(skip)))), each step rounded as the separate kernels round it.
int qconv_residual(int acc, float real, uint idx, int z) {
#ifdef B_MS
  int q1 = nn_requant(acc, nn_div(real, ms_[0]), mz_[0], RES_MID_SIGNED == 1 ? -128 : 0, RES_MID_SIGNED == 1 ? 127 : 255);
  precise float c = float(q1 - mz_[0]) * ms_[0];
#else
  precise float c = float(acc) * real;
#endif
#ifdef B_RZ
  int sz = rz_[0];
#else
  int sz = 0;
#endif
  precise float sk = float(int(res_[idx]) - sz) * rs_[0];
  precise float r = c + sk;
  float a = nn_act(r, P_act, P_actAlpha, P_actBeta);
  float v = roundEven(nn_div(a, ys_[0])) + float(z);
  if (isnan(v)) return 0;
  return v <= float(P_lo) ? P_lo : v >= float(P_hi) ? P_hi : int(v);
}
#endif

void gemm_store(uint g, uint m, uint n, int acc) {
  uint mo = g * P_Mg + m;
  uint img = n / OSIZE, p = n % OSIZE;
  uint idx = (img * P_M + mo) * OSIZE + p;
#ifdef QLINEAR
#ifdef B_BIAS
  acc += bias_[mo];
#endif
  precise float real = xs_[0] * ws_[mo * P_wsPerChannel];
  float s = nn_div(real, ys_[0]);
#ifdef B_YZP
  int z = yzp_[0];
#else
  int z = 0;
#endif
#ifdef B_RES
  y_[idx] = Y_ST(qconv_residual(acc, real, idx, z));
#else
  y_[idx] = Y_ST(nn_requant_act(acc, s, real, ys_[0], z, P_lo, P_hi, P_act, P_actAlpha, P_actBeta));
#endif
#else
  y_[idx] = Y_ST(acc);
#endif
}

#if defined(QGEMM_COOPMAT) || defined(QGEMM_DOT)
// int8 matrix units or packed dot products (nn_qgemm_coopmat.glsl): raw values and zero points, padding taps read as x's zero point
int qgemm_raw_a(uint g, uint m, uint k) { return int(w_[(g * P_Mg + m) * GK + k]); }
int qgemm_zp_a(uint g, uint m) {
#ifdef B_WZP
  return wzp_[(g * P_Mg + m) * P_wzpPerChannel];
#else
  return 0;
#endif
}
int qgemm_zp_b(uint g, uint n) {
#ifdef B_XZP
  return xzp_[0];
#else
  return 0;
#endif
}
int qgemm_raw_b(uint g, uint k, uint n) {
  uint c = k / KSIZE, t = k % KSIZE;
  uint kw = t % P_KW; t /= P_KW;
  uint kh = t % P_KH;
  uint kd = t / P_KH;
  uint img = n / OSIZE, p = n % OSIZE;
  uint ow = p % P_OW; p /= P_OW;
  uint oh = p % P_OH;
  uint od = p / P_OH;
  int id = int(od * P_SD + kd * P_DD) - P_PD;
  int ih = int(oh * P_SH + kh * P_DH) - P_PH;
  int iw = int(ow * P_SW + kw * P_DW) - P_PW;
  if (id < 0 || id >= int(P_ID) || ih < 0 || ih >= int(P_IH) || iw < 0 || iw >= int(P_IW)) return qgemm_zp_b(g, n);
  return int(x_[(((img * P_C + g * P_Cg + c) * P_ID + uint(id)) * P_IH + uint(ih)) * P_IW + uint(iw)]);
}
#ifdef QGEMM_COOPMAT
#include "nn_qgemm_coopmat.glsl"
#else
#include "nn_qgemm_dot.glsl"
#endif
#elif defined(QDW_DIRECT)
// Direct grouped convolution with one input channel per group (depthwise, any channel multiplier
// P_Mg): one invocation computes QDW_VEC outputs along the output row of one channel, each weight
// tap loaded once for all of them; padding taps add 0 (skipped). Groups: grid1d over
// NIMG * M * OD * OH * ceil(OW / QDW_VEC), workgroup 64. The epilogue is gemm_store's.
void qdw_direct(uint gid) {
  uint owv = (P_OW + QDW_VEC - 1u) / QDW_VEC;
  if (gid >= P_NIMG * P_M * P_OD * P_OH * owv) return;
  uint ob = gid % owv; uint r = gid / owv;
  uint oh = r % P_OH; r /= P_OH;
  uint od = r % P_OD; r /= P_OD;
  uint mo = r % P_M;
  uint img = r / P_M;
  uint g = mo / P_Mg;
#ifdef B_XZP
  int xz = xzp_[0];
#else
  int xz = 0;
#endif
#ifdef B_WZP
  int wz = wzp_[mo * P_wzpPerChannel];
#else
  int wz = 0;
#endif
  int acc[QDW_VEC];
  for (uint v = 0u; v < QDW_VEC; v++) acc[v] = 0;
  uint ow0 = ob * QDW_VEC;
  for (uint kd = 0u; kd < P_KD; kd++) {
    int id = int(od * P_SD + kd * P_DD) - P_PD;
    if (id < 0 || id >= int(P_ID)) continue;
    for (uint kh = 0u; kh < P_KH; kh++) {
      int ih = int(oh * P_SH + kh * P_DH) - P_PH;
      if (ih < 0 || ih >= int(P_IH)) continue;
      uint row = ((img * P_C + g) * P_ID + uint(id)) * P_IH + uint(ih);
      for (uint kw = 0u; kw < P_KW; kw++) {
        int wv = int(w_[mo * KSIZE + (kd * P_KH + kh) * P_KW + kw]) - wz;
        for (uint v = 0u; v < QDW_VEC; v++) {
          int iw = int((ow0 + v) * P_SW + kw * P_DW) - P_PW;
          if (ow0 + v < P_OW && iw >= 0 && iw < int(P_IW)) acc[v] += wv * (int(x_[row * P_IW + uint(iw)]) - xz);
        }
      }
    }
  }
  uint p0 = (od * P_OH + oh) * P_OW;
  for (uint v = 0u; v < QDW_VEC; v++)
    if (ow0 + v < P_OW) gemm_store(g, mo % P_Mg, img * OSIZE + p0 + ow0 + v, acc[v]);
}
#else
#include "nn_gemm.glsl"
#endif

void main() {
#if defined(QGEMM_COOPMAT)
  qgemm_coopmat(gl_WorkGroupID.z, P_Mg, P_NIMG * OSIZE, GK);
#elif defined(QGEMM_DOT)
  qgemm_dot(gl_WorkGroupID.z, P_Mg, P_NIMG * OSIZE, GK);
#elif defined(QDW_DIRECT)
  qdw_direct(vkrt_index());
#elif defined(GEMM_TILED)
  gemm_tiled(gl_WorkGroupID.z, P_Mg, P_NIMG * OSIZE, GK);
#else
  gemm_simple(gl_WorkGroupID.z, P_Mg, P_NIMG * OSIZE, GK);
#endif
}
