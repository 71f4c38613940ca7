#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/dyn_quant.glsl"
// DynamicQuantizeLinear in three dispatches (STAGE define):
//   1: each workgroup (256 invocations) folds a slice of X into a partial (min, max), both
//      starting at 0 (NaN ignored), written to scratch S[2 * group], S[2 * group + 1];
//   2: one workgroup folds the partials, computes scale = (max - min) / 255 and
//      zp = clamp(rint(-min / scale), 0, 255) (0 when scale is 0), stores them to outputs
//      Y_scale (float) and Y_zp (int) and to S[0], S[1] (zp as float);
//   3: one invocation per element: y = clamp(rint(x / scale) + zp, 0, 255) (zp when scale is 0).
// Bindings: stage 1: 0 X, 1 scratch; stage 2: 0 scratch, 1 Y_scale, 2 Y_zp;
//   stage 3: 0 X, 1 scratch, 2 Y.
// Params (layout dyn_quant, src/ops/nn/gpu/qlinear.ts): P_count (elements), P_partials (stage 1
//   groups), P_perPartial (elements per stage-1 workgroup).
// Groups: stage 1 (partials, 1, 1); stage 2 (1, 1, 1); stage 3 grid1d(count, 256).
#include "nn_quant.glsl"

#if STAGE == 1
layout(std430, binding = 0) readonly buffer InX { float x_[]; };
layout(std430, binding = 1) writeonly buffer S { float s_[]; };
#elif STAGE == 2
layout(std430, binding = 0) buffer S { float s_[]; };
layout(std430, binding = 1) writeonly buffer OutS { float yscale_[]; };
layout(std430, binding = 2) writeonly buffer OutZ { int yzp_[]; };
#else
layout(std430, binding = 0) readonly buffer InX { float x_[]; };
layout(std430, binding = 1) readonly buffer S { float s_[]; };
layout(std430, binding = 2) writeonly buffer OutY { int y_[]; };
#endif

#if STAGE != 3
shared float smin[256];
shared float smax[256];

void fold(uint lid) {
  barrier();
  for (uint h = 128u; h > 0u; h >>= 1) {
    if (lid < h) {
      if (smin[lid + h] < smin[lid]) smin[lid] = smin[lid + h];
      if (smax[lid + h] > smax[lid]) smax[lid] = smax[lid + h];
    }
    barrier();
  }
}
#endif

void main() {
#if STAGE == 1
  uint lid = gl_LocalInvocationID.x;
  uint begin = gl_WorkGroupID.x * P_perPartial;
  uint end = min(begin + P_perPartial, P_count);
  float mn = 0.0, mx = 0.0;
  for (uint i = begin + lid; i < end; i += 256u) {
    float v = x_[i];
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  smin[lid] = mn; smax[lid] = mx;
  fold(lid);
  if (lid == 0u) { s_[2u * gl_WorkGroupID.x] = smin[0]; s_[2u * gl_WorkGroupID.x + 1u] = smax[0]; }
#elif STAGE == 2
  uint lid = gl_LocalInvocationID.x;
  float mn = 0.0, mx = 0.0;
  for (uint i = lid; i < P_partials; i += 256u) {
    float a = s_[2u * i], b = s_[2u * i + 1u];
    if (a < mn) mn = a;
    if (b > mx) mx = b;
  }
  smin[lid] = mn; smax[lid] = mx;
  fold(lid);
  if (lid == 0u) {
    precise float range = smax[0] - smin[0];
    float scale = nn_div(range, 255.0);
    float zp = 0.0;
    if (scale != 0.0) {
      precise float q = 0.0 - nn_div(smin[0], scale);
      zp = roundEven(q);
      zp = isnan(zp) ? 0.0 : clamp(zp, 0.0, 255.0);
    }
    s_[0] = scale; s_[1] = zp;
    yscale_[0] = scale;
    yzp_[0] = int(zp);
  }
#else
  uint i = vkrt_index();
  if (i >= P_count) return;
  float scale = s_[0], zp = s_[1];
  float v = zp;
  if (scale != 0.0) {
    v = roundEven(nn_div(x_[i], scale)) + zp;
    v = isnan(v) ? 0.0 : clamp(v, 0.0, 255.0);
  }
  y_[i] = int(v);
#endif
}
