#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/grid_sample.glsl"
// GridSample over 1-3 spatial axes (run as 3-D with unit leading axes; the grid's last dim holds
// the R real axes' coordinates innermost-first: x, y, z), one invocation per output element.
// Follows the reference (src/ops/nn/grid.ts): unnormalize, pad (border clamp / reflection), then
// nearest (1 tap), linear (2) or cubic (4, A = -0.75) weights per axis.
// Bindings: 0 X [N, C, ID, IH, IW], 1 grid [N, OD*OH*OW, R], 2 Y [N, C, OD, OH, OW].
// Params (layout grid_sample, src/ops/nn/gpu/grid.ts): P_total, P_C, P_ID/IH/IW, P_OD/OH/OW.
// Defines: R (real spatial axes, 1-3), MODE (GRID_MODE_nearest / linear / cubic), PAD
//   (GRID_PADDING_zeros / border / reflection), ALIGN (align_corners 0/1).
#if MODE == GRID_MODE_nearest
#define TAPS 1
#elif MODE == GRID_MODE_linear
#define TAPS 2
#else
#define TAPS 4
#endif

layout(std430, binding = 0) readonly buffer InX { float x_[]; };
layout(std430, binding = 1) readonly buffer InG { float g_[]; };
layout(std430, binding = 2) writeonly buffer Out { float y_[]; };

float reflect_(float x, float lo, float hi) {
  float range = hi - lo;
  if (range <= 0.0) return lo;
  if (x < lo) {
    float dx = lo - x;
    float n = trunc(dx / range);
    float r = dx - n * range;
    return mod(n, 2.0) == 0.0 ? lo + r : hi - r;
  }
  if (x > hi) {
    float dx = x - hi;
    float n = trunc(dx / range);
    float r = dx - n * range;
    return mod(n, 2.0) == 0.0 ? hi - r : lo + r;
  }
  return x;
}

float bounds_lo() { return ALIGN == 1 ? 0.0 : -0.5; }
float bounds_hi(int L) { return ALIGN == 1 ? float(L - 1) : float(L) - 0.5; }

int pixel(int i, int L) {
#if PAD == GRID_PADDING_zeros
  return i >= 0 && i < L ? i : -1;
#elif PAD == GRID_PADDING_border
  return clamp(i, 0, L - 1);
#else
  return clamp(int(trunc(reflect_(float(i), bounds_lo(), bounds_hi(L)))), 0, L - 1);
#endif
}

float cubic(float x, int t) {
  const float A = -0.75;
  x = abs(x);
  if (t == 0) return ((A * (x + 1.0) - 5.0 * A) * (x + 1.0) + 8.0 * A) * (x + 1.0) - 4.0 * A;
  if (t == 1) return ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
  if (t == 2) return ((A + 2.0) * (1.0 - x) - (A + 3.0)) * (1.0 - x) * (1.0 - x) + 1.0;
  return ((A * (2.0 - x) - 5.0 * A) * (2.0 - x) + 8.0 * A) * (2.0 - x) - 4.0 * A;
}

void main() {
  uint i = vkrt_index();
  if (i >= P_total) return;
  uint osz = P_OD * P_OH * P_OW;
  uint p = i % osz;
  uint nc = i / osz;
  uint n = nc / P_C;
  int L[3] = int[3](int(P_ID), int(P_IH), int(P_IW));
  int idx[3][TAPS];
  float wts[3][TAPS];
  for (int a = 0; a < 3; a++) {
    for (int t = 0; t < TAPS; t++) { idx[a][t] = 0; wts[a][t] = t == 0 ? 1.0 : 0.0; }
    if (a < 3 - R) continue;  // unit leading axis
    float v = g_[(n * osz + p) * R + uint(2 - a)];
    float c = ALIGN == 1 ? (v + 1.0) / 2.0 * float(L[a] - 1) : ((v + 1.0) * float(L[a]) - 1.0) / 2.0;
#if MODE == GRID_MODE_nearest
    c = roundEven(c);
#endif
    float lo = bounds_lo(), hi = bounds_hi(L[a]);
    if (c < lo || c > hi) {
#if PAD == GRID_PADDING_border
      c = clamp(c, 0.0, float(L[a] - 1));
#elif PAD == GRID_PADDING_reflection
      c = reflect_(c, lo, hi);
#endif
    }
#if MODE == GRID_MODE_nearest
    idx[a][0] = (isinf(c) || isnan(c)) ? -1 : pixel(int(trunc(c)), L[a]);
#elif MODE == GRID_MODE_linear
    float fl = floor(c);
    idx[a][0] = pixel(int(fl), L[a]); idx[a][1] = pixel(int(fl) + 1, L[a]);
    wts[a][0] = 1.0 - (c - fl); wts[a][1] = c - fl;
#else
    float fl = floor(c);
    for (int t = 0; t < 4; t++) { idx[a][t] = pixel(int(fl) - 1 + t, L[a]); wts[a][t] = cubic(c - fl, t); }
#endif
  }
  uint xb = nc * uint(L[0] * L[1] * L[2]);
  float acc = 0.0;
  int T0 = R >= 3 ? TAPS : 1, T1 = R >= 2 ? TAPS : 1;
  for (int t0 = 0; t0 < T0; t0++) {
    if (idx[0][t0] < 0) continue;
    for (int t1 = 0; t1 < T1; t1++) {
      if (idx[1][t1] < 0) continue;
      for (int t2 = 0; t2 < TAPS; t2++) {
        if (idx[2][t2] < 0) continue;
        acc += wts[0][t0] * wts[1][t1] * wts[2][t2] * x_[xb + uint((idx[0][t0] * L[1] + idx[1][t1]) * L[2] + idx[2][t2])];
      }
    }
  }
  y_[i] = acc;
}
