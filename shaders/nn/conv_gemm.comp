#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/conv_gemm.glsl"
// Conv (1-D, 2-D, 3-D; 1-D/2-D run as 3-D with unit depth/height) as an implicit GEMM per group:
// Y[g] (Mg x NIMG*OD*OH*OW) = W[g] (Mg x Cg*KD*KH*KW) x im2col(X)[g], with the im2col matrix read
// on the fly (padding taps read as 0); epilogue: + bias, + residual, activation.
// Bindings: 0 X [NIMG, C, ID, IH, IW], 1 W [M, Cg, KD, KH, KW], then B [M] (HAS_BIAS),
//   then R (HAS_RES, a residual shaped like Y, added before the activation), then Y [NIMG, M, OD, OH, OW].
// Params (layout conv_gemm, src/ops/nn/gpu/conv.ts): P_C, P_ID/IH/IW, P_M, P_OD/OH/OW, kernel P_KD..,
//   strides P_SD.., begin pads P_PD.., dilations P_DD.., P_Cg, P_Mg, P_NIMG, the activation (P_act,
//   P_actAlpha, P_actBeta; nn_act.glsl).
// Defines: VKRT_F16 (f16 buffers, converted on load: FP32 arithmetic), HAS_BIAS, HAS_RES, GEMM_TILED (else one invocation per output), GEMM_* tile shape.
// Groups: (ceil(NIMG*OD*OH*OW / BN), ceil(Mg / BM), group count).
// SPLITK (split-K, for shapes whose tile grid cannot fill the GPU, e.g. 7x7 maps at batch 1): the
//   K range is cut into chunks of P_chunk (a multiple of GEMM_BK); workgroup z = split * groups + g
//   computes one chunk's partial products into binding 2, Part [splits, M, NIMG*OD*OH*OW] (float),
//   with no epilogue; nn/conv_splitk.comp then sums the splits and applies bias, residual and
//   activation. Bindings then: 0 X, 1 W, 2 Part.
#define GEMM_T float
#include "nn_act.glsl"

layout(std430, binding = 0) readonly buffer InX { FT x_[]; };
layout(std430, binding = 1) readonly buffer InW { FT w_[]; };
#ifdef SPLITK
layout(std430, binding = 2) writeonly buffer Part { float part_[]; };
#else
#ifdef HAS_BIAS
layout(std430, binding = 2) readonly buffer InB { FT bias_[]; };
#define NEXT_BINDING 3
#else
#define NEXT_BINDING 2
#endif
#ifdef HAS_RES
layout(std430, binding = NEXT_BINDING) readonly buffer InR { FT res_[]; };
layout(std430, binding = NEXT_BINDING + 1) writeonly buffer Out { FT y_[]; };
#else
layout(std430, binding = NEXT_BINDING) writeonly buffer Out { FT y_[]; };
#endif
#endif

#define KSIZE (P_KD * P_KH * P_KW)
#define OSIZE (P_OD * P_OH * P_OW)
#define GK (P_Cg * KSIZE)

// First K index of this workgroup's chunk (0 without SPLITK); loads see chunk-relative k.
uint splitk_k0 = 0u;
uint splitk_s = 0u;

float gemm_load_a(uint g, uint m, uint k) {
  k += splitk_k0;
  return w_[(g * P_Mg + m) * GK + k];
}

float gemm_load_b(uint g, uint k, uint n) {
  k += splitk_k0;
  uint c = k / KSIZE, t = k % KSIZE;
  uint kw = t % P_KW; t /= P_KW;
  uint kh = t % P_KH;
  uint kd = t / P_KH;
  uint img = n / OSIZE, p = n % OSIZE;
  uint ow = p % P_OW; p /= P_OW;
  uint oh = p % P_OH;
  uint od = p / P_OH;
  int id = int(od * P_SD + kd * P_DD) - P_PD;
  int ih = int(oh * P_SH + kh * P_DH) - P_PH;
  int iw = int(ow * P_SW + kw * P_DW) - P_PW;
  if (id < 0 || id >= int(P_ID) || ih < 0 || ih >= int(P_IH) || iw < 0 || iw >= int(P_IW)) return 0.0;
  return x_[(((img * P_C + g * P_Cg + c) * P_ID + uint(id)) * P_IH + uint(ih)) * P_IW + uint(iw)];
}

void gemm_store(uint g, uint m, uint n, float acc) {
  uint mo = g * P_Mg + m;
#ifdef SPLITK
  part_[(splitk_s * P_M + mo) * (P_NIMG * OSIZE) + n] = acc;
#else
  uint img = n / OSIZE, p = n % OSIZE;
  uint idx = (img * P_M + mo) * OSIZE + p;
  float v = acc;
#ifdef HAS_BIAS
  v += bias_[mo];
#endif
#ifdef HAS_RES
  v += res_[idx];
#endif
  y_[idx] = FT(nn_act(v, P_act, P_actAlpha, P_actBeta));
#endif
}

#include "nn_gemm.glsl"

void main() {
#ifdef SPLITK
  uint groups = P_C / P_Cg;
  splitk_s = gl_WorkGroupID.z / groups;
  splitk_k0 = splitk_s * P_chunk;
  gemm_tiled(gl_WorkGroupID.z % groups, P_Mg, P_NIMG * OSIZE, min(P_chunk, GK - splitk_k0));
#elif defined(GEMM_TILED)
  gemm_tiled(gl_WorkGroupID.z, P_Mg, P_NIMG * OSIZE, GK);
#else
  gemm_simple(gl_WorkGroupID.z, P_Mg, P_NIMG * OSIZE, GK);
#endif
}
