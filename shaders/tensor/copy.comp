#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
// Strided copy of 32-bit elements (float or int bits alike): Transpose, Slice, Expand, Concat,
// Split, DepthToSpace, SpaceToDepth, and the data copy of the scatters.
// Iterates an index space of RANK axes (innermost first); element c goes from
//   src[srcBase + sum c_k * srcStride_k]  to  dst[dstBase + sum c_k * dstStride_k]
// (or dst[i] when DST_STRIDED is not defined: the output is written contiguously).
// Bindings: 0 src (VKRT_WORD[]: uint, or float16_t with VKRT_F16), 1 dst (likewise).
// Params: 0 n, 1 srcBase (int), 2 dstBase (int), then per axis k: 3+3k dim, 4+3k srcStride (int),
//   5+3k dstStride (int).
// Defines: RANK (1..9), DST_STRIDED (optional).
layout(std430, binding = 0) readonly buffer Src { VKRT_WORD x[]; };
layout(std430, binding = 1) writeonly buffer Dst { VKRT_WORD y[]; };

void main() {
  uint i = vkrt_index();
  if (i >= PARAM(0)) return;
  uint rem = i;
  int so = PARAMI(1);
  int dso = PARAMI(2);
  for (int k = 0; k < RANK; k++) {
    uint d = TP(3 + 3 * k);
    int c = int(rem % d);
    rem /= d;
    so += c * TPI(4 + 3 * k);
    dso += c * TPI(5 + 3 * k);
  }
#ifdef DST_STRIDED
  y[dso] = x[so];
#else
  y[i] = x[so];
#endif
}
