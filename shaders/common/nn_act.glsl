// nn epilogue: the fused activation switch shared by Conv, Gemm and MatMul kernels.
//
// nn_act(x, kind, a, b) applies activation `kind` (a param, so a specialization constant in spec
// mode and the switch folds away) with its two float parameters. Codes (src/ops/nn/gpu/epilogue.ts
// holds the same table):
//   0 none, 1 Relu, 2 Clip(min a, max b), 3 LeakyRelu(alpha a), 4 Sigmoid, 5 HardSigmoid(alpha a,
//   beta b), 6 HardSwish, 7 Tanh, 8 Elu(alpha a), 9 Silu (x * sigmoid(x)).
#ifndef NN_ACT_GLSL
#define NN_ACT_GLSL

float nn_sigmoid(float x) {
  // split by sign so exp never overflows
  if (x >= 0.0) return 1.0 / (1.0 + exp(-x));
  float e = exp(x);
  return e / (1.0 + e);
}

float nn_act(float x, uint kind, float a, float b) {
  switch (kind) {
    case 1u: return max(x, 0.0);
    case 2u: return min(max(x, a), b);
    case 3u: return x >= 0.0 ? x : a * x;
    case 4u: return nn_sigmoid(x);
    case 5u: return clamp(a * x + b, 0.0, 1.0);
    case 6u: return x * clamp(x / 6.0 + 0.5, 0.0, 1.0);
    case 7u: return tanh(clamp(x, -15.0, 15.0));
    case 8u: return x >= 0.0 ? x : a * (exp(x) - 1.0);
    case 9u: return x * nn_sigmoid(x);
    default: return x;
  }
}

#endif
