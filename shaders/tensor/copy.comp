#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
#include "params/copy.glsl"
// Strided copy of 32-bit elements (float or int bits alike): Transpose, Slice, Expand, Concat,
// Split, DepthToSpace, SpaceToDepth, and the data copy of the scatters.
// Iterates an index space of RANK axes (innermost first); element c goes from
//   src[srcBase + sum c_k * srcStride_k]  to  dst[dstBase + sum c_k * dstStride_k]
// (or dst[i] when DST_STRIDED is not defined: the output is written contiguously).
// Bindings: 0 src (VKRT_WORD[]: uint, or float16_t with VKRT_F16), 1 dst (likewise).
// Params (layout copy, src/ops/tensor/kernels.ts): P_n, P_srcBase, P_dstBase, then per axis k: P_axes_dim(k),
//   P_axes_src(k) (source stride), P_axes_dst(k) (destination stride).
// Defines: RANK (1..9), DST_STRIDED (optional).
layout(std430, binding = 0) readonly buffer Src { VKRT_WORD x[]; };
layout(std430, binding = 1) writeonly buffer Dst { VKRT_WORD y[]; };

void main() {
  uint i = vkrt_index();
  if (i >= P_n) return;
  uint rem = i;
  int so = P_srcBase;
  int dso = P_dstBase;
  for (int k = 0; k < RANK; k++) {
    uint d = P_axes_dim(k);
    int c = int(rem % d);
    rem /= d;
    so += c * P_axes_src(k);
    dso += c * P_axes_dst(k);
  }
#ifdef DST_STRIDED
  y[dso] = x[so];
#else
  y[i] = x[so];
#endif
}
