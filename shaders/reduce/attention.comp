#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/attention.glsl"
#include "reduce_common.glsl"
// ONNX Attention (opset 23/24), one workgroup per query row (b, h, i): scores for a block of
// gl_WorkGroupSize.x keys (one per invocation), then an online softmax (running max and sum,
// FP32) folds the block's weighted V rows into per-invocation accumulators (invocation t owns
// output dims t, t + WG, ...). K/V positions j < P come from past_key/past_value, the rest from
// K/V (no concatenation buffer). A row masked everywhere gives Y = 0, as the reference.
//
// bindings: 0 Q, 1 K, 2 V, 3 past_key [B,KVH,P,D], 4 past_value [B,KVH,P,DV], 5 attn_mask (float
//   bits or bool as int), 6 nonpad_kv_seqlen (int), 7 Y, 8 qk output (absent ones bound to any
//   buffer, never read or written)
// params (layout attention, src/ops/reduce/gpu-attention.ts): P_rows (B*H*S), P_H, P_S, P_D, P_DV,
//   P_T (total keys), P_P (past length), P_group (H / KVH), P_KVH, strides of Q (b, h, i), K and V
//   (b, kvh, j), Y and the mask (b, h, i): P_qStrides_0..2 and so on, P_TM (mask width, keys >= TM
//   are masked), P_scale, P_softcap (0: none), P_flags (ATTN_FLAG_* bits: causal, nonpad, bool
//   mask, has mask), P_qkMode (ATTN_QK_*: the stage qk_matmul_output_mode outputs, or none)
// defines: MAX_D (shared q row size), ACC_N (accumulators per invocation: DV <= ACC_N * WG)
layout(std430, binding = 0) readonly buffer Qb { float q[]; };
layout(std430, binding = 1) readonly buffer Kb { float kk[]; };
layout(std430, binding = 2) readonly buffer Vb { float vv[]; };
layout(std430, binding = 3) readonly buffer PKb { float pk[]; };
layout(std430, binding = 4) readonly buffer PVb { float pv[]; };
layout(std430, binding = 5) readonly buffer Mb { uint mask[]; };
layout(std430, binding = 6) readonly buffer Nb { int nonpad[]; };
layout(std430, binding = 7) writeonly buffer Yb { float y[]; };
layout(std430, binding = 8) buffer QKb { float qk[]; };

#define H P_H
#define S P_S
#define D P_D
#define DV P_DV
#define T P_T
#define P P_P
#define FLAGS P_flags
#define QK_MODE P_qkMode

shared float q_s[MAX_D];
shared float s_sc[RED_WG_MAX];

void main() {
  uint r = red_group_index();
  if (r >= P_rows) return;
  uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
  uint i = r % S, h = (r / S) % H, b = r / (S * H);
  uint kh = h / P_group;
  uint kvh = P_KVH;
  uint qoff = b * P_qStrides_0 + h * P_qStrides_1 + i * P_qStrides_2;
  for (uint d = tid; d < D; d += wg) q_s[d] = q[qoff + d];
  float scale = P_scale, softcap = P_softcap;
  bool causal = (FLAGS & ATTN_FLAG_causal) != 0u, hasNonpad = (FLAGS & ATTN_FLAG_nonpad) != 0u, boolMask = (FLAGS & ATTN_FLAG_boolMask) != 0u, hasMask = (FLAGS & ATTN_FLAG_hasMask) != 0u;
  int np = hasNonpad ? nonpad[b] : 0;
  int causalOff = hasNonpad ? np - int(S) : int(P);
  uint moff = b * P_maskStrides_0 + h * P_maskStrides_1 + i * P_maskStrides_2;
  uint qkoff = r * T;
  float m = -RED_INF, l = 0.0;
  float acc[ACC_N];
  for (uint c = 0u; c < ACC_N; c++) acc[c] = 0.0;
  barrier();
  for (uint j0 = 0u; j0 < T; j0 += wg) {
    uint j = j0 + tid;
    float sc = -RED_INF;
    if (j < T) {
      float dot = 0.0;
      if (j < P) {
        uint ko = ((b * kvh + kh) * P + j) * D;
        for (uint d = 0u; d < D; d++) dot += q_s[d] * pk[ko + d];
      } else {
        uint ko = b * P_kStrides_0 + kh * P_kStrides_1 + (j - P) * P_kStrides_2;
        for (uint d = 0u; d < D; d++) dot += q_s[d] * kk[ko + d];
      }
      sc = dot * scale;
      if (QK_MODE == ATTN_QK_raw) qk[qkoff + j] = sc;
      if (softcap > 0.0) sc = softcap * tanh(sc / softcap);
      if (QK_MODE == ATTN_QK_softcapped) qk[qkoff + j] = sc;
      float bias = 0.0;
      if (hasMask) {
        if (j >= P_TM) bias = -RED_INF;
        else {
          uint mv = mask[moff + j];
          bias = boolMask ? (mv != 0u ? 0.0 : -RED_INF) : uintBitsToFloat(mv);
        }
      }
      if (causal && int(i) + causalOff < int(j)) bias = -RED_INF;
      if (hasNonpad && int(j) >= np) bias = -RED_INF;
      sc += bias;
      if (QK_MODE >= ATTN_QK_biased && QK_MODE <= ATTN_QK_softmax) qk[qkoff + j] = sc;
    }
    s_sc[tid] = sc;
    barrier();
    uint n = min(wg, T - j0);
    float bm = -RED_INF;
    for (uint t = 0u; t < n; t++) bm = max(bm, s_sc[t]);
    float mNew = max(m, bm);
    if (mNew > -RED_INF) {
      float alpha = m > -RED_INF ? exp(m - mNew) : 0.0;
      l *= alpha;
      for (uint c = 0u; c < ACC_N; c++) acc[c] *= alpha;
      for (uint t = 0u; t < n; t++) {
        float s = s_sc[t];
        if (s == -RED_INF) continue;
        float p = exp(s - mNew);
        l += p;
        uint jj = j0 + t;
        uint vo = jj < P ? ((b * kvh + kh) * P + jj) * DV : b * P_vStrides_0 + kh * P_vStrides_1 + (jj - P) * P_vStrides_2;
        for (uint c = 0u; c < ACC_N; c++) {
          uint d = tid + c * wg;
          if (d < DV) acc[c] += p * (jj < P ? pv[vo + d] : vv[vo + d]);
        }
      }
      m = mNew;
    }
    barrier();
  }
  uint yoff = b * P_yStrides_0 + h * P_yStrides_1 + i * P_yStrides_2;
  float inv = l > 0.0 ? 1.0 / l : 0.0;
  for (uint c = 0u; c < ACC_N; c++) {
    uint d = tid + c * wg;
    if (d < DV) y[yoff + d] = acc[c] * inv;
  }
  if (QK_MODE == ATTN_QK_softmax) {
    // the scores this invocation wrote become probabilities (same invocation, no barrier needed)
    for (uint j = tid; j < T; j += wg) {
      float s = qk[qkoff + j];
      qk[qkoff + j] = (m == -RED_INF || s == -RED_INF) ? 0.0 : exp(s - m) * inv;
    }
  }
}
