#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/gemm_splitk.glsl"
// Gemm/MatMul split-K, second pass: sums the partial products nn/gemm.comp (SPLITK) wrote for each
// K chunk, in chunk order (deterministic), then the epilogue: alpha, + beta * C, activation.
// Bindings: 0 Part [splits, batch, M, N] (float), then C (HAS_C), then Y (row-major [batch, M, N]).
// Params: layout gemm_splitk: gemm's (float, all), P_chunk (unused here), P_splits, P_total (batch*M*N).
// 1-D grid (vkrt_index()). VKRT_F16: f16 C and Y.
#include "nn_act.glsl"

layout(std430, binding = 0) readonly buffer InPart { float part_[]; };
#ifdef HAS_C
layout(std430, binding = 1) readonly buffer InC { FT c_[]; };
#define Y_BINDING 2
#else
#define Y_BINDING 1
#endif
layout(std430, binding = Y_BINDING) writeonly buffer Out { FT y_[]; };

void main() {
  uint idx = vkrt_index();
  uint total = P_total;
  if (idx >= total) return;
  float acc = 0.0;
  for (uint s = 0u; s < P_splits; s++) acc += part_[s * total + idx];
  float v = P_alpha * acc;
#ifdef HAS_C
  uint n = idx % P_N, m = (idx / P_N) % P_M;
  v += P_beta * float(c_[m * P_cStrideM + n * P_cStrideN]);
#endif
  y_[idx] = FT(nn_act(v, P_act, P_actAlpha, P_actBeta));
}
