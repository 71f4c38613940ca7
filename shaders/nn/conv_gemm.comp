#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
// Conv (1-D, 2-D, 3-D; 1-D/2-D run as 3-D with unit depth/height) as an implicit GEMM per group:
// Y[g] (Mg x NIMG*OD*OH*OW) = W[g] (Mg x Cg*KD*KH*KW) x im2col(X)[g], with the im2col matrix read
// on the fly (padding taps read as 0); epilogue: + bias, + residual, activation.
// Bindings: 0 X [NIMG, C, ID, IH, IW], 1 W [M, Cg, KD, KH, KW], then B [M] (HAS_BIAS),
//   then R (HAS_RES, a residual shaped like Y, added before the activation), then Y [NIMG, M, OD, OH, OW].
// Params: 0 C, 1 ID, 2 IH, 3 IW, 4 M, 5 OD, 6 OH, 7 OW, 8 KD, 9 KH, 10 KW, 11 SD, 12 SH, 13 SW,
//   14 PD, 15 PH, 16 PW (begin pads), 17 DD, 18 DH, 19 DW (dilations), 20 Cg, 21 Mg, 22 NIMG,
//   23 activation kind, 24 activation a (f32), 25 activation b (f32).
// Defines: VKRT_F16 (f16 buffers, converted on load: FP32 arithmetic), HAS_BIAS, HAS_RES, GEMM_TILED (else one invocation per output), GEMM_* tile shape.
// Groups: (ceil(NIMG*OD*OH*OW / BN), ceil(Mg / BM), group count).
// SPLITK (split-K, for shapes whose tile grid cannot fill the GPU, e.g. 7x7 maps at batch 1): the
//   K range is cut into chunks of param 26 (a multiple of GEMM_BK); workgroup z = split * groups + g
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

#define KSIZE (PARAM(8) * PARAM(9) * PARAM(10))
#define OSIZE (PARAM(5) * PARAM(6) * PARAM(7))
#define GK (PARAM(20) * KSIZE)

// First K index of this workgroup's chunk (0 without SPLITK); loads see chunk-relative k.
uint splitk_k0 = 0u;
uint splitk_s = 0u;

float gemm_load_a(uint g, uint m, uint k) {
  k += splitk_k0;
  return w_[(g * PARAM(21) + m) * GK + k];
}

float gemm_load_b(uint g, uint k, uint n) {
  k += splitk_k0;
  uint c = k / KSIZE, t = k % KSIZE;
  uint kw = t % PARAM(10); t /= PARAM(10);
  uint kh = t % PARAM(9);
  uint kd = t / PARAM(9);
  uint img = n / OSIZE, p = n % OSIZE;
  uint ow = p % PARAM(7); p /= PARAM(7);
  uint oh = p % PARAM(6);
  uint od = p / PARAM(6);
  int id = int(od * PARAM(11) + kd * PARAM(17)) - PARAMI(14);
  int ih = int(oh * PARAM(12) + kh * PARAM(18)) - PARAMI(15);
  int iw = int(ow * PARAM(13) + kw * PARAM(19)) - PARAMI(16);
  if (id < 0 || id >= PARAMI(1) || ih < 0 || ih >= PARAMI(2) || iw < 0 || iw >= PARAMI(3)) return 0.0;
  return x_[(((img * PARAM(0) + g * PARAM(20) + c) * PARAM(1) + uint(id)) * PARAM(2) + uint(ih)) * PARAM(3) + uint(iw)];
}

void gemm_store(uint g, uint m, uint n, float acc) {
  uint mo = g * PARAM(21) + m;
#ifdef SPLITK
  part_[(splitk_s * PARAM(4) + mo) * (PARAM(22) * OSIZE) + n] = acc;
#else
  uint img = n / OSIZE, p = n % OSIZE;
  uint idx = (img * PARAM(4) + mo) * OSIZE + p;
  float v = acc;
#ifdef HAS_BIAS
  v += bias_[mo];
#endif
#ifdef HAS_RES
  v += res_[idx];
#endif
  y_[idx] = FT(nn_act(v, PARAM(23), PARAMF(24), PARAMF(25)));
#endif
}

#include "nn_gemm.glsl"

void main() {
#ifdef SPLITK
  uint groups = PARAM(0) / PARAM(20);
  splitk_s = gl_WorkGroupID.z / groups;
  splitk_k0 = splitk_s * PARAM(26);
  gemm_tiled(gl_WorkGroupID.z % groups, PARAM(21), PARAM(22) * OSIZE, min(PARAM(26), GK - splitk_k0));
#elif defined(GEMM_TILED)
  gemm_tiled(gl_WorkGroupID.z, PARAM(21), PARAM(22) * OSIZE, GK);
#else
  gemm_simple(gl_WorkGroupID.z, PARAM(21), PARAM(22) * OSIZE, GK);
#endif
}
