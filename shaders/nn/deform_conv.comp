#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/deform_conv.glsl"
// DeformConv, 2-D (src/ops/nn/deform.ts): one invocation per output (n, m, oh, ow) sums, over the
// group's input channels and the kernel taps, w[m, cg, k] * the bilinear sample of x at the tap's
// position moved by its offset (zero outside the image), times the mask where there is one.
// Bindings: 0 X [N, C, H, W], 1 W [M, C/group, kH, kW], 2 offset [N, og*kH*kW*2, oH, oW],
//   3 B [M] (HAS_BIAS), 4 mask [N, og*kH*kW, oH, oW] (HAS_MASK), 5 Y [N, M, oH, oW].
// Params (layout deform_conv, src/ops/nn/gpu/deform.ts): P_n, P_C, P_H, P_W, P_M, P_Cg, P_kH,
//   P_kW, P_oH, P_oW, P_og, P_group, P_strideH/W, P_padH/W (begin), P_dilH/W.
// Defines: HAS_BIAS, HAS_MASK.
layout(std430, binding = 0) readonly buffer InX { FT x_[]; };
layout(std430, binding = 1) readonly buffer InW { FT w_[]; };
layout(std430, binding = 2) readonly buffer InO { FT off_[]; };
layout(std430, binding = 3) readonly buffer InB { FT b_[]; };
layout(std430, binding = 4) readonly buffer InM { FT mask_[]; };
layout(std430, binding = 5) writeonly buffer OutY { FT y_[]; };

float at(uint base, int r, int c) {
  return r >= 0 && r < int(P_H) && c >= 0 && c < int(P_W) ? float(x_[base + uint(r) * P_W + uint(c)]) : 0.0;
}

float sample_(uint base, float h, float w) {
  if (h <= -1.0 || h >= float(P_H) || w <= -1.0 || w >= float(P_W)) return 0.0;
  float h0f = floor(h), w0f = floor(w);
  int h0 = int(h0f), w0 = int(w0f);
  float lh = h - h0f, lw = w - w0f;
  return (1.0 - lh) * (1.0 - lw) * at(base, h0, w0) + (1.0 - lh) * lw * at(base, h0, w0 + 1)
       + lh * (1.0 - lw) * at(base, h0 + 1, w0) + lh * lw * at(base, h0 + 1, w0 + 1);
}

void main() {
  uint idx = vkrt_index();
  if (idx >= P_n) return;
  uint ow = idx % P_oW, oh = (idx / P_oW) % P_oH, m = (idx / P_oW / P_oH) % P_M, n = idx / P_oW / P_oH / P_M;
  uint K = P_kH * P_kW;
  uint g = m / (P_M / P_group);
  uint cPerOg = P_C / P_og;
#ifdef HAS_BIAS
  float acc = float(b_[m]);
#else
  float acc = 0.0;
#endif
  for (uint cg = 0u; cg < P_Cg; cg++) {
    uint c = g * P_Cg + cg;
    uint og = c / cPerOg;
    uint base = (n * P_C + c) * P_H * P_W;
    for (uint k = 0u; k < K; k++) {
      uint ki = k / P_kW, kj = k % P_kW;
      uint ob = ((n * P_og + og) * K + k) * 2u;
      float dh = float(off_[(ob * P_oH + oh) * P_oW + ow]);
      float dw = float(off_[((ob + 1u) * P_oH + oh) * P_oW + ow]);
      float h = float(int(oh * P_strideH) - int(P_padH) + int(ki * P_dilH)) + dh;
      float w = float(int(ow * P_strideW) - int(P_padW) + int(kj * P_dilW)) + dw;
      float v = sample_(base, h, w);
#ifdef HAS_MASK
      v *= float(mask_[(((n * P_og + og) * K + k) * P_oH + oh) * P_oW + ow]);
#endif
      acc += float(w_[(m * P_Cg + cg) * K + k]) * v;
    }
  }
  y_[idx] = FT(acc);
}
