#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
// present_key / present_value of Attention: concat(past [B,KVH,P,D], new) along the sequence into
// [B,KVH,T,D]; the new part is read through strides (3-D [B,S,KVH*D] or 4-D inputs). Moves bits.
// bindings: 0 past (uint, any buffer when P = 0), 1 new (uint), 2 out (uint)
// params: 0 N (B*KVH*T*D), 1 KVH, 2 T, 3 D, 4 P, 5-7 new strides (b, kvh, j)
layout(std430, binding = 0) readonly buffer Pb { uint past[]; };
layout(std430, binding = 1) readonly buffer Nb { uint cur[]; };
layout(std430, binding = 2) writeonly buffer Ob { uint o[]; };

void main() {
  uint e = vkrt_index();
  if (e >= PARAM(0)) return;
  uint D = PARAM(3), T = PARAM(2), P = PARAM(4);
  uint d = e % D, j = (e / D) % T, bh = e / (D * T);
  uint kh = bh % PARAM(1), b = bh / PARAM(1);
  o[e] = j < P ? past[(bh * P + j) * D + d] : cur[b * PARAM(5) + kh * PARAM(6) + (j - P) * PARAM(7) + d];
}
