#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
#if MODE == FILL_MODE_constant
#include "params/fill.glsl"
#elif MODE == FILL_MODE_eye
#include "params/fill_eye.glsl"
#else
#include "params/fill_range.glsl"
#endif
// Generated tensors by MODE: FILL_MODE_constant (ConstantOfShape), FILL_MODE_eye (the identity band
// of EyeLike), FILL_MODE_range (Range).
// Bindings: constant / eye: 0 y (uint[]); range: 0 start (T[1]), 1 delta (T[1]), 2 y (T[]).
// Params (layouts fill, fill_eye, fill_range by MODE; src/ops/tensor/kernels.ts): P_n; constant:
//   P_value (bits); eye: P_one (the bits of one), P_cols, P_k.
// Defines: MODE; T (float/int) for range.
#if MODE == FILL_MODE_range
layout(std430, binding = 0) readonly buffer S { T start_[]; };
layout(std430, binding = 1) readonly buffer D { T delta_[]; };
layout(std430, binding = 2) writeonly buffer Y { T y[]; };
#else
layout(std430, binding = 0) writeonly buffer Y { uint y[]; };
#endif

void main() {
  uint i = vkrt_index();
  if (i >= P_n) return;
#if MODE == FILL_MODE_constant
  y[i] = P_value;
#elif MODE == FILL_MODE_eye
  int col = int(i % P_cols);
  int row = int(i / P_cols);
  y[i] = col - row == P_k ? P_one : 0u;
#else
  y[i] = start_[0] + T(i) * delta_[0];
#endif
}
