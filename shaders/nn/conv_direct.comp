#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/conv_direct.glsl"
// Conv, direct: one invocation per output element sums its group's channels and taps. Serves
// depthwise and other thin convolutions (few channels per group) where a GEMM tile would idle.
// Bindings, params and defines as conv_gemm.comp (minus the GEMM ones; VKRT_F16: f16 buffers, FP16
// products accumulated in FP32); params: layout conv_direct (conv_gemm's, plus
//   P_total: total outputs, NIMG * M * OD * OH * OW). 1-D grid (vkrt_index()).
#include "nn_act.glsl"

layout(std430, binding = 0) readonly buffer InX { FT x_[]; };
layout(std430, binding = 1) readonly buffer InW { FT w_[]; };
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

void main() {
  uint idx = vkrt_index();
  if (idx >= P_total || P_NIMG == 0u) return;
  uint r = idx;
  uint ow = r % P_OW; r /= P_OW;
  uint oh = r % P_OH; r /= P_OH;
  uint od = r % P_OD; r /= P_OD;
  uint mo = r % P_M;
  uint img = r / P_M;
  uint g = mo / P_Mg;
  int id0 = int(od * P_SD) - P_PD;
  int ih0 = int(oh * P_SH) - P_PH;
  int iw0 = int(ow * P_SW) - P_PW;
  uint ksize = P_KD * P_KH * P_KW;
  float acc = 0.0;
  for (uint c = 0; c < P_Cg; c++) {
    uint xb = (img * P_C + g * P_Cg + c) * P_ID;
    uint wb = (mo * P_Cg + c) * ksize;
    for (uint kd = 0; kd < P_KD; kd++) {
      int id = id0 + int(kd * P_DD);
      if (id < 0 || id >= int(P_ID)) continue;
      for (uint kh = 0; kh < P_KH; kh++) {
        int ih = ih0 + int(kh * P_DH);
        if (ih < 0 || ih >= int(P_IH)) continue;
        uint xrow = ((xb + uint(id)) * P_IH + uint(ih)) * P_IW;
        uint wrow = wb + (kd * P_KH + kh) * P_KW;
        for (uint kw = 0; kw < P_KW; kw++) {
          int iw = iw0 + int(kw * P_DW);
          if (iw < 0 || iw >= int(P_IW)) continue;
          acc += x_[xrow + uint(iw)] * w_[wrow + kw];
        }
      }
    }
  }
  float v = acc;
#ifdef HAS_BIAS
  v += bias_[mo];
#endif
#ifdef HAS_RES
  v += res_[idx];
#endif
  y_[idx] = FT(nn_act(v, P_act, P_actAlpha, P_actBeta));
}
