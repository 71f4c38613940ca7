#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
// Pad (constant / reflect / edge / wrap; negative pads crop) and Tile (wrap with no begin pad):
// every output element reads the input element its per-axis source index names, or the constant.
// Bindings: 0 x (uint[]), 1 y (uint[]).
// Params: 0 n, 1 constant value (bits of the output type), then per axis k (innermost first):
//   2+4k outDim, 3+4k inDim, 4+4k padBegin (int), 5+4k inStride.
// Defines: RANK (1..7), MODE (0 constant, 1 reflect, 2 edge, 3 wrap).
layout(std430, binding = 0) readonly buffer X { uint x[]; };
layout(std430, binding = 1) writeonly buffer Y { uint y[]; };

void main() {
  uint i = vkrt_index();
  if (i >= PARAM(0)) return;
  uint rem = i;
  int so = 0;
  bool fill = false;
  for (int k = 0; k < RANK; k++) {
    uint od = TP(2 + 4 * k);
    int c = int(rem % od);
    rem /= od;
    int d = TPI(3 + 4 * k);
    int s = c - TPI(4 + 4 * k);
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
    so += s * TPI(5 + 4 * k);
  }
  y[i] = fill ? PARAM(1) : x[so];
}
