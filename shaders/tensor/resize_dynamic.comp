#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
#include "params/resize_dynamic.glsl"
// Resize / Upsample whose scales (or roi) arrive at run time; the output dims are static. Each
// invocation computes the taps of its coordinate on every resized axis (tensor_resize.glsl) and
// sums the separable product. Known scales and roi use resize.comp with build-time tap tables.
// Bindings: 0 x (float[], or uint[] with NEAREST), 1 y, SCALES_BINDING scales (float[]),
//   ROI_BINDING roi (float[]).
// Params (layout resize_dynamic, src/ops/tensor/kernels.ts): P_n, P_extrapolation (value bits), P_cubicA,
//   P_roiEntries (per end), then per axis k (innermost first): P_axes_out(k), P_axes_inDim(k),
//   P_axes_stride(k) (input), P_axes_entry(k) (the axis's entry in scales/roi, -1: not resized),
//   P_axes_scale(k) (used with SCALE_PARAM).
// Defines: RANK (1..5), TAPS, COORD, NEAREST_MODE, EXCLUDE (tensor_resize.glsl), NEAREST (TAPS 1:
//   a bit copy), SCALES_BINDING or SCALE_PARAM, ROI_BINDING, SIZES_POLICY (1 not_larger, 2
//   not_smaller: SCALES_BINDING holds the int sizes; every resized axis takes the one scale
//   min/max over the axes of sizes[entry] / input dim).
#ifdef NEAREST
#define XT uint
#define EXTRAP P_extrapolation
#else
#define XT float
#define EXTRAP uintBitsToFloat(P_extrapolation)
#endif
layout(std430, binding = 0) readonly buffer X { XT x[]; };
layout(std430, binding = 1) writeonly buffer Y { XT y[]; };
#if defined(SCALES_BINDING) && defined(SIZES_POLICY)
layout(std430, binding = SCALES_BINDING) readonly buffer S { int sizes_[]; };
#elif defined(SCALES_BINDING)
layout(std430, binding = SCALES_BINDING) readonly buffer S { float scales[]; };
#endif
#ifdef ROI_BINDING
layout(std430, binding = ROI_BINDING) readonly buffer R { float roi[]; };
#endif
#include "tensor_resize.glsl"

void main() {
  uint i = vkrt_index();
  if (i >= P_n) return;
  uint rem = i;
  uint base = 0u;
  int idx[RANK][RESIZE_N];
  float w[RANK][RESIZE_N];
  uint stride[RANK];
  bool resized[RANK];
  uint keep = floatBitsToUint(P_cubicA) + P_roiEntries;  // every param stays declared (see the guard at the end)
#ifdef SIZES_POLICY
  float policyScale = SIZES_POLICY == 1 ? 3.0e38 : 0.0;
  for (int k = 0; k < RANK; k++) {
    int e = P_axes_entry(k);
    if (e < 0) continue;
    float ratio = float(sizes_[e]) / float(P_axes_inDim(k));
    policyScale = SIZES_POLICY == 1 ? min(policyScale, ratio) : max(policyScale, ratio);
  }
#endif
  for (int k = 0; k < RANK; k++) {
    uint od = P_axes_out(k);
    uint c = rem % od;
    rem /= od;
    stride[k] = P_axes_stride(k);
    int e = P_axes_entry(k);
    keep += floatBitsToUint(P_axes_scale(k));
    resized[k] = e >= 0;
    if (!resized[k]) { base += c * stride[k]; continue; }
#ifdef SCALE_PARAM
    float scale = P_axes_scale(k);
#elif defined(SIZES_POLICY)
    float scale = policyScale;
#else
    float scale = scales[e];
#endif
#ifdef ROI_BINDING
    float r0 = roi[e], r1 = roi[uint(e) + P_roiEntries];
#else
    float r0 = 0.0, r1 = 1.0;
#endif
    if (!resize_taps(c, od, P_axes_inDim(k), scale, r0, r1, P_cubicA, idx[k], w[k])) { y[i] = EXTRAP; return; }
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
