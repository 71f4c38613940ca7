#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/moments.glsl"
#include "tensor_params.glsl"
// Normalization by statistics over arbitrary reduced axes (src/ops/nn/gpu/moments.ts), two passes:
//  PASS 0 (one invocation per group, a group = one position of the kept axes): mean and
//    population variance (two-pass sums) of the group's P_R elements into the stats scratch;
//    BatchNormalization training (MODE 1) also writes running_mean/var = input * momentum +
//    batch * (1 - momentum) and, where present, saved_mean/var.
//  PASS 1 (one invocation per element): MVN (MODE 0): y = (x - mean) / (sqrt(var) + 1e-9);
//    BatchNormalization (MODE 1, the kept axis is the channel): y = scale * (x - mean) /
//    sqrt(var + eps) + B.
// Bindings: 0 X, 1 scale, 2 B, 3 input_mean, 4 input_var, 5 Y, 6 stats (float scratch [2*G]),
//   7 running_mean, 8 running_var, 9 saved_mean, 10 saved_var (MODE 1; absent ones bind a scratch
//   of G floats).
// Params (layout moments): P_n (elements), P_G (groups), P_R (elements per group), P_rank, P_eps,
//   P_momentum, P_axes_dim(a), P_axes_red(a) (1: reduced).
// Defines: PASS, MODE, RANK (loop bound, >= P_rank), HAS_SAVED.
#ifndef RANK
#define RANK 4
#endif
layout(std430, binding = 0) readonly buffer InX { FT x_[]; };
layout(std430, binding = 1) readonly buffer InS { FT s_[]; };
layout(std430, binding = 2) readonly buffer InB { FT b_[]; };
layout(std430, binding = 3) readonly buffer InM { FT im_[]; };
layout(std430, binding = 4) readonly buffer InV { FT iv_[]; };
layout(std430, binding = 5) writeonly buffer OutY { FT y_[]; };
layout(std430, binding = 6) buffer Stats { float st_[]; };
layout(std430, binding = 7) writeonly buffer OutRM { FT rm_[]; };
layout(std430, binding = 8) writeonly buffer OutRV { FT rv_[]; };
layout(std430, binding = 9) writeonly buffer OutSM { FT sm_[]; };
layout(std430, binding = 10) writeonly buffer OutSV { FT sv_[]; };

// Offset of the element with kept-axes index g and reduced-axes index r.
uint offsetOf(uint g, uint r) {
  uint off = 0u, stride = 1u;
  int rank = int(P_rank);
  for (int a = RANK - 1; a >= 0; a--) {
    if (a >= rank) continue;
    uint d = P_axes_dim(a), c;
    if (P_axes_red(a) != 0u) { c = r % d; r /= d; } else { c = g % d; g /= d; }
    off += c * stride;
    stride *= d;
  }
  return off;
}

void main() {
  uint i = vkrt_index();
#if PASS == 0
  if (i >= P_G) return;
  float sum = 0.0;
  for (uint r = 0u; r < P_R; r++) sum += float(x_[offsetOf(i, r)]);
  float mean = sum / float(max(P_R, 1u));
  float sq = 0.0;
  for (uint r = 0u; r < P_R; r++) { float d = float(x_[offsetOf(i, r)]) - mean; sq += d * d; }
  float var_ = sq / float(max(P_R, 1u));
  st_[2u * i] = mean;
  st_[2u * i + 1u] = var_;
#if MODE == 1
  rm_[i] = FT(float(im_[i]) * P_momentum + mean * (1.0 - P_momentum));
  rv_[i] = FT(float(iv_[i]) * P_momentum + var_ * (1.0 - P_momentum));
#ifdef HAS_SAVED
  sm_[i] = FT(mean);
  sv_[i] = FT(var_);
#endif
#endif
#else
  if (i >= P_n) return;
  // the group of element i: its kept-axes coordinates
  uint rem = i, g = 0u, gs = 1u;
  int rank = int(P_rank);
  for (int a = RANK - 1; a >= 0; a--) {
    if (a >= rank) continue;
    uint d = P_axes_dim(a);
    uint c = rem % d;
    rem /= d;
    if (P_axes_red(a) == 0u) { g += c * gs; gs *= d; }
  }
  float mean = st_[2u * g], var_ = st_[2u * g + 1u];
  float x = float(x_[i]);
#if MODE == 1
  y_[i] = FT(float(s_[g]) * (x - mean) / sqrt(var_ + P_eps) + float(b_[g]));
#else
  y_[i] = FT((x - mean) / (sqrt(var_) + 1e-9));
#endif
#endif
}
