#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/linear_attention.glsl"
// LinearAttention (src/ops/reduce/linear-attention.ts for the rules): one invocation per column j
// of the state S [Dk, Dv] of one (batch b, kv head g). For t = 0..T-1 it updates S[:, j]
//   gated:  S[i, j] *= exp(decay[b, t, g, i or 0])
//   delta:  r = beta[b, t, g or 0] * (v[j] - sum_i S[i, j] k[i]);  S[i, j] += k[i] r
//   else:   S[i, j] += k[i] v[j]
// then writes o[b, t, h, j] = scale * sum_i q[h, i] S[i, j] for the query heads h of g. The column
// lives in a float scratch (binding 7), written and read back by this invocation only, and is
// copied to present_state at the end.
// Bindings: 0 q [B, T, Hq*Dk], 1 k [B, T, Hkv*Dk], 2 v [B, T, Hkv*Dv], 3 past_state (HAS_PAST),
//   4 decay [B, T, Hkv*decayPer] (gated rules), 5 beta [B, T, betaW] (delta rules), 6 output
//   [B, T, Hq*Dv] (HAS_OUT), 7 the state (float scratch [B, Hkv, Dk, Dv]), 8 present_state
//   (HAS_STATE). Absent tensors bind a scratch.
// Params (layout linear_attention, src/ops/reduce/gpu-linear-attention.ts): P_n (B*Hkv*Dv),
//   P_T, P_Hq, P_Hkv, P_Dk, P_Dv, P_decayPer (Dk or 1), P_betaW (Hkv or 1), P_scale, P_rule.
// Defines: HAS_PAST, HAS_OUT, HAS_STATE.
layout(std430, binding = 0) readonly buffer InQ { FT q_[]; };
layout(std430, binding = 1) readonly buffer InK { FT k_[]; };
layout(std430, binding = 2) readonly buffer InV { FT v_[]; };
layout(std430, binding = 3) readonly buffer InPast { FT past_[]; };
layout(std430, binding = 4) readonly buffer InDecay { FT decay_[]; };
layout(std430, binding = 5) readonly buffer InBeta { FT beta_[]; };
layout(std430, binding = 6) writeonly buffer OutO { FT o_[]; };
layout(std430, binding = 7) buffer State { float s_[]; };
layout(std430, binding = 8) writeonly buffer OutState { FT ps_[]; };

void main() {
  uint idx = vkrt_index();
  if (idx >= P_n) return;
  uint j = idx % P_Dv;
  uint bg = idx / P_Dv;
  uint g = bg % P_Hkv, b = bg / P_Hkv;
  uint s0 = bg * P_Dk * P_Dv + j;
  bool gated = P_rule == LIN_ATTN_RULE_gated || P_rule == LIN_ATTN_RULE_gated_delta;
  bool delta = P_rule == LIN_ATTN_RULE_delta || P_rule == LIN_ATTN_RULE_gated_delta;
  for (uint i = 0u; i < P_Dk; i++) {
#ifdef HAS_PAST
    s_[s0 + i * P_Dv] = float(past_[s0 + i * P_Dv]);
#else
    s_[s0 + i * P_Dv] = 0.0;
#endif
  }
  uint group = P_Hq / P_Hkv;
  for (uint t = 0u; t < P_T; t++) {
    uint bt = b * P_T + t;
    uint kOff = (bt * P_Hkv + g) * P_Dk;
    float vj = float(v_[(bt * P_Hkv + g) * P_Dv + j]);
    if (gated) {
      uint dBase = bt * P_Hkv * P_decayPer + g * P_decayPer;
      for (uint i = 0u; i < P_Dk; i++) {
        float f = exp(float(decay_[dBase + (P_decayPer == 1u ? 0u : i)]));
        s_[s0 + i * P_Dv] *= f;
      }
    }
    if (delta) {
      float bb = float(beta_[bt * P_betaW + (P_betaW == 1u ? 0u : g)]);
      float r = 0.0;
      for (uint i = 0u; i < P_Dk; i++) r += s_[s0 + i * P_Dv] * float(k_[kOff + i]);
      r = bb * (vj - r);
      for (uint i = 0u; i < P_Dk; i++) s_[s0 + i * P_Dv] += float(k_[kOff + i]) * r;
    } else {
      for (uint i = 0u; i < P_Dk; i++) s_[s0 + i * P_Dv] += float(k_[kOff + i]) * vj;
    }
#ifdef HAS_OUT
    for (uint h = g * group; h < (g + 1u) * group; h++) {
      uint qOff = (bt * P_Hq + h) * P_Dk;
      float acc = 0.0;
      for (uint i = 0u; i < P_Dk; i++) acc += float(q_[qOff + i]) * s_[s0 + i * P_Dv];
      o_[(bt * P_Hq + h) * P_Dv + j] = FT(acc * P_scale);
    }
#endif
  }
#ifdef HAS_STATE
  for (uint i = 0u; i < P_Dk; i++) ps_[s0 + i * P_Dv] = FT(s_[s0 + i * P_Dv]);
#endif
}
