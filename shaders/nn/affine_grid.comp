#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/affine_grid.glsl"
// AffineGrid (src/ops/nn/grid.ts): one invocation per output element (n, spatial p, component i):
// out = sum_j theta[n, i, j] v[j] with v = (x, y[, z], 1), the base coordinates of p in the grid's
// (x, y, z) order (reversed spatial axes), each in [-1, 1]: -1 + 2k/(L-1) with align_corners
// (-1 for L = 1), else (2k + 1)/L - 1.
// Bindings: 0 theta [N, R, R+1], 1 grid [N, (D,) H, W, R].
// Params (layout affine_grid, src/ops/nn/gpu/grid.ts): P_n, P_R (2|3), P_D (1 for R = 2), P_H,
//   P_W, P_align.
layout(std430, binding = 0) readonly buffer InT { FT th_[]; };
layout(std430, binding = 1) writeonly buffer OutG { FT g_[]; };

float base(uint k, uint L) {
  if (P_align != 0u) return L == 1u ? -1.0 : -1.0 + 2.0 * float(k) / float(L - 1u);
  return (2.0 * float(k) + 1.0) / float(L) - 1.0;
}

void main() {
  uint idx = vkrt_index();
  if (idx >= P_n) return;
  uint R = P_R;
  uint i = idx % R;
  uint p = idx / R;
  uint w = p % P_W, h = (p / P_W) % P_H, d = (p / P_W / P_H) % P_D, n = p / P_W / P_H / P_D;
  float v[4] = float[4](base(w, P_W), base(h, P_H), R == 3u ? base(d, P_D) : 1.0, 1.0);
  uint row = (n * R + i) * (R + 1u);
  float acc = 0.0;
  for (uint j = 0u; j <= R; j++) acc += float(th_[row + j]) * (j == R ? 1.0 : v[j]);
  g_[idx] = FT(acc);
}
