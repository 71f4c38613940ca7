#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
#include "params/slice.glsl"
// Slice whose starts/axes/steps arrive at run time (the output dims are static, so `ends` is not
// needed: it only decides the count). Each invocation normalizes and clamps the starts as ONNX
// says, then reads x at start + c * step per axis. Constant parameters use copy.comp instead.
// Bindings: 0 x (uint[]), 1 y (uint[]), 2 starts (int[]), AXES_BINDING axes (int[]),
//   STEPS_BINDING steps (int[]) (each optional).
// Params (layout slice, src/ops/tensor/kernels.ts): P_n, P_entries (slice entries), then per axis a (outermost
//   first): P_axes_out(a), P_axes_inDim(a), P_axes_inStride(a).
// Defines: RANK, AXES_BINDING, STEPS_BINDING.
layout(std430, binding = 0) readonly buffer X { VKRT_WORD x[]; };
layout(std430, binding = 1) writeonly buffer Y { VKRT_WORD y[]; };
layout(std430, binding = 2) readonly buffer S { int starts[]; };
#ifdef AXES_BINDING
layout(std430, binding = AXES_BINDING) readonly buffer A { int axes[]; };
#endif
#ifdef STEPS_BINDING
layout(std430, binding = STEPS_BINDING) readonly buffer P { int steps[]; };
#endif

void main() {
  uint i = vkrt_index();
  if (i >= P_n) return;
  int st[RANK];
  int sp[RANK];
  for (int a = 0; a < RANK; a++) { st[a] = 0; sp[a] = 1; }
  for (uint j = 0u; j < P_entries; j++) {
#ifdef AXES_BINDING
    int a = axes[j];
#else
    int a = int(j);
#endif
    if (a < 0) a += RANK;
    if (a < 0 || a >= RANK) continue;
#ifdef STEPS_BINDING
    int step = steps[j];
#else
    int step = 1;
#endif
    int d = P_axes_inDim(a);
    int s = starts[j];
    if (s < 0) s += d;
    s = step > 0 ? clamp(s, 0, d) : clamp(s, 0, d - 1);
    st[a] = s;
    sp[a] = step;
  }
  uint rem = i;
  int so = 0;
  for (int a = RANK - 1; a >= 0; a--) {
    uint od = P_axes_out(a);
    int c = int(rem % od);
    rem /= od;
    so += (st[a] + c * sp[a]) * P_axes_inStride(a);
  }
  y[i] = x[so];
}
