#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/max_unpool.glsl"
#include "tensor_params.glsl"
// MaxUnpool (src/ops/nn/pool.ts), two passes: ZERO fills the output with zeros (one invocation per
// output element); the scatter pass (one invocation per input element) writes x[i] where its index
// I[i] points. Indices address the default unpooled layout (dims P_axes_inf(a)); an explicit
// output_shape (dims P_axes_out(a)) keeps each element's coordinates. Indices outside the
// output are skipped.
// Bindings: 0 X, 1 I (int), 2 Y.
// Params (layout max_unpool, src/ops/nn/gpu/pool.ts): P_n (elements of this pass), P_rank,
//   P_axes_inf(a), P_axes_out(a).
// Defines: ZERO (the fill pass), RANK (loop bound, >= P_rank).
#ifndef RANK
#define RANK 4
#endif
layout(std430, binding = 0) readonly buffer InX { FT x_[]; };
layout(std430, binding = 1) readonly buffer InI { int i_[]; };
layout(std430, binding = 2) writeonly buffer OutY { FT y_[]; };

void main() {
  uint i = vkrt_index();
  if (i >= P_n) return;
#ifdef ZERO
  y_[i] = FT(0.0);
#else
  int j = i_[i];
  if (j < 0) return;
  uint r = uint(j), off = 0u, mul = 1u;
  int rank = int(P_rank);
  for (int a = RANK - 1; a >= 0; a--) {
    if (a >= rank) continue;
    uint inf = P_axes_inf(a), od = P_axes_out(a);
    uint c = r % inf;
    r /= inf;
    if (c >= od) return;
    off += c * mul;
    mul *= od;
  }
  if (r != 0u) return;
  y_[off] = x_[i];
#endif
}
