#version 450
#extension GL_GOOGLE_include_directive : require
#ifdef VKRT_BYTES
// int8/uint8 tensors held one byte per element (src/kernel/storage.ts 'i8' / 'u8')
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
#endif
#include "vkrt.glsl"
#include "params/qdq.glsl"
// QuantizeLinear / DequantizeLinear with per-tensor, per-axis or blocked scales and zero points.
// x viewed as [outer, D, inner] around the quantization axis; the parameter of element
// (o, a, i) is at o * P_strideOuter + (a / block) * P_strideBlock + i * P_strideInner (strides 0 where it does
// not vary: per tensor all 0; per axis 0, 1, 0 with block 1; blocked nb * inner, inner, 1).
//   quantize:   y = clamp(rint(x / s) + zp, lo, hi) (NaN: 0)     (x float or int, y int)
//   dequantize: y = (x - zp) * s                                   (x int, y float)
// Bindings: 0 X, 1 scale, 2 zero point (HAS_ZP), then Y.
// Params (layout qdq, src/ops/nn/gpu/qlinear.ts): P_count (elements), P_D, P_inner, P_block, the
//   parameter strides, the quantized range P_lo, P_hi.
// Defines: DEQUANT (else quantize), HAS_ZP, XT (x storage type: float or int; quantize only),
//   QBITS (4 or 2: the quantized tensors, x and zero point of DEQUANT or y and zero point of a
//   quantize, are packed int4/uint4/int2/uint2 codes in 32-bit words, src/kernel/storage.ts) with
//   QSIGNED (1: codes read sign-extended). A packed quantize computes one word per invocation.
//   Q_ST (with VKRT_BYTES): the quantized tensor (x of DEQUANT, y of a quantize) held one byte per
//   element, int8_t or uint8_t (its zero point stays int32).
// Groups: grid1d(count, 64), packed quantize grid1d(ceil(count * QBITS / 32), 64).
#include "nn_quant.glsl"
#ifndef XT
#define XT float
#endif
#ifdef QBITS
#define QT uint
#define QPER (32u / uint(QBITS))
// code k of a packed buffer, as an int
#if QSIGNED
#define QREAD(buf, k) (int(buf[(k) / QPER] << (32u - uint(QBITS) - ((k) % QPER) * uint(QBITS))) >> (32 - QBITS))
#else
#define QREAD(buf, k) int((buf[(k) / QPER] >> (((k) % QPER) * uint(QBITS))) & ((1u << uint(QBITS)) - 1u))
#endif
#else
#define QT int
#define QREAD(buf, k) int(buf[k])
#endif
#ifdef Q_ST
#define QX_T Q_ST
#else
#define QX_T QT
#endif

#ifdef DEQUANT
layout(std430, binding = 0) readonly buffer InX { QX_T x_[]; };
#else
layout(std430, binding = 0) readonly buffer InX { XT x_[]; };
#endif
layout(std430, binding = 1) readonly buffer InS { float s_[]; };
#ifdef HAS_ZP
layout(std430, binding = 2) readonly buffer InZ { QT z_[]; };
layout(std430, binding = 3) writeonly buffer OutY {
#else
layout(std430, binding = 2) writeonly buffer OutY {
#endif
#ifdef DEQUANT
  float y_[];
#else
  QX_T y_[];
#endif
};

uint qdq_param(uint idx) {
  uint i = idx % P_inner;
  uint r = idx / P_inner;
  uint a = r % P_D;
  uint o = r / P_D;
  return o * P_strideOuter + (a / P_block) * P_strideBlock + i * P_strideInner;
}

int qdq_zero(uint p) {
#ifdef HAS_ZP
  return QREAD(z_, p);
#else
  return 0;
#endif
}

#ifndef DEQUANT
int qdq_quantize(uint idx) {
  uint p = qdq_param(idx);
  float v = roundEven(nn_div(float(x_[idx]), s_[p])) + float(qdq_zero(p));
  return isnan(v) ? 0 : v <= float(P_lo) ? P_lo : v >= float(P_hi) ? P_hi : int(v);
}
#endif

void main() {
  uint idx = vkrt_index();
#if defined(QBITS) && !defined(DEQUANT)
  if (idx * QPER >= P_count) return;
  uint word = 0u;
  for (uint e = 0u; e < QPER; e++) {
    uint k = idx * QPER + e;
    if (k >= P_count) break;
    word |= (uint(qdq_quantize(k)) & ((1u << uint(QBITS)) - 1u)) << (e * uint(QBITS));
  }
  y_[idx] = word;
#else
  if (idx >= P_count) return;
#ifdef DEQUANT
  uint p = qdq_param(idx);
  precise float d = float(QREAD(x_, idx) - qdq_zero(p));
  y_[idx] = d * s_[p];
#else
  y_[idx] = QX_T(qdq_quantize(idx));
#endif
#endif
}
