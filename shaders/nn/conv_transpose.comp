#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/conv_transpose.glsl"
// ConvTranspose (1-3 spatial axes, run as 3-D), gathered: one invocation per output element sums
// the input positions whose scattered taps land on it: for tap k on an axis, the input position is
// (o + pad - k * dilation) / stride where that divides exactly and lies inside the input.
// Bindings: 0 X [NIMG, C, ID, IH, IW], 1 W [C, Mg, KD, KH, KW], then B [M] (HAS_BIAS), then Y [NIMG, M, OD, OH, OW].
// Params (layout conv_transpose, src/ops/nn/gpu/conv.ts): the geometry as conv_gemm.comp's (P_C ..
//   P_Mg), P_total (outputs), the activation (P_act, P_actAlpha, P_actBeta).
#include "nn_act.glsl"

layout(std430, binding = 0) readonly buffer InX { float x_[]; };
layout(std430, binding = 1) readonly buffer InW { float w_[]; };
#ifdef HAS_BIAS
layout(std430, binding = 2) readonly buffer InB { float bias_[]; };
layout(std430, binding = 3) writeonly buffer Out { float y_[]; };
#else
layout(std430, binding = 2) writeonly buffer Out { float y_[]; };
#endif

// input position along one axis for output o and tap k, or -1
int src(uint o, uint k, uint stride, uint pad, uint dil, uint n) {
  int t = int(o + pad) - int(k * dil);
  if (t < 0 || uint(t) % stride != 0u) return -1;
  uint i = uint(t) / stride;
  return i < n ? int(i) : -1;
}

void main() {
  uint idx = vkrt_index();
  if (idx >= P_total) return;
  uint r = idx;
  uint ow = r % P_OW; r /= P_OW;
  uint oh = r % P_OH; r /= P_OH;
  uint od = r % P_OD; r /= P_OD;
  uint mo = r % P_M;
  uint img = r / P_M;
  uint g = mo / P_Mg, mg = mo % P_Mg;
  uint ksize = P_KD * P_KH * P_KW;
  float acc = 0.0;
  for (uint kd = 0; kd < P_KD; kd++) {
    int id = src(od, kd, P_SD, uint(P_PD), P_DD, P_ID);
    if (id < 0) continue;
    for (uint kh = 0; kh < P_KH; kh++) {
      int ih = src(oh, kh, P_SH, uint(P_PH), P_DH, P_IH);
      if (ih < 0) continue;
      for (uint kw = 0; kw < P_KW; kw++) {
        int iw = src(ow, kw, P_SW, uint(P_PW), P_DW, P_IW);
        if (iw < 0) continue;
        uint sp = (uint(id) * P_IH + uint(ih)) * P_IW + uint(iw);
        uint t = (kd * P_KH + kh) * P_KW + kw;
        for (uint c = 0; c < P_Cg; c++) {
          uint ci = g * P_Cg + c;
          acc += x_[(img * P_C + ci) * P_ID * P_IH * P_IW + sp] * w_[(ci * P_Mg + mg) * ksize + t];
        }
      }
    }
  }
#ifdef HAS_BIAS
  acc += bias_[mo];
#endif
  y_[idx] = nn_act(acc, P_act, P_actAlpha, P_actBeta);
}
