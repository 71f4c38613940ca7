#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
#ifdef AXES_BINDING
#include "params/pad_runtime_axes.glsl"
#else
#include "params/pad.glsl"
#endif
// Pad (constant / reflect / edge / wrap; negative pads crop) and Tile (wrap with no begin pad):
// every output element reads the input element its per-axis source index names, or the constant.
// Bindings: 0 x (uint[]), 1 y (uint[]).
// Params (layout pad, src/ops/tensor/kernels.ts): P_n, P_value (the constant, bits of the output
//   type), then per axis k (innermost first): P_axes_out(k), P_axes_inDim(k), P_axes_begin(k) (the
//   begin pad), P_axes_inStride(k); with AXES_BINDING layout pad_runtime_axes, which adds P_naxes.
// Defines: RANK (1..7), MODE (PAD_MODE_constant / reflect / edge / wrap); PAD_INDEX_BINDING: pads
//   come at run time (int[], begin pads then end pads) and the begin pad of axis k is the index of
//   its begin pad there (-1: none); VALUE_BINDING: the constant comes at run time (uint[1]).
layout(std430, binding = 0) readonly buffer X { uint x[]; };
layout(std430, binding = 1) writeonly buffer Y { uint y[]; };
#ifdef PAD_INDEX_BINDING
layout(std430, binding = PAD_INDEX_BINDING) readonly buffer Pads { int pads[]; };
#endif
#ifdef AXES_BINDING
layout(std430, binding = AXES_BINDING) readonly buffer Axes { int axes[]; };
#endif
#ifdef VALUE_BINDING
layout(std430, binding = VALUE_BINDING) readonly buffer V { uint value[]; };
#define PAD_VALUE value[0]
#else
#define PAD_VALUE P_value
#endif

void main() {
  uint i = vkrt_index();
  if (i >= P_n) return;
  uint rem = i;
  int so = 0;
  bool fill = false;
  for (int k = 0; k < RANK; k++) {
    uint od = P_axes_out(k);
    int c = int(rem % od);
    rem /= od;
    int d = P_axes_inDim(k);
#if defined(AXES_BINDING)
    int pi = -1;
    for (uint j = 0u; j < P_naxes; j++) {
      int a = axes[j];
      if (a < 0) a += RANK;
      if (a == P_axes_begin(k)) pi = int(j);
    }
    int s = c - (pi >= 0 ? pads[pi] : 0);
#elif defined(PAD_INDEX_BINDING)
    int pi = P_axes_begin(k);
    int s = c - (pi >= 0 ? pads[pi] : 0);
#else
    int s = c - P_axes_begin(k);
#endif
    if (s < 0 || s >= d) {
#if MODE == PAD_MODE_constant
      fill = true;
#elif MODE == PAD_MODE_reflect
      // reflect without repeating the edge; symmetric around 0 with period 2(d-1)
      if (d == 1) s = 0;
      else {
        int p = 2 * (d - 1);
        s = abs(s) % p;
        if (s >= d) s = p - s;
      }
#elif MODE == PAD_MODE_edge
      s = clamp(s, 0, d - 1);
#else
      // GLSL leaves % of negative operands undefined
      s = s >= 0 ? s % d : (d - 1) - ((-s - 1) % d);
#endif
    }
    so += s * P_axes_inStride(k);
  }
  y[i] = fill ? PAD_VALUE : x[so];
}
