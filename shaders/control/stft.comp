#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/stft.glsl"
// STFT (src/ops/control/signal.ts): one invocation per output element (b, frame f, bin k, re/im):
// sum over t < L of signal[b, f*step + t] * window[t] * e^(-2 pi i k t / L). frame_step (and
// frame_length without a window) are read from their buffers; the frame count and bins are the
// output's. A frame that would run past the signal reads zeros.
// Bindings: 0 signal [B, length, 1|2], 1 frame_step (int[1]), 2 window [L] (HAS_WINDOW),
//   3 frame_length (int[1], HAS_FLEN), 4 output [B, frames, bins, 2].
// Params (layout stft, src/ops/control/gpu-signal.ts): P_n, P_frames, P_bins, P_length, P_comps
//   (1 real, 2 complex), P_L (the window's length with HAS_WINDOW).
// Defines: HAS_WINDOW, HAS_FLEN.
layout(std430, binding = 0) readonly buffer InS { FT s_[]; };
layout(std430, binding = 1) readonly buffer InStep { int step_[]; };
layout(std430, binding = 2) readonly buffer InW { FT w_[]; };
layout(std430, binding = 3) readonly buffer InFl { int fl_[]; };
layout(std430, binding = 4) writeonly buffer OutY { FT y_[]; };

const float TWO_PI = 6.283185307179586;

void main() {
  uint idx = vkrt_index();
  if (idx >= P_n) return;
  uint comp = idx % 2u;
  uint k = (idx / 2u) % P_bins;
  uint f = (idx / 2u / P_bins) % P_frames;
  uint b = idx / 2u / P_bins / P_frames;
#ifdef HAS_FLEN
  uint L = uint(max(fl_[0], 1));
#else
  uint L = P_L;
#endif
  uint step = uint(max(step_[0], 1));
  float sr = 0.0, si = 0.0;
  uint kk = k % L, p = 0u;
  for (uint t = 0u; t < L; t++) {
    uint pos = f * step + t;
    if (pos >= P_length) break;
    uint o = (b * P_length + pos) * P_comps;
#ifdef HAS_WINDOW
    float wt = float(w_[t]);
#else
    float wt = 1.0;
#endif
    float re = float(s_[o]) * wt;
    float im = P_comps == 2u ? float(s_[o + 1u]) * wt : 0.0;
    float ang = -TWO_PI * float(p) / float(L);
    float cs = cos(ang), sn = sin(ang);
    sr += re * cs - im * sn;
    si += re * sn + im * cs;
    p += kk;
    if (p >= L) p -= L;
  }
  y_[idx] = FT(comp == 0u ? sr : si);
}
