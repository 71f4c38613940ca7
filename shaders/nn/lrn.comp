#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/lrn.glsl"
// LRN across channels: y = x / (bias + alpha / size * sum_{c' in [c - lo, c + hi]} x[c']^2)^beta,
// one invocation per element.
// Bindings: 0 X [N, C, inner], 1 Y.
// Params (layout lrn, src/ops/nn/gpu/norm.ts): P_total, P_C, P_inner (spatial size), the window
//   P_before / P_after channels, P_alphaOverSize (alpha / size), P_beta, P_bias.

layout(std430, binding = 0) readonly buffer InX { float x_[]; };
layout(std430, binding = 1) writeonly buffer Out { float y_[]; };

void main() {
  uint i = vkrt_index();
  if (i >= P_total) return;
  uint inner = P_inner;
  int C = int(P_C);
  int c = int((i / inner) % P_C);
  uint base = i - uint(c) * inner;
  float sq = 0.0;
  for (int cc = max(0, c - P_before); cc <= min(C - 1, c + P_after); cc++) {
    float v = x_[base + uint(cc) * inner];
    sq += v * v;
  }
  y_[i] = x_[i] / pow(P_bias + P_alphaOverSize * sq, P_beta);
}
