#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
#include "params/trilu.glsl"
// Trilu: keeps the upper (j - i >= k) or lower (j - i <= k) triangle of each trailing matrix,
// zero elsewhere (0 bits are zero for float and int alike).
// Bindings: 0 x (uint[]), 1 y (uint[]), 2 k (int[1], when HAS_K).
// Params (layout trilu, src/ops/tensor/kernels.ts): P_n, P_rows, P_cols, P_upper (0/1).
// Defines: HAS_K.
layout(std430, binding = 0) readonly buffer X { VKRT_WORD x[]; };
layout(std430, binding = 1) writeonly buffer Y { VKRT_WORD y[]; };
#ifdef HAS_K
layout(std430, binding = 2) readonly buffer K { int kk[]; };
#endif

void main() {
  uint i = vkrt_index();
  if (i >= P_n) return;
  int col = int(i % P_cols);
  int row = int((i / P_cols) % P_rows);
#ifdef HAS_K
  int k = kk[0];
#else
  int k = 0;
#endif
  bool keep = P_upper != 0u ? col - row >= k : col - row <= k;
  y[i] = keep ? x[i] : VKRT_WORD(0);
}
