#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/einsum.glsl"
#include "tensor_params.glsl"
// Einsum of one or two operands (src/ops/nn/einsum.ts): one invocation per output element. The
// loop labels are the output's (outermost first) then the summed ones; label k has a size and a
// stride in each operand (repeated labels of one operand add their strides: diagonals; a size-1
// dim that broadcasts has stride 0). The invocation sums the product of the operands over the
// summed labels' index space.
// Bindings: 0 a, 1 b (OPERANDS == 2), 2 y. Element type: FT, or int with T_INT.
// Params (layout einsum, src/ops/nn/gpu/einsum.ts): P_n (outputs), P_nOut (output labels),
//   P_nAll (all labels), P_nSum (size of the summed space), P_labels_dim(k), P_labels_sa(k),
//   P_labels_sb(k).
// Defines: OPERANDS (1 or 2), LABELS (loop bound, >= P_nAll), T_INT.
#ifndef LABELS
#define LABELS 8
#endif
#ifdef T_INT
#define ET int
#define ACC int
#else
#define ET FT
#define ACC float
#endif
layout(std430, binding = 0) readonly buffer InA { ET a_[]; };
layout(std430, binding = 1) readonly buffer InB { ET b_[]; };
layout(std430, binding = 2) writeonly buffer OutY { ET y_[]; };

void main() {
  uint idx = vkrt_index();
  if (idx >= P_n) return;
  int nOut = int(P_nOut), nAll = int(P_nAll);
  uint oa = 0u, ob = 0u, rem = idx;
  for (int k = LABELS - 1; k >= 0; k--) {
    if (k >= nOut) continue;
    uint d = P_labels_dim(k);
    uint c = rem % d;
    rem /= d;
    oa += c * P_labels_sa(k);
    ob += c * P_labels_sb(k);
  }
  ACC acc = ACC(0);
  for (uint s = 0u; s < P_nSum; s++) {
    uint ia = oa, ib = ob, r = s;
    for (int k = LABELS - 1; k >= 0; k--) {
      if (k < nOut || k >= nAll) continue;
      uint d = P_labels_dim(k);
      uint c = r % d;
      r /= d;
      ia += c * P_labels_sa(k);
      ib += c * P_labels_sb(k);
    }
#if OPERANDS == 2
    acc += ACC(a_[ia]) * ACC(b_[ib]);
#else
    acc += ACC(a_[ia]);
#endif
  }
  y_[idx] = ET(acc);
}
