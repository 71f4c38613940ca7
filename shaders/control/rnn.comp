#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/rnn.glsl"
#include "nn_act.glsl"
// RNN / GRU / LSTM recurrence over every time step (src/ops/control/gpu-rnn.ts). One workgroup per
// (batch row b = workgroup x, direction d = workgroup y) walks that row's steps in order; its
// invocations share the hidden units (unit j belongs to invocation j % local size). A step reads the
// previous hidden state of all units, so steps are separated by memoryBarrierBuffer + barrier on a
// coherent state buffer; no other workgroup is ever waited for.
// Bindings: 0 G = X·W[d]ᵀ [numDir, rows, gates*hidden] (rows in X's order; unread with NO_PROJ),
//   1 R [numDir, gates*hidden, hidden], 2 B [numDir, 2*gates*hidden] (HAS_B), 3 sequence_lens
//   int [batch] (HAS_LENS), 4 initial_h (HAS_H0), 5 initial_c (HAS_C0), 6 P [numDir, 3*hidden]
//   (HAS_P), 7 Y (HAS_Y), 8 Y_h (HAS_YH), 9 Y_c (HAS_YC), 10 state scratch (float, 5 *
//   numDir*batch*hidden: h ping-pong, c, GRU's z and r*h). Absent tensors bind the scratch.
// Params (layout rnn): P_seq, P_batch, P_hidden, P_numDir, P_layout (0: [seq, ..., batch, ...],
//   1: batch first), P_reverse (the single direction runs backwards), P_clip (+Inf: none), P_flag
//   (LSTM input_forget, GRU linear_before_reset), P_act_k / P_alpha_k / P_beta_k: activation k of
//   direction d at k = d*3 + i (RNN_ACT_* codes).
// Defines: CELL (RNN_CELL_Rnn, _Gru, _Lstm), the HAS_* above, NO_PROJ (empty input: G is zero).
#ifndef CELL
#define CELL RNN_CELL_Lstm
#endif
#if CELL == RNN_CELL_Rnn
#define GATES 1u
#elif CELL == RNN_CELL_Gru
#define GATES 3u
#else
#define GATES 4u
#endif

layout(std430, binding = 0) readonly buffer InG { float g_[]; };
layout(std430, binding = 1) readonly buffer InR { FT r_[]; };
layout(std430, binding = 2) readonly buffer InB { FT b_[]; };
layout(std430, binding = 3) readonly buffer InLens { int lens_[]; };
layout(std430, binding = 4) readonly buffer InH0 { FT h0_[]; };
layout(std430, binding = 5) readonly buffer InC0 { FT c0_[]; };
layout(std430, binding = 6) readonly buffer InP { FT p_[]; };
layout(std430, binding = 7) writeonly buffer OutY { FT y_[]; };
layout(std430, binding = 8) writeonly buffer OutYh { FT yh_[]; };
layout(std430, binding = 9) writeonly buffer OutYc { FT yc_[]; };
layout(std430, binding = 10) coherent buffer State { float s_[]; };

float rnn_act(float x, uint kind, float a, float b) {
  switch (kind) {
    case RNN_ACT_relu: return vkrt_relu(x);
    case RNN_ACT_tanh: return nn_tanh(x);
    case RNN_ACT_sigmoid: return nn_sigmoid(x);
    case RNN_ACT_affine: return a * x + b;
    case RNN_ACT_leakyrelu: return x >= 0.0 ? x : a * x;
    case RNN_ACT_thresholdedrelu: return x > a ? x : 0.0;
    case RNN_ACT_scaledtanh: return a * nn_tanh(b * x);
    case RNN_ACT_hardsigmoid: return vkrt_clip(a * x + b, 0.0, 1.0);
    case RNN_ACT_elu: return x >= 0.0 ? x : a * (exp(x) - 1.0);
    case RNN_ACT_softsign: return x / (1.0 + abs(x));
    case RNN_ACT_softplus: return nn_softplus(x);
    default: return x;
  }
}

uint act_kind(uint k) {
  switch (k) {
    case 0u: return P_act_0; case 1u: return P_act_1; case 2u: return P_act_2;
    case 3u: return P_act_3; case 4u: return P_act_4; default: return P_act_5;
  }
}
float act_alpha(uint k) {
  switch (k) {
    case 0u: return P_alpha_0; case 1u: return P_alpha_1; case 2u: return P_alpha_2;
    case 3u: return P_alpha_3; case 4u: return P_alpha_4; default: return P_alpha_5;
  }
}
float act_beta(uint k) {
  switch (k) {
    case 0u: return P_beta_0; case 1u: return P_beta_1; case 2u: return P_beta_2;
    case 3u: return P_beta_3; case 4u: return P_beta_4; default: return P_beta_5;
  }
}

uint d_;  // this workgroup's direction
float act(uint i, float x) {
  uint k = d_ * 3u + i;
  return rnn_act(x, act_kind(k), act_alpha(k), act_beta(k));
}
float clip(float x) { return vkrt_clip(x, -P_clip, P_clip); }

// sum_k R[d, row, k] * h[k] with h in the state scratch at offset hoff
float rdot(uint row, uint hoff) {
  uint base = (d_ * GATES * P_hidden + row) * P_hidden;
  float acc = 0.0;
  for (uint k = 0u; k < P_hidden; k++) acc += float(r_[base + k]) * s_[hoff + k];
  return acc;
}

// input projection + both biases of gate unit `row` at step t (row within gates*hidden)
float proj(uint row, uint gRow) {
  float v = 0.0;
#ifndef NO_PROJ
  v = g_[gRow * GATES * P_hidden + row];
#endif
#ifdef HAS_B
  v += float(b_[d_ * 2u * GATES * P_hidden + row]);
  // GRU with linear_before_reset keeps Rb of the h gate inside r * (...)
  if (!(CELL == RNN_CELL_Gru && P_flag != 0u && row >= 2u * P_hidden)) v += float(b_[(d_ * 2u + 1u) * GATES * P_hidden + row]);
#endif
  return v;
}

void main() {
  uint b = gl_WorkGroupID.x;
  d_ = gl_WorkGroupID.y;
  uint lid = gl_LocalInvocationID.x;
  uint wg = gl_WorkGroupSize.x;
  if (b >= P_batch) return;  // uniform in the workgroup
  uint H = P_hidden;
  uint N = P_numDir * P_batch * H;
  uint off = (d_ * P_batch + b) * H;  // this row's state, [numDir, batch, hidden]
  uint stIdx = (P_layout == 0u ? (d_ * P_batch + b) : (b * P_numDir + d_)) * H;  // initial/final state tensors
  uint cOff = 2u * N + off, zOff = 3u * N + off, rhOff = 4u * N + off;
  bool rev = P_reverse != 0u || d_ == 1u;
  uint L = P_seq;
#ifdef HAS_LENS
  L = uint(clamp(lens_[b], 0, int(P_seq)));
#endif
  for (uint j = lid; j < H; j += wg) {
#ifdef HAS_H0
    s_[off + j] = float(h0_[stIdx + j]);
#else
    s_[off + j] = 0.0;
#endif
#if CELL == RNN_CELL_Lstm
#ifdef HAS_C0
    s_[cOff + j] = float(c0_[stIdx + j]);
#else
    s_[cOff + j] = 0.0;
#endif
#endif
  }
  memoryBarrierBuffer();
  barrier();
  uint cur = 0u;
  for (uint s = 0u; s < L; s++) {
    uint t = rev ? L - 1u - s : s;
    uint gRow = d_ * P_seq * P_batch + (P_layout == 0u ? t * P_batch + b : b * P_seq + t);
    uint yIdx = (P_layout == 0u ? (t * P_numDir + d_) * P_batch + b : (b * P_seq + t) * P_numDir + d_) * H;
    uint hc = cur * N + off, hn = (1u - cur) * N + off;
#if CELL == RNN_CELL_Gru
    if (P_flag == 0u) {
      // z and r first; the candidate needs R_h · (r * h) over every unit
      for (uint j = lid; j < H; j += wg) {
        float z = act(0u, clip(proj(j, gRow) + rdot(j, hc)));
        float r = act(0u, clip(proj(H + j, gRow) + rdot(H + j, hc)));
        s_[zOff + j] = z;
        s_[rhOff + j] = r * s_[hc + j];
      }
      memoryBarrierBuffer();
      barrier();
    }
#endif
    for (uint j = lid; j < H; j += wg) {
      float hPrev = s_[hc + j];
      float hNew;
#if CELL == RNN_CELL_Rnn
      hNew = act(0u, clip(proj(j, gRow) + rdot(j, hc)));
#elif CELL == RNN_CELL_Gru
      float z, hh;
      if (P_flag == 0u) {
        z = s_[zOff + j];
        hh = proj(2u * H + j, gRow) + rdot(2u * H + j, rhOff);
      } else {
        z = act(0u, clip(proj(j, gRow) + rdot(j, hc)));
        float r = act(0u, clip(proj(H + j, gRow) + rdot(H + j, hc)));
        float rb = 0.0;
#ifdef HAS_B
        rb = float(b_[(d_ * 2u + 1u) * GATES * H + 2u * H + j]);
#endif
        hh = proj(2u * H + j, gRow) + r * (rdot(2u * H + j, hc) + rb);
      }
      float ht = act(1u, clip(hh));
      hNew = (1.0 - z) * ht + z * hPrev;
#else
      // gates i, o, f, c; peepholes i, o, f
      float cPrev = s_[cOff + j];
      float pi = 0.0, po = 0.0, pf = 0.0;
#ifdef HAS_P
      pi = float(p_[d_ * 3u * H + j]);
      po = float(p_[d_ * 3u * H + H + j]);
      pf = float(p_[d_ * 3u * H + 2u * H + j]);
#endif
      float it = act(0u, clip(proj(j, gRow) + rdot(j, hc) + pi * cPrev));
      float ft = P_flag != 0u ? 1.0 - it : act(0u, clip(proj(2u * H + j, gRow) + rdot(2u * H + j, hc) + pf * cPrev));
      float ct = act(1u, clip(proj(3u * H + j, gRow) + rdot(3u * H + j, hc)));
      float cNew = ft * cPrev + it * ct;
      float ot = act(0u, clip(proj(H + j, gRow) + rdot(H + j, hc) + po * cNew));
      s_[cOff + j] = cNew;
      hNew = ot * act(2u, cNew);
#endif
      s_[hn + j] = hNew;
#ifdef HAS_Y
      y_[yIdx + j] = FT(hNew);
#endif
    }
    memoryBarrierBuffer();
    barrier();
    cur = 1u - cur;
  }
  uint hf = cur * N + off;
  for (uint j = lid; j < H; j += wg) {
#ifdef HAS_Y
    // steps past this row's length are zero
    for (uint t = L; t < P_seq; t++) {
      y_[(P_layout == 0u ? (t * P_numDir + d_) * P_batch + b : (b * P_seq + t) * P_numDir + d_) * H + j] = FT(0.0);
    }
#endif
#ifdef HAS_YH
    yh_[stIdx + j] = FT(s_[hf + j]);
#endif
#ifdef HAS_YC
    yc_[stIdx + j] = FT(s_[cOff + j]);
#endif
  }
}
