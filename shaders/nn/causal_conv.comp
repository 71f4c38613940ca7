#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/causal_conv.glsl"
// CausalConvWithState: a depthwise causal 1-D convolution over [B, C, L] whose K-1 left columns
// come from the carried state (zeros without one). Index i < P_nOut computes output (b, c, t) =
// bias[c] + sum_k w[c, k] * padded[t + k], then silu when P_silu; the indices after it copy the
// last K-1 columns of the padded sequence to present_state [B, C, K-1].
// Bindings: 0 x [B, C, L], 1 w [C, (1,) K], 2 bias [C] (HAS_BIAS), 3 past_state [B, C, K-1]
//   (HAS_PAST), 4 output [B, C, L], 5 present_state [B, C, K-1]. Absent tensors bind a scratch.
// Params (layout causal_conv, src/ops/nn/gpu/causal-conv.ts): P_rows (B*C), P_C, P_L, P_K,
//   P_nOut (output elements, 0 without the output), P_total (P_nOut + state elements), P_silu.
// Defines: HAS_BIAS, HAS_PAST.
layout(std430, binding = 0) readonly buffer InX { FT x_[]; };
layout(std430, binding = 1) readonly buffer InW { FT w_[]; };
layout(std430, binding = 2) readonly buffer InB { FT b_[]; };
layout(std430, binding = 3) readonly buffer InS { FT s_[]; };
layout(std430, binding = 4) writeonly buffer OutY { FT y_[]; };
layout(std430, binding = 5) writeonly buffer OutS { FT st_[]; };

// Column j of row r of the padded sequence [state (K-1) | x (L)].
float padded(uint r, uint j) {
  uint km1 = P_K - 1u;
  if (j >= km1) return float(x_[r * P_L + j - km1]);
#ifdef HAS_PAST
  return float(s_[r * km1 + j]);
#else
  return 0.0;
#endif
}

void main() {
  uint i = vkrt_index();
  if (i >= P_total) return;
  if (i < P_nOut) {
    uint r = i / P_L, t = i % P_L, c = r % P_C;
#ifdef HAS_BIAS
    float acc = float(b_[c]);
#else
    float acc = 0.0;
#endif
    for (uint k = 0u; k < P_K; k++) acc += float(w_[c * P_K + k]) * padded(r, t + k);
    if (P_silu != 0u) acc = acc / (1.0 + exp(-acc));
    y_[i] = FT(acc);
  } else {
    uint j = i - P_nOut, km1 = P_K - 1u;
    uint r = j / km1, col = j % km1;
    st_[j] = FT(padded(r, P_L + col));
  }
}
