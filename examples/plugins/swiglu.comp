#version 450
#extension GL_GOOGLE_include_directive : require
// The shader headers under shaders/common are on the include path of every plugin kernel:
// vkrt.glsl gives PARAM(i) (shape facts as specialization or push constants), FT (the float
// storage type: float, or float16_t in FP16 layers) and vkrt_index().
#include "vkrt.glsl"

// SwiGLU along one axis: x viewed as [outer, 2H, inner] -> y [outer, H, inner],
//   y = silu(a) * b, a = x[:, h, :], b = x[:, H + h, :].
// Bindings: 0 x, 1 y. Params: 0 n (elements of y), 1 H, 2 inner.
// Defines: PER_INVOCATION (elements per invocation, a tactic parameter).
#ifndef PER_INVOCATION
#define PER_INVOCATION 1
#endif
layout(std430, binding = 0) readonly buffer X { FT x[]; };
layout(std430, binding = 1) writeonly buffer Y { FT y[]; };

void main() {
  uint n = PARAM(0), H = PARAM(1), inner = PARAM(2);
  uint base = vkrt_index() * PER_INVOCATION;
  for (uint k = 0; k < PER_INVOCATION; k++) {
    uint o = base + k;
    if (o >= n) return;
    uint ii = o % inner;
    uint t = o / inner;
    uint h = t % H;
    uint ia = ((t / H) * 2u * H + h) * inner + ii;
    float a = float(x[ia]);
    float b = float(x[ia + H * inner]);
    y[o] = FT(a / (1.0 + exp(-a)) * b);
  }
}
