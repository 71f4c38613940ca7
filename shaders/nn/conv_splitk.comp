#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/conv_splitk.glsl"
// Conv split-K, second pass: sums the partial products nn/conv_gemm.comp (SPLITK) wrote for each
// K chunk, in chunk order (deterministic), then applies the epilogue: + bias, + residual, activation.
// Bindings: 0 Part [splits, M, NIMG*OD*OH*OW] (float), then B [M] (HAS_BIAS), then R (HAS_RES),
//   then Y [NIMG, M, OD, OH, OW].
// Params: layout conv_splitk: conv_gemm's, P_chunk (unused here), P_splits, P_total (outputs).
// 1-D grid (vkrt_index()). VKRT_F16: f16 bias/residual/output; the partial sums stay float.
#include "nn_act.glsl"

layout(std430, binding = 0) readonly buffer InPart { float part_[]; };
#ifdef HAS_BIAS
layout(std430, binding = 1) readonly buffer InB { FT bias_[]; };
#define NEXT_BINDING 2
#else
#define NEXT_BINDING 1
#endif
#ifdef HAS_RES
layout(std430, binding = NEXT_BINDING) readonly buffer InR { FT res_[]; };
layout(std430, binding = NEXT_BINDING + 1) writeonly buffer Out { FT y_[]; };
#else
layout(std430, binding = NEXT_BINDING) writeonly buffer Out { FT y_[]; };
#endif

#define OSIZE (P_OD * P_OH * P_OW)

void main() {
  uint idx = vkrt_index();
  if (idx >= P_total) return;
  uint p = idx % OSIZE;
  uint mo = (idx / OSIZE) % P_M;
  uint img = idx / (OSIZE * P_M);
  uint ntot = P_NIMG * OSIZE;
  uint at = mo * ntot + img * OSIZE + p;
  uint stride = P_M * ntot;
  float v = 0.0;
  for (uint s = 0u; s < P_splits; s++) v += part_[at + s * stride];
#ifdef HAS_BIAS
  v += float(bias_[mo]);
#endif
#ifdef HAS_RES
  v += float(res_[idx]);
#endif
  y_[idx] = FT(nn_act(v, P_act, P_actAlpha, P_actBeta));
}
