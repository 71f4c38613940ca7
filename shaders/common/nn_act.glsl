// nn epilogue: the fused activation switch shared by Conv, Gemm and MatMul kernels. NaN and Inf
// behave as in the reference (vkrt_math.glsl's helpers, never GLSL's max/min/clamp on a NaN).
//
// nn_act(x, kind, a, b) applies activation `kind` (a param, so a specialization constant in spec
// mode and the switch folds away) with its two float parameters. Codes: ACT_<name>
// (params/enums.glsl, generated from ACT in src/ops/nn/gpu/epilogue.ts): None, Relu, Clip(min a,
// max b), LeakyRelu(alpha a), Sigmoid, HardSigmoid(alpha a, beta b), HardSwish, Tanh, Elu(alpha a),
// Silu (x * sigmoid(x)), Gelu (erf form), GeluTanh (tanh approximation), Mish (x * tanh(softplus(x))).
#ifndef NN_ACT_GLSL
#define NN_ACT_GLSL

#include "vkrt_math.glsl"

float nn_sigmoid(float x) {
  // split by sign so exp never overflows
  if (x >= 0.0) return 1.0 / (1.0 + exp(-x));
  float e = exp(x);
  return e / (1.0 + e);
}

float nn_tanh(float x) {
  // drivers may build tanh from exp(2x), which cancels for small |x|: the series there
  return abs(x) < 0.004 ? x * (1.0 - x * x / 3.0) : tanh(vkrt_clip(x, -15.0, 15.0));
}

float nn_softplus(float x) {
  // log(1 + e) with e <= 1; the series where log() near 1 would lose the low bits
  float e = exp(-abs(x));
  float l = e < 1e-3 ? e * (1.0 - e * (0.5 - e / 3.0)) : log(1.0 + e);
  return vkrt_max(x, 0.0) + l;
}

float nn_act(float x, uint kind, float a, float b) {
  switch (kind) {
    case ACT_Relu: return vkrt_relu(x);
    case ACT_Clip: return vkrt_clip(x, a, b);
    case ACT_LeakyRelu: return x >= 0.0 ? x : a * x;
    case ACT_Sigmoid: return nn_sigmoid(x);
    case ACT_HardSigmoid: return vkrt_clip(a * x + b, 0.0, 1.0);
    case ACT_HardSwish: return x * vkrt_clip(x / 6.0 + 0.5, 0.0, 1.0);
    case ACT_Tanh: return tanh(vkrt_clip(x, -15.0, 15.0));
    case ACT_Elu: return x >= 0.0 ? x : a * (exp(x) - 1.0);
    case ACT_Silu: return x * nn_sigmoid(x);
    case ACT_Gelu: return 0.5 * x * (1.0 + vkrt_erf(x * 0.7071067811865476));
    case ACT_GeluTanh: return 0.5 * x * (1.0 + nn_tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
    case ACT_Mish: return x * nn_tanh(nn_softplus(x));
    default: return x;
  }
}

#endif
