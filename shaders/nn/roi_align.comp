#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/roi_align.glsl"
// RoiAlign (src/ops/nn/roialign.ts): one invocation per output (roi k, channel c, bin ph, pw). The
// bin's gh x gw sampling grid (sampling_ratio, or ceil(roi size / bins) from the run-time roi) is
// sampled bilinearly (samples outside [-1, H] x [-1, W] count as zero) and averaged, or the
// largest weighted corner is taken (mode max, the reference's definition).
// Bindings: 0 X [N, C, H, W], 1 rois [K, 4] (x0, y0, x1, y1), 2 batch_indices (int[K]), 3 Y.
// Params (layout roi_align, src/ops/nn/gpu/roi-align.ts): P_n, P_C, P_H, P_W, P_OH, P_OW,
//   P_sampling (0: adaptive), P_scale, P_offset (0.5 half_pixel, 0 output_half_pixel), P_isMax.
layout(std430, binding = 0) readonly buffer InX { FT x_[]; };
layout(std430, binding = 1) readonly buffer InR { FT r_[]; };
layout(std430, binding = 2) readonly buffer InB { int b_[]; };
layout(std430, binding = 3) writeonly buffer OutY { FT y_[]; };

void main() {
  uint idx = vkrt_index();
  if (idx >= P_n) return;
  uint pw = idx % P_OW, ph = (idx / P_OW) % P_OH, c = (idx / P_OW / P_OH) % P_C, k = idx / P_OW / P_OH / P_C;
  int H = int(P_H), W = int(P_W);
  float x0 = float(r_[k * 4u]) * P_scale - P_offset;
  float y0 = float(r_[k * 4u + 1u]) * P_scale - P_offset;
  float x1 = float(r_[k * 4u + 2u]) * P_scale - P_offset;
  float y1 = float(r_[k * 4u + 3u]) * P_scale - P_offset;
  float rw = x1 - x0, rh = y1 - y0;
  if (P_offset == 0.0) { rw = max(rw, 1.0); rh = max(rh, 1.0); }
  float binH = rh / float(P_OH), binW = rw / float(P_OW);
  int gh = P_sampling > 0u ? int(P_sampling) : int(ceil(rh / float(P_OH)));
  int gw = P_sampling > 0u ? int(P_sampling) : int(ceil(rw / float(P_OW)));
  uint base = (uint(b_[k]) * P_C + c) * uint(H * W);
  float acc = 0.0;
  bool first = true;
  for (int iy = 0; iy < gh; iy++) {
    float y = y0 + float(ph) * binH + (float(iy) + 0.5) * binH / float(gh);
    for (int ix = 0; ix < gw; ix++) {
      float xx = x0 + float(pw) * binW + (float(ix) + 0.5) * binW / float(gw);
      float v;
      if (y < -1.0 || y > float(H) || xx < -1.0 || xx > float(W)) v = 0.0;
      else {
        float yy = max(y, 0.0);
        xx = max(xx, 0.0);
        int yl = int(yy), xl = int(xx), yh, xh;
        if (yl >= H - 1) { yh = yl = H - 1; yy = float(yl); } else yh = yl + 1;
        if (xl >= W - 1) { xh = xl = W - 1; xx = float(xl); } else xh = xl + 1;
        float ly = yy - float(yl), lx = xx - float(xl), hy = 1.0 - ly, hx = 1.0 - lx;
        float a = hy * hx * float(x_[base + uint(yl * W + xl)]);
        float b = hy * lx * float(x_[base + uint(yl * W + xh)]);
        float cc = ly * hx * float(x_[base + uint(yh * W + xl)]);
        float d = ly * lx * float(x_[base + uint(yh * W + xh)]);
        v = P_isMax != 0u ? max(max(a, b), max(cc, d)) : a + b + cc + d;
      }
      if (P_isMax != 0u) { acc = first ? v : max(acc, v); first = false; }
      else acc += v;
    }
  }
  if (P_isMax == 0u) acc /= float(max(gh * gw, 1));
  y_[idx] = FT(acc);
}
