#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/kv_concat.glsl"
// present_key / present_value of Attention: concat(past [B,KVH,P,D], new) along the sequence into
// [B,KVH,T,D]; the new part is read through strides (3-D [B,S,KVH*D] or 4-D inputs). Moves bits.
// bindings: 0 past (uint, any buffer when P = 0), 1 new (uint), 2 out (uint)
// params (layout kv_concat, src/ops/reduce/gpu-attention.ts): P_n (B*KVH*T*D), P_KVH, P_T, P_D,
//   P_P, P_curStrides_0..2 (new strides: b, kvh, j)
layout(std430, binding = 0) readonly buffer Pb { uint past[]; };
layout(std430, binding = 1) readonly buffer Nb { uint cur[]; };
layout(std430, binding = 2) writeonly buffer Ob { uint o[]; };

void main() {
  uint e = vkrt_index();
  if (e >= P_n) return;
  uint D = P_D, T = P_T, P = P_P;
  uint d = e % D, j = (e / D) % T, bh = e / (D * T);
  uint kh = bh % P_KVH, b = bh / P_KVH;
  o[e] = j < P ? past[(bh * P + j) * D + d] : cur[b * P_curStrides_0 + kh * P_curStrides_1 + (j - P) * P_curStrides_2 + d];
}
