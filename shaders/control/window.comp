#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/window.glsl"
// HannWindow / HammingWindow / BlackmanWindow (src/ops/control/signal.ts): w[i] = a0 - a1 cos(2 pi i / N)
// + a2 cos(4 pi i / N) with N = size (periodic) or size - 1 (symmetric), 1 where N is 0. The size
// is read from its buffer; elements at or past it (an output declared longer) are zero.
// Bindings: 0 size (int[1]), 1 y. Params (layout window, src/ops/control/gpu-signal.ts): P_n
//   (output elements), P_periodic, P_a0, P_a1, P_a2.
layout(std430, binding = 0) readonly buffer InSize { int size_[]; };
layout(std430, binding = 1) writeonly buffer OutY { FT y_[]; };

const float TWO_PI = 6.283185307179586;

void main() {
  uint i = vkrt_index();
  if (i >= P_n) return;
  int size = size_[0];
  int N = P_periodic != 0u ? size : size - 1;
  float v;
  if (int(i) >= size) v = 0.0;
  else if (N <= 0) v = 1.0;
  else {
    // i / N in [0, 1]: reduce the angle before cos so long windows keep their precision
    float x = float(i) / float(N);
    v = P_a0 - P_a1 * cos(TWO_PI * x) + P_a2 * cos(2.0 * TWO_PI * fract(x));
  }
  y_[i] = FT(v);
}
