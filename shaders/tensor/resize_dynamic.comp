#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
// Resize / Upsample whose scales (or roi) arrive at run time; the output dims are static. Each
// invocation computes the taps of its coordinate on every resized axis (tensor_resize.glsl) and
// sums the separable product. Known scales and roi use resize.comp with build-time tap tables.
// Bindings: 0 x (float[], or uint[] with NEAREST), 1 y, SCALES_BINDING scales (float[]),
//   ROI_BINDING roi (float[]).
// Params: 0 n, 1 extrapolation value bits, 2 cubic A bits, 3 roi entries per end, then per axis k
//   (innermost first): 4+5k out dim, 5+5k in dim, 6+5k in stride, 7+5k entry of the axis in
//   scales/roi (-1: not resized), 8+5k scale bits (used with SCALE_PARAM).
// Defines: RANK (1..5), TAPS, COORD, NEAREST_MODE, EXCLUDE (tensor_resize.glsl), NEAREST (TAPS 1:
//   a bit copy), SCALES_BINDING or SCALE_PARAM, ROI_BINDING.
#ifdef NEAREST
#define XT uint
#define EXTRAP TP(1)
#else
#define XT float
#define EXTRAP TPF(1)
#endif
layout(std430, binding = 0) readonly buffer X { XT x[]; };
layout(std430, binding = 1) writeonly buffer Y { XT y[]; };
#ifdef SCALES_BINDING
layout(std430, binding = SCALES_BINDING) readonly buffer S { float scales[]; };
#endif
#ifdef ROI_BINDING
layout(std430, binding = ROI_BINDING) readonly buffer R { float roi[]; };
#endif
#include "tensor_resize.glsl"

void main() {
  uint i = vkrt_index();
  if (i >= TP(0)) return;
  uint rem = i;
  uint base = 0u;
  int idx[RANK][RESIZE_N];
  float w[RANK][RESIZE_N];
  uint stride[RANK];
  bool resized[RANK];
  uint keep = TP(2) + TP(3);  // every param stays declared (see the guard at the end)
  for (int k = 0; k < RANK; k++) {
    uint od = TP(4 + 5 * k);
    uint c = rem % od;
    rem /= od;
    stride[k] = TP(6 + 5 * k);
    int e = TPI(7 + 5 * k);
    keep += TP(8 + 5 * k);
    resized[k] = e >= 0;
    if (!resized[k]) { base += c * stride[k]; continue; }
#ifdef SCALE_PARAM
    float scale = TPF(8 + 5 * k);
#else
    float scale = scales[e];
#endif
#ifdef ROI_BINDING
    float r0 = roi[e], r1 = roi[uint(e) + TP(3)];
#else
    float r0 = 0.0, r1 = 1.0;
#endif
    if (!resize_taps(c, od, TP(5 + 5 * k), scale, r0, r1, TPF(2), idx[k], w[k])) { y[i] = EXTRAP; return; }
  }
  if (i == 0xFFFFFFFFu) { y[0] = XT(keep); return; }
#ifdef NEAREST
  for (int k = 0; k < RANK; k++) if (resized[k]) base += uint(idx[k][0]) * stride[k];
  y[i] = x[base];
#else
  uint total = 1u;
  for (int k = 0; k < RANK; k++) if (resized[k]) total *= uint(TAPS);
  float acc = 0.0;
  for (uint t = 0u; t < total; t++) {
    uint r = t;
    uint so = base;
    float wt = 1.0;
    for (int k = 0; k < RANK; k++) {
      if (!resized[k]) continue;
      uint j = r % uint(TAPS);
      r /= uint(TAPS);
      wt *= w[k][j];
      so += uint(idx[k][j]) * stride[k];
    }
    if (wt != 0.0) acc += wt * x[so];
  }
  y[i] = acc;
#endif
}
