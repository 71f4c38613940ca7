#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
// Conv split-K, second pass: sums the partial products nn/conv_gemm.comp (SPLITK) wrote for each
// K chunk, in chunk order (deterministic), then applies the epilogue: + bias, + residual, activation.
// Bindings: 0 Part [splits, M, NIMG*OD*OH*OW] (float), then B [M] (HAS_BIAS), then R (HAS_RES),
//   then Y [NIMG, M, OD, OH, OW].
// Params: 0..25 as conv_gemm.comp, 26 K chunk (unused here), 27 splits, 28 total outputs.
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

#define OSIZE (PARAM(5) * PARAM(6) * PARAM(7))

void main() {
  uint idx = vkrt_index();
  if (idx >= PARAM(28)) return;
  uint p = idx % OSIZE;
  uint mo = (idx / OSIZE) % PARAM(4);
  uint img = idx / (OSIZE * PARAM(4));
  uint ntot = PARAM(22) * OSIZE;
  uint at = mo * ntot + img * OSIZE + p;
  uint stride = PARAM(4) * ntot;
  float v = 0.0;
  for (uint s = 0u; s < PARAM(27); s++) v += part_[at + s * stride];
#ifdef HAS_BIAS
  v += float(bias_[mo]);
#endif
#ifdef HAS_RES
  v += float(res_[idx]);
#endif
  y_[idx] = FT(nn_act(v, PARAM(23), PARAMF(24), PARAMF(25)));
}
