#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
// Conv, direct: one invocation per output element sums its group's channels and taps. Serves
// depthwise and other thin convolutions (few channels per group) where a GEMM tile would idle.
// Bindings, params and defines as conv_gemm.comp (minus the GEMM ones; VKRT_F16: f16 buffers, FP16
// products accumulated in FP32), plus
//   param 26: total outputs (NIMG * M * OD * OH * OW). 1-D grid (vkrt_index()).
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
  if (idx >= PARAM(26) || PARAM(22) == 0u) return;
  uint r = idx;
  uint ow = r % PARAM(7); r /= PARAM(7);
  uint oh = r % PARAM(6); r /= PARAM(6);
  uint od = r % PARAM(5); r /= PARAM(5);
  uint mo = r % PARAM(4);
  uint img = r / PARAM(4);
  uint g = mo / PARAM(21);
  int id0 = int(od * PARAM(11)) - PARAMI(14);
  int ih0 = int(oh * PARAM(12)) - PARAMI(15);
  int iw0 = int(ow * PARAM(13)) - PARAMI(16);
  uint ksize = PARAM(8) * PARAM(9) * PARAM(10);
  float acc = 0.0;
  for (uint c = 0; c < PARAM(20); c++) {
    uint xb = (img * PARAM(0) + g * PARAM(20) + c) * PARAM(1);
    uint wb = (mo * PARAM(20) + c) * ksize;
    for (uint kd = 0; kd < PARAM(8); kd++) {
      int id = id0 + int(kd * PARAM(17));
      if (id < 0 || id >= PARAMI(1)) continue;
      for (uint kh = 0; kh < PARAM(9); kh++) {
        int ih = ih0 + int(kh * PARAM(18));
        if (ih < 0 || ih >= PARAMI(2)) continue;
        uint xrow = ((xb + uint(id)) * PARAM(2) + uint(ih)) * PARAM(3);
        uint wrow = wb + (kd * PARAM(9) + kh) * PARAM(10);
        for (uint kw = 0; kw < PARAM(10); kw++) {
          int iw = iw0 + int(kw * PARAM(19));
          if (iw < 0 || iw >= PARAMI(3)) continue;
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
  y_[idx] = FT(nn_act(v, PARAM(23), PARAMF(24), PARAMF(25)));
}
