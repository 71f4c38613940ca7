#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
// ConvTranspose (1-3 spatial axes, run as 3-D), gathered: one invocation per output element sums
// the input positions whose scattered taps land on it: for tap k on an axis, the input position is
// (o + pad - k * dilation) / stride where that divides exactly and lies inside the input.
// Bindings: 0 X [NIMG, C, ID, IH, IW], 1 W [C, Mg, KD, KH, KW], then B [M] (HAS_BIAS), then Y [NIMG, M, OD, OH, OW].
// Params: 0 C, 1 ID, 2 IH, 3 IW, 4 M, 5 OD, 6 OH, 7 OW, 8 KD, 9 KH, 10 KW, 11 SD, 12 SH, 13 SW,
//   14 PD, 15 PH, 16 PW (begin pads), 17 DD, 18 DH, 19 DW, 20 Cg, 21 Mg, 22 total outputs,
//   23 activation kind, 24 activation a (f32), 25 activation b (f32).
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
  if (idx >= PARAM(22)) return;
  uint r = idx;
  uint ow = r % PARAM(7); r /= PARAM(7);
  uint oh = r % PARAM(6); r /= PARAM(6);
  uint od = r % PARAM(5); r /= PARAM(5);
  uint mo = r % PARAM(4);
  uint img = r / PARAM(4);
  uint g = mo / PARAM(21), mg = mo % PARAM(21);
  uint ksize = PARAM(8) * PARAM(9) * PARAM(10);
  float acc = 0.0;
  for (uint kd = 0; kd < PARAM(8); kd++) {
    int id = src(od, kd, PARAM(11), PARAM(14), PARAM(17), PARAM(1));
    if (id < 0) continue;
    for (uint kh = 0; kh < PARAM(9); kh++) {
      int ih = src(oh, kh, PARAM(12), PARAM(15), PARAM(18), PARAM(2));
      if (ih < 0) continue;
      for (uint kw = 0; kw < PARAM(10); kw++) {
        int iw = src(ow, kw, PARAM(13), PARAM(16), PARAM(19), PARAM(3));
        if (iw < 0) continue;
        uint sp = (uint(id) * PARAM(2) + uint(ih)) * PARAM(3) + uint(iw);
        uint t = (kd * PARAM(9) + kh) * PARAM(10) + kw;
        for (uint c = 0; c < PARAM(20); c++) {
          uint ci = g * PARAM(20) + c;
          acc += x_[(img * PARAM(0) + ci) * PARAM(1) * PARAM(2) * PARAM(3) + sp] * w_[(ci * PARAM(21) + mg) * ksize + t];
        }
      }
    }
  }
#ifdef HAS_BIAS
  acc += bias_[mo];
#endif
  y_[idx] = nn_act(acc, PARAM(23), PARAMF(24), PARAMF(25));
}
