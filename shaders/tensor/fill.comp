#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
// Generated tensors: MODE 0 constant (ConstantOfShape), 1 identity band (EyeLike), 2 Range.
// Bindings: MODE 0/1: 0 y (uint[]). MODE 2: 0 start (T[1]), 1 delta (T[1]), 2 y (T[]).
// Params: 0 n; MODE 0: 1 value bits; MODE 1: 1 bits of one, 2 cols, 3 k (int).
// Defines: MODE; T (float/int) for MODE 2.
#if MODE == 2
layout(std430, binding = 0) readonly buffer S { T start_[]; };
layout(std430, binding = 1) readonly buffer D { T delta_[]; };
layout(std430, binding = 2) writeonly buffer Y { T y[]; };
#else
layout(std430, binding = 0) writeonly buffer Y { uint y[]; };
#endif

void main() {
  uint i = vkrt_index();
  if (i >= PARAM(0)) return;
#if MODE == 0
  y[i] = PARAM(1);
#elif MODE == 1
  int col = int(i % PARAM(2));
  int row = int(i / PARAM(2));
  y[i] = col - row == PARAMI(3) ? PARAM(1) : 0u;
#else
  y[i] = start_[0] + T(i) * delta_[0];
#endif
}
