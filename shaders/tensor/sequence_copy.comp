#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/sequence_copy.glsl"
// Copies along a sequence axis whose source position comes from a per-batch run-time value, one
// invocation per output element, viewed as [outer, T, inner] (outer's batch index b = p / perBatch):
//  MODE SEQ_COPY_reverse (ReverseSequence): with L = lens[b], y[p, t] = x[p, t < L ? L-1-t : t];
//    the batch index is p (batch_axis 0) or, for time_axis 0, the outer index is t's and b comes
//    from inner: see P_batchInner.
//  MODE SEQ_COPY_scatter (TensorScatter): with w = write_indices[b] (0 without HAS_INDEX) and
//    s = pos - w (mod T when P_circular), y[p, pos] = s in [0, seq) ? update[p, s] : past[p, pos].
// Bindings: 0 x / past_cache, 1 lens / write_indices (int), 2 update (scatter), 3 y.
// Params (layout sequence_copy, src/ops/tensor/kernels.ts): P_n, P_T, P_inner, P_perBatch,
//   P_batchInner (reverse with time_axis 0: the batch index is inner-index / P_batchInner), P_seq,
//   P_circular.
// Defines: MODE, HAS_INDEX.
layout(std430, binding = 0) readonly buffer InX { VKRT_WORD x_[]; };
layout(std430, binding = 1) readonly buffer InI { int i_[]; };
layout(std430, binding = 2) readonly buffer InU { VKRT_WORD u_[]; };
layout(std430, binding = 3) writeonly buffer OutY { VKRT_WORD y_[]; };

void main() {
  uint idx = vkrt_index();
  if (idx >= P_n) return;
  uint q = idx % P_inner;
  uint t = (idx / P_inner) % P_T;
  uint p = idx / P_inner / P_T;
#if MODE == SEQ_COPY_reverse
  uint b = P_batchInner != 0u ? q / P_batchInner : p / P_perBatch;
  int L = clamp(i_[b], 0, int(P_T));
  uint src = int(t) < L ? uint(L - 1 - int(t)) : t;
  y_[idx] = x_[(p * P_T + src) * P_inner + q];
#else
  uint b = p / P_perBatch;
#ifdef HAS_INDEX
  int w = i_[b];
#else
  int w = 0;
#endif
  int s = int(t) - w;
  if (P_circular != 0u) s = ((s % int(P_T)) + int(P_T)) % int(P_T);
  if (s >= 0 && s < int(P_seq)) y_[idx] = u_[(p * P_seq + uint(s)) * P_inner + q];
  else y_[idx] = x_[idx];
#endif
}
