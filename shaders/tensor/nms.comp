#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/nms.glsl"
// NonMaxSuppression at its upper bound (src/ops/tensor/bounded.ts).
// MODE 0: one workgroup per (batch, class), P_classes classes per batch. The greedy selection as
//   the reference does it: the highest-scoring box still alive (ties: the lowest index) is kept,
//   every alive box whose IoU with it exceeds the threshold dies, until P_maxOut boxes are kept or
//   none is alive. The argmax is a shared-memory reduction each round.
//   Bindings: 0 boxes (float[], [B, N, 4]), 1 scores (float[], [B, C, N]), 2 alive (int[], scratch
//   B*C*N), 3 sel (int[], scratch B*C*maxOut), 4 counts (int[], scratch B*C).
// MODE 1: one workgroup: the kept boxes of every (batch, class) in order as rows [b, c, i] of the
//   output, zeros after them, and the total count.
//   Bindings: 0 sel, 1 counts, 2 y (int[], [B*C*maxOut, 3]), 3 count (int[1]).
// Params (layout nms): P_boxes (N), P_classes (C), P_pairs (B*C), P_maxOut, P_iou, P_score, P_center.
#define NMS_WG 256u

#if MODE == 0
layout(std430, binding = 0) readonly buffer Bx { float boxes[]; };
layout(std430, binding = 1) readonly buffer Sc { float scores[]; };
layout(std430, binding = 2) buffer Al { int alive[]; };
layout(std430, binding = 3) writeonly buffer Se { int sel[]; };
layout(std430, binding = 4) writeonly buffer Co { int counts[]; };

shared float bestScore[NMS_WG];
shared int bestIndex[NMS_WG];

// corners [ymin, xmin, ymax, xmax] of box i of batch b
vec4 corners(uint b, int i) {
  uint o = (b * P_boxes + uint(i)) * 4u;
  vec4 v = vec4(boxes[o], boxes[o + 1u], boxes[o + 2u], boxes[o + 3u]);
  if (P_center != 0u) return vec4(v.y - v.w / 2.0, v.x - v.z / 2.0, v.y + v.w / 2.0, v.x + v.z / 2.0);
  return vec4(min(v.x, v.z), min(v.y, v.w), max(v.x, v.z), max(v.y, v.w));
}

bool overlaps(vec4 a, vec4 c) {
  float ih = max(0.0, min(a.z, c.z) - max(a.x, c.x));
  float iw = max(0.0, min(a.w, c.w) - max(a.y, c.y));
  float inter = ih * iw;
  float ua = (a.z - a.x) * (a.w - a.y) + (c.z - c.x) * (c.w - c.y) - inter;
  return ua > 0.0 && inter / ua > P_iou;
}

void main() {
  uint lid = gl_LocalInvocationID.x;
  uint bc = gl_WorkGroupID.x;
  uint b = bc / P_classes;
  uint n = P_boxes;
  uint sBase = bc * n;
  for (uint i = lid; i < n; i += NMS_WG) alive[sBase + i] = scores[sBase + i] > P_score ? 1 : 0;
  memoryBarrierBuffer();
  barrier();
  uint kept = 0u;
  for (; kept < P_maxOut; kept++) {
    float bs = 0.0;
    int bi = -1;
    for (uint i = lid; i < n; i += NMS_WG) {
      if (alive[sBase + i] == 0) continue;
      float s = scores[sBase + i];
      if (bi < 0 || s > bs) { bs = s; bi = int(i); } // strided order: the first of equals is the lowest index
    }
    bestScore[lid] = bs;
    bestIndex[lid] = bi;
    barrier();
    for (uint off = NMS_WG / 2u; off > 0u; off >>= 1) {
      if (lid < off) {
        int oi = bestIndex[lid + off];
        float os = bestScore[lid + off];
        int mi = bestIndex[lid];
        if (oi >= 0 && (mi < 0 || os > bestScore[lid] || (os == bestScore[lid] && oi < mi))) { bestScore[lid] = os; bestIndex[lid] = oi; }
      }
      barrier();
    }
    int best = bestIndex[0];
    if (best < 0) break;
    vec4 kb = corners(b, best);
    for (uint i = lid; i < n; i += NMS_WG) {
      if (int(i) == best) alive[sBase + i] = 0;
      else if (alive[sBase + i] != 0 && overlaps(kb, corners(b, int(i)))) alive[sBase + i] = 0;
    }
    if (lid == 0u) sel[bc * P_maxOut + kept] = best;
    memoryBarrierBuffer();
    barrier();
  }
  if (lid == 0u) counts[bc] = int(kept);
}
#else
layout(std430, binding = 0) readonly buffer Se { int sel[]; };
layout(std430, binding = 1) readonly buffer Co { int counts[]; };
layout(std430, binding = 2) writeonly buffer Y { int y[]; };
layout(std430, binding = 3) writeonly buffer C { int count[]; };

void main() {
  uint lid = gl_LocalInvocationID.x;
  uint base = 0u;
  for (uint bc = 0u; bc < P_pairs; bc++) {
    uint k = uint(counts[bc]);
    for (uint j = lid; j < k; j += NMS_WG) {
      uint r = (base + j) * 3u;
      y[r] = int(bc / P_classes);
      y[r + 1u] = int(bc % P_classes);
      y[r + 2u] = sel[bc * P_maxOut + j];
    }
    base += k;
  }
  for (uint r = base * 3u + lid; r < P_pairs * P_maxOut * 3u; r += NMS_WG) y[r] = 0;
  if (lid == 0u) count[0] = int(base);
}
#endif
