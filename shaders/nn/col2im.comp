#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/col2im.glsl"
#include "tensor_params.glsl"
// Col2Im (src/ops/nn/deform.ts): one invocation per image element (n, c, p) gathers every column
// entry that lands on it: for each block offset k (decomposed with block_shape, read from its
// buffer), the block position along axis a is l_a = (p_a + pad_a - k_a * dil_a) / stride_a when
// that divides exactly and lies in [0, blocks_a); the entry is input[n, c*K + k, l].
// Bindings: 0 input [N, C*K, L], 1 block_shape (int[R]), 2 output [N, C, image...].
// Params (layout col2im, src/ops/nn/gpu/col2im.ts): P_n, P_C, P_K (prod(block_shape)), P_L,
//   P_r (image axes), per axis P_axes_img/stride/dil/padBegin/padEnd(a).
// Defines: RANK (loop bound, >= P_r).
#ifndef RANK
#define RANK 3
#endif
layout(std430, binding = 0) readonly buffer InX { FT x_[]; };
layout(std430, binding = 1) readonly buffer InBlk { int blk_[]; };
layout(std430, binding = 2) writeonly buffer OutY { FT y_[]; };

void main() {
  uint idx = vkrt_index();
  if (idx >= P_n) return;
  int r = int(P_r);
  uint p[RANK];
  uint rem = idx;
  for (int a = RANK - 1; a >= 0; a--) {
    if (a >= r) continue;
    uint d = P_axes_img(a);
    p[a] = rem % d;
    rem /= d;
  }
  uint c = rem % P_C, nIdx = rem / P_C;
  float acc = 0.0;
  for (uint k = 0u; k < P_K; k++) {
    uint kr = k, l = 0u, lStride = 1u;
    bool hit = true;
    for (int a = RANK - 1; a >= 0; a--) {
      if (a >= r) continue;
      int b = max(blk_[a], 1);
      int ka = int(kr % uint(b));
      kr /= uint(b);
      int st = int(P_axes_stride(a)), dl = int(P_axes_dil(a));
      int nb = (int(P_axes_img(a)) + int(P_axes_padBegin(a)) + int(P_axes_padEnd(a)) - ((b - 1) * dl + 1)) / st + 1;
      int q = int(p[a]) + int(P_axes_padBegin(a)) - ka * dl;
      if (q < 0 || q % st != 0 || q / st >= nb) { hit = false; continue; }
      l += uint(q / st) * lStride;
      lStride *= uint(nb);
    }
    if (hit && l < P_L) acc += float(x_[((nIdx * P_C * P_K) + c * P_K + k) * P_L + l]);
  }
  y_[idx] = FT(acc);
}
