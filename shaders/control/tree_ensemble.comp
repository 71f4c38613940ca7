#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/tree_ensemble.glsl"
// TreeEnsemble (ai.onnx.ml 5, src/ops/control/ml.ts): one invocation per row of X walks every tree
// from its root to a leaf and aggregates the leaf's weight into its target (sum, average, min,
// max), then applies the post transform (none, softmax, logistic, softmax_zero) to the row.
// The trees are kernel weights laid out at build (src/ops/control/gpu-ml.ts):
//   ints: roots [R], then per node 9 ints (feature, mode, true id, false id, true is leaf,
//     false is leaf, missing tracks true, set offset, set size), then leaf targets [L];
//   floats: splits [N], leaf weights [L], membership set values.
// Bindings: 0 X [rows, F], 1 ints, 2 floats, 3 Y [rows, T].
// Params (layout tree_ensemble, src/ops/control/gpu-ml.ts): P_rows, P_F, P_R, P_N, P_L, P_T,
//   P_agg, P_post.
layout(std430, binding = 0) readonly buffer InX { FT x_[]; };
layout(std430, binding = 1) readonly buffer Ints { int t_[]; };
layout(std430, binding = 2) readonly buffer Floats { float f_[]; };
layout(std430, binding = 3) buffer OutY { FT y_[]; };

int nodeInt(uint node, uint k) { return t_[P_R + node * 9u + k]; }

void main() {
  uint n = vkrt_index();
  if (n >= P_rows) return;
  uint o = n * P_T;
  float init = P_agg == 2u ? 3.0e38 : P_agg == 3u ? -3.0e38 : 0.0;
  // one target at a time: walk every tree, keep the leaves of this target (the row of Y is this
  // invocation's own, so the post transform reads it back)
  for (uint t = 0u; t < P_T; t++) {
    float acc = init;
    bool any_ = false;
    for (uint r = 0u; r < P_R; r++) {
      int node = t_[r];
      int leaf = -1;
      for (uint steps = 0u; steps <= P_N && leaf < 0; steps++) {
        if (node < 0 || uint(node) >= P_N) break;
        uint nd = uint(node);
        float v = float(x_[n * P_F + uint(nodeInt(nd, 0u))]);
        float s = f_[nd];
        int mode = nodeInt(nd, 1u);
        bool go;
        if (isnan(v) && nodeInt(nd, 6u) != 0) go = true;
        else if (mode == 0) go = v <= s;
        else if (mode == 1) go = v < s;
        else if (mode == 2) go = v >= s;
        else if (mode == 3) go = v > s;
        else if (mode == 4) go = v == s;
        else if (mode == 5) go = v != s;
        else {
          go = false;
          int off = nodeInt(nd, 7u), cnt = nodeInt(nd, 8u);
          for (int k = 0; k < cnt; k++) if (f_[P_N + P_L + uint(off + k)] == v) go = true;
        }
        int next = go ? nodeInt(nd, 2u) : nodeInt(nd, 3u);
        if ((go ? nodeInt(nd, 4u) : nodeInt(nd, 5u)) != 0) leaf = next; else node = next;
      }
      if (leaf < 0 || uint(leaf) >= P_L) continue;
      if (uint(t_[P_R + P_N * 9u + uint(leaf)]) != t) continue;
      float w = f_[P_N + uint(leaf)];
      any_ = true;
      if (P_agg == 2u) acc = min(acc, w);
      else if (P_agg == 3u) acc = max(acc, w);
      else acc += w;
    }
    if (P_agg == 0u) acc /= float(max(P_R, 1u));
    if (!any_ && P_agg >= 2u) acc = 0.0;
    y_[o + t] = FT(acc);
  }
  if (P_post == 1u || P_post == 3u) {
    bool zeroAware = P_post == 3u;
    float mx = -3.0e38;
    for (uint t = 0u; t < P_T; t++) { float v = float(y_[o + t]); if (!(zeroAware && v == 0.0)) mx = max(mx, v); }
    float sum = 0.0;
    for (uint t = 0u; t < P_T; t++) { float v = float(y_[o + t]); sum += zeroAware && v == 0.0 ? 0.0 : exp(v - mx); }
    for (uint t = 0u; t < P_T; t++) {
      float v = float(y_[o + t]);
      float e = zeroAware && v == 0.0 ? 0.0 : exp(v - mx);
      y_[o + t] = FT(sum == 0.0 ? 0.0 : e / sum);
    }
  } else if (P_post == 2u) {
    for (uint t = 0u; t < P_T; t++) y_[o + t] = FT(1.0 / (1.0 + exp(-float(y_[o + t]))));
  }
}
