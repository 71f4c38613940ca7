#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
// LRN across channels: y = x / (bias + alpha / size * sum_{c' in [c - lo, c + hi]} x[c']^2)^beta,
// one invocation per element.
// Bindings: 0 X [N, C, inner], 1 Y.
// Params: 0 total, 1 C, 2 inner (spatial size), 3 lo, 4 hi, 5 alpha / size (f32), 6 beta (f32), 7 bias (f32).

layout(std430, binding = 0) readonly buffer InX { float x_[]; };
layout(std430, binding = 1) writeonly buffer Out { float y_[]; };

void main() {
  uint i = vkrt_index();
  if (i >= PARAM(0)) return;
  uint inner = PARAM(2);
  int C = PARAMI(1);
  int c = int((i / inner) % PARAM(1));
  uint base = i - uint(c) * inner;
  float sq = 0.0;
  for (int cc = max(0, c - PARAMI(3)); cc <= min(C - 1, c + PARAMI(4)); cc++) {
    float v = x_[base + uint(cc) * inner];
    sq += v * v;
  }
  y_[i] = x_[i] / pow(PARAMF(7) + PARAMF(5) * sq, PARAMF(6));
}
