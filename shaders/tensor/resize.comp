#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
#include "params/resize.glsl"
// Resize / Upsample from per-axis tap tables (computed at build time with the reference's
// arithmetic, src/ops/tensor/kernels.ts), or on the GPU from run-time scales (resize_taps.comp):
// for output coordinate c of a resized axis, entries off + c*taps .. + taps-1 each hold a source
// index (-1: tf_crop_and_resize extrapolates) and a weight, interleaved: tab[2e], tab[2e+1].
// The filter is separable: y = sum over tap combinations of the product of weights times x.
// Identity axes (taps = 0) pass their coordinate through.
// Bindings: 0 x (float[], or uint[] with NEAREST), 1 tap table (uint[]), 2 y.
// Params (layout resize, src/ops/tensor/kernels.ts): P_n, P_extrapolation (value bits), then per axis k
//   (innermost first): P_axes_out(k), P_axes_stride(k) (input), P_axes_taps(k) (0: identity),
//   P_axes_offset(k) (in the table).
// Defines: RANK (1..7), NEAREST (one tap of weight 1 per axis: a bit copy, any dtype).
#ifdef NEAREST
#define XT uint
#define EXTRAP P_extrapolation
#else
#define XT float
#define EXTRAP uintBitsToFloat(P_extrapolation)
#endif
layout(std430, binding = 0) readonly buffer X { XT x[]; };
layout(std430, binding = 1) readonly buffer Tab { uint tab[]; };
layout(std430, binding = 2) writeonly buffer Y { XT y[]; };
#define tidx(e) int(tab[2u * (e)])
#define tw(e) uintBitsToFloat(tab[2u * (e) + 1u])

void main() {
  uint i = vkrt_index();
  if (i >= P_n) return;
  uint rem = i;
  uint base = 0u;
  uint entry[RANK];  // first table entry of each resized axis for this output coordinate
  for (int k = 0; k < RANK; k++) {
    uint d = P_axes_out(k);
    uint c = rem % d;
    rem /= d;
    uint taps = P_axes_taps(k);
    if (taps == 0u) base += c * P_axes_stride(k);
    else {
      entry[k] = P_axes_offset(k) + c * taps;
      if (tidx(entry[k]) < 0) { y[i] = EXTRAP; return; }
    }
  }
#ifdef NEAREST
  for (int k = 0; k < RANK; k++) if (P_axes_taps(k) != 0u) base += uint(tidx(entry[k])) * P_axes_stride(k);
  y[i] = x[base];
#else
  uint total = 1u;
  for (int k = 0; k < RANK; k++) total *= max(P_axes_taps(k), 1u);
  float acc = 0.0;
  for (uint t = 0u; t < total; t++) {
    uint r = t;
    uint so = base;
    float w = 1.0;
    for (int k = 0; k < RANK; k++) {
      uint taps = P_axes_taps(k);
      if (taps == 0u) continue;
      uint e = entry[k] + r % taps;
      r /= taps;
      w *= tw(e);
      so += uint(tidx(e)) * P_axes_stride(k);
    }
    if (w != 0.0) acc += w * x[so];
  }
  y[i] = acc;
#endif
}
