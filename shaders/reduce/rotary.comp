#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/rotary.glsl"
// RotaryEmbedding (opset 23): one invocation per element of the [B, H, S, D] view of the input
// (4-D, or 3-D [B, S, H*D] through strides). Pairs (i, i + rot/2), or (2i, 2i + 1) interleaved,
// rotate by the cache row's cos/sin; dims past rot are copied.
// bindings: 0 input, 1 cos_cache, 2 sin_cache, 3 position_ids (int; any buffer without HAS_POS),
//   4 output
// params (layout rotary, src/ops/reduce/gpu-attention.ts): P_n, P_H, P_S, P_D, P_strides_0..2
//   (b, h, s), P_half (rot/2), P_interleaved, P_cacheWidth (cache row width), P_maxPos (cache
//   rows; only with HAS_POS)
// defines: HAS_POS (0: the caches are [B, S, CW])
layout(std430, binding = 0) readonly buffer Xb { float x[]; };
layout(std430, binding = 1) readonly buffer Cb { float cosc[]; };
layout(std430, binding = 2) readonly buffer Sb { float sinc[]; };
layout(std430, binding = 3) readonly buffer Pb { int pos[]; };
layout(std430, binding = 4) writeonly buffer Yb { float y[]; };

void main() {
  uint e = vkrt_index();
  if (e >= P_n) return;
  uint D = P_D, S = P_S, H = P_H, half_ = P_half;
  uint d = e % D, s = (e / D) % S, h = (e / (D * S)) % H, b = e / (D * S * H);
  uint base = b * P_strides_0 + h * P_strides_1 + s * P_strides_2;
  if (d >= 2u * half_) { y[base + d] = x[base + d]; return; }
  bool inter = P_interleaved != 0u;
  uint i = inter ? d / 2u : (d < half_ ? d : d - half_);
  uint d1 = inter ? 2u * i : i, d2 = inter ? 2u * i + 1u : i + half_;
#if HAS_POS
  uint row = uint(clamp(pos[b * S + s], 0, int(P_maxPos) - 1));
#else
  uint row = b * S + s;
#endif
  float c = cosc[row * P_cacheWidth + i], sn = sinc[row * P_cacheWidth + i];
  float x1 = x[base + d1], x2 = x[base + d2];
  y[base + d] = d == d1 ? c * x1 - sn * x2 : sn * x1 + c * x2;
}
