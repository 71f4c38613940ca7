#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
// Pad (constant / reflect / edge / wrap; negative pads crop) and Tile (wrap with no begin pad):
// every output element reads the input element its per-axis source index names, or the constant.
// Bindings: 0 x (uint[]), 1 y (uint[]).
// Params: 0 n, 1 constant value (bits of the output type), then per axis k (innermost first):
//   2+4k outDim, 3+4k inDim, 4+4k padBegin (int), 5+4k inStride.
// Defines: RANK (1..7), MODE (0 constant, 1 reflect, 2 edge, 3 wrap); PAD_INDEX_BINDING: pads
//   come at run time (int[], begin pads then end pads) and padBegin k is the index of axis k's
//   begin pad there (-1: none); VALUE_BINDING: the constant comes at run time (uint[1]).
layout(std430, binding = 0) readonly buffer X { uint x[]; };
layout(std430, binding = 1) writeonly buffer Y { uint y[]; };
#ifdef PAD_INDEX_BINDING
layout(std430, binding = PAD_INDEX_BINDING) readonly buffer Pads { int pads[]; };
#endif
#ifdef AXES_BINDING
layout(std430, binding = AXES_BINDING) readonly buffer Axes { int axes[]; };
#define AXIS_PARAM_BASE 3
#else
#define AXIS_PARAM_BASE 2
#endif
#ifdef VALUE_BINDING
layout(std430, binding = VALUE_BINDING) readonly buffer V { uint value[]; };
#define PAD_VALUE value[0]
#else
#define PAD_VALUE PARAM(1)
#endif

void main() {
  uint i = vkrt_index();
  if (i >= PARAM(0)) return;
  uint rem = i;
  int so = 0;
  bool fill = false;
  for (int k = 0; k < RANK; k++) {
    uint od = TP(AXIS_PARAM_BASE + 4 * k);
    int c = int(rem % od);
    rem /= od;
    int d = TPI(AXIS_PARAM_BASE + 1 + 4 * k);
#if defined(AXES_BINDING)
    int pi = -1;
    for (uint j = 0u; j < PARAM(2); j++) {
      int a = axes[j];
      if (a < 0) a += RANK;
      if (a == TPI(AXIS_PARAM_BASE + 2 + 4 * k)) pi = int(j);
    }
    int s = c - (pi >= 0 ? pads[pi] : 0);
#elif defined(PAD_INDEX_BINDING)
    int pi = TPI(AXIS_PARAM_BASE + 2 + 4 * k);
    int s = c - (pi >= 0 ? pads[pi] : 0);
#else
    int s = c - TPI(AXIS_PARAM_BASE + 2 + 4 * k);
#endif
    if (s < 0 || s >= d) {
#if MODE == 0
      fill = true;
#elif MODE == 1
      // reflect without repeating the edge; symmetric around 0 with period 2(d-1)
      if (d == 1) s = 0;
      else {
        int p = 2 * (d - 1);
        s = abs(s) % p;
        if (s >= d) s = p - s;
      }
#elif MODE == 2
      s = clamp(s, 0, d - 1);
#else
      // GLSL leaves % of negative operands undefined
      s = s >= 0 ? s % d : (d - 1) - ((-s - 1) % d);
#endif
    }
    so += s * TPI(AXIS_PARAM_BASE + 3 + 4 * k);
  }
  y[i] = fill ? PAD_VALUE : x[so];
}
