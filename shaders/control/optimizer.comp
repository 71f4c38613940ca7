#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/optimizer.glsl"
// ai.onnx.preview.training optimizers, one tensor per dispatch, one invocation per element
// (src/ops/control/training.ts for the formulas), with g = lambda * x + G:
//  OPT_Adagrad: r = R / (1 + T * decay); H' = H + g^2; X' = X - r * g / (sqrt(H') + eps)
//  OPT_Adam: V' = alpha V + (1 - alpha) g; H' = beta H + (1 - beta) g^2;
//    X' = (1 - lambdaPost) (X - rAdj V' / (sqrt(H') + eps)), rAdj = R sqrt(1 - beta^T) / (1 - alpha^T) (R when T = 0)
//  OPT_Momentum: V' = alpha V + (T > 0 ? beta : 1) g; X' = X - R V' (standard) or X - R (g + alpha V') (nesterov)
// Bindings: 0 R (float[1]), 1 T (int[1]), 2 X, 3 G, 4 V (Adam, Momentum), 5 H (Adagrad, Adam),
//   6 X', 7 V' (Adam, Momentum), 8 H' (Adagrad, Adam); unused ones bind X.
// Params (layout optimizer, src/ops/control/gpu-training.ts): P_n, P_alpha, P_beta, P_eps,
//   P_lambda, P_lambdaPost, P_decay, P_nesterov.
// Defines: OPT.
layout(std430, binding = 0) readonly buffer InR { float r_[]; };
layout(std430, binding = 1) readonly buffer InT { int t_[]; };
layout(std430, binding = 2) readonly buffer InX { FT x_[]; };
layout(std430, binding = 3) readonly buffer InG { FT g_[]; };
layout(std430, binding = 4) readonly buffer InV { FT v_[]; };
layout(std430, binding = 5) readonly buffer InH { FT h_[]; };
layout(std430, binding = 6) writeonly buffer OutX { FT xo_[]; };
layout(std430, binding = 7) writeonly buffer OutV { FT vo_[]; };
layout(std430, binding = 8) writeonly buffer OutH { FT ho_[]; };

void main() {
  uint i = vkrt_index();
  if (i >= P_n) return;
  float R = r_[0];
  float T = float(t_[0]);
  float x = float(x_[i]);
  float g = P_lambda * x + float(g_[i]);
#if OPT == OPT_Adagrad
  float r = R / (1.0 + T * P_decay);
  float h = float(h_[i]) + g * g;
  ho_[i] = FT(h);
  xo_[i] = FT(x - r * g / (sqrt(h) + P_eps));
#elif OPT == OPT_Adam
  float rAdj = T > 0.0 ? R * sqrt(1.0 - pow(P_beta, T)) / (1.0 - pow(P_alpha, T)) : R;
  float v = P_alpha * float(v_[i]) + (1.0 - P_alpha) * g;
  float h = P_beta * float(h_[i]) + (1.0 - P_beta) * g * g;
  vo_[i] = FT(v);
  ho_[i] = FT(h);
  xo_[i] = FT((1.0 - P_lambdaPost) * (x - rAdj * v / (sqrt(h) + P_eps)));
#else
  float v = P_alpha * float(v_[i]) + (T > 0.0 ? P_beta : 1.0) * g;
  vo_[i] = FT(v);
  xo_[i] = FT(P_nesterov != 0u ? x - R * (g + P_alpha * v) : x - R * v);
#endif
}
