#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
// Gemm/MatMul split-K, second pass: sums the partial products nn/gemm.comp (SPLITK) wrote for each
// K chunk, in chunk order (deterministic), then the epilogue: alpha, + beta * C, activation.
// Bindings: 0 Part [splits, batch, M, N] (float), then C (HAS_C), then Y (row-major [batch, M, N]).
// Params: 0..22 as gemm.comp (float), 23 K chunk (unused here), 24 splits, 25 total (batch*M*N).
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
  uint total = PARAM(25);
  if (idx >= total) return;
  float acc = 0.0;
  for (uint s = 0u; s < PARAM(24); s++) acc += part_[s * total + idx];
  float v = PARAMF(16) * acc;
#ifdef HAS_C
  uint n = idx % PARAM(1), m = (idx / PARAM(1)) % PARAM(0);
  v += PARAMF(20) * float(c_[m * PARAM(21) + n * PARAM(22)]);
#endif
  y_[idx] = FT(nn_act(v, PARAM(17), PARAMF(18), PARAMF(19)));
}
