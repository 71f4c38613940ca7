#version 450
#extension GL_GOOGLE_include_directive : require
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
// Defines: DEQUANT (else quantize), HAS_ZP, XT (x storage type: float or int; quantize only).
// Groups: grid1d(count, 64).
#include "nn_quant.glsl"
#ifndef XT
#define XT float
#endif

#ifdef DEQUANT
layout(std430, binding = 0) readonly buffer InX { int x_[]; };
#else
layout(std430, binding = 0) readonly buffer InX { XT x_[]; };
#endif
layout(std430, binding = 1) readonly buffer InS { float s_[]; };
#ifdef HAS_ZP
layout(std430, binding = 2) readonly buffer InZ { int z_[]; };
layout(std430, binding = 3) writeonly buffer OutY {
#else
layout(std430, binding = 2) writeonly buffer OutY {
#endif
#ifdef DEQUANT
  float y_[];
#else
  int y_[];
#endif
};

void main() {
  uint idx = vkrt_index();
  if (idx >= P_count) return;
  uint i = idx % P_inner;
  uint r = idx / P_inner;
  uint a = r % P_D;
  uint o = r / P_D;
  uint p = o * P_strideOuter + (a / P_block) * P_strideBlock + i * P_strideInner;
  float s = s_[p];
#ifdef HAS_ZP
  int z = z_[p];
#else
  int z = 0;
#endif
#ifdef DEQUANT
  precise float d = float(x_[idx] - z);
  y_[idx] = d * s;
#else
  float v = roundEven(nn_div(float(x_[idx]), s)) + float(z);
  y_[idx] = isnan(v) ? 0 : v <= float(P_lo) ? P_lo : v >= float(P_hi) ? P_hi : int(v);
#endif
}
