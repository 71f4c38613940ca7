#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/unique.glsl"
// Unique at its upper bound (src/ops/tensor/bounded.ts): P_d slices along the axis, each of
// P_outer x P_inner elements (slice i, element (o, q) at (o * P_d + i) * P_inner + q). One
// invocation per slice compares it with every other slice, so the work is O(d^2 x slice): right
// for label and index lists, slow for long axes.
// MODE 0: first[i] = the first slice equal to slice i, cnt[i] = how many are.
// MODE 1: rank[i] of each first slice (sorted: first slices less than it; else first slices
//   before it); indices and counts cleared; the total cleared (invocation 0).
// MODE 2: inverse[i] = rank of its first slice; a first slice writes indices, counts and
//   rankToFirst at its rank and adds one to the total.
// MODE 3 (one invocation per element of y at its bound): y's slice r is input slice
//   rankToFirst[r] for r < total, zeros after; invocation 0 writes the four counts.
// Equality is the reference's: NaN equals NaN, -0.0 equals 0.0 (FLOAT_IN); NaN sorts last.
// Params (layout unique): P_n (invocations), P_d, P_outer, P_inner, P_sorted.

#ifdef FLOAT_IN
bool isNan(uint a) { return (a & 0x7fffffffu) > 0x7f800000u; }
bool same(uint a, uint b) {
  if (a == b) return true;
  if ((a & 0x7fffffffu) == 0u && (b & 0x7fffffffu) == 0u) return true;
  return isNan(a) && isNan(b);
}
// -1, 0, 1 as the reference's compareValues
int cmp(uint a, uint b) {
  bool an = isNan(a), bn = isNan(b);
  if (an || bn) return an && bn ? 0 : an ? 1 : -1;
  float fa = uintBitsToFloat(a), fb = uintBitsToFloat(b);
  return fa < fb ? -1 : fa > fb ? 1 : 0;
}
#else
bool same(uint a, uint b) { return a == b; }
int cmp(uint a, uint b) { return int(a) < int(b) ? -1 : int(a) > int(b) ? 1 : 0; }
#endif

#if MODE != 2
layout(std430, binding = 0) readonly buffer X { uint x[]; };
uint elem(uint i, uint k) { return x[((k / P_inner) * P_d + i) * P_inner + k % P_inner]; }
bool sliceEq(uint i, uint j) {
  uint len = P_outer * P_inner;
  for (uint k = 0u; k < len; k++) if (!same(elem(i, k), elem(j, k))) return false;
  return true;
}
bool sliceLess(uint i, uint j) {
  uint len = P_outer * P_inner;
  for (uint k = 0u; k < len; k++) {
    int c = cmp(elem(i, k), elem(j, k));
    if (c != 0) return c < 0;
  }
  return false;
}
#endif

#if MODE == 0
layout(std430, binding = 1) writeonly buffer F { int first[]; };
layout(std430, binding = 2) writeonly buffer N { int cnt[]; };
void main() {
  uint i = vkrt_index();
  if (i >= P_d) return;
  int f = -1, c = 0;
  for (uint j = 0u; j < P_d; j++) {
    if (sliceEq(i, j)) { if (f < 0) f = int(j); c++; }
  }
  first[i] = f;
  cnt[i] = c;
}
#elif MODE == 1
layout(std430, binding = 1) readonly buffer F { int first[]; };
layout(std430, binding = 2) writeonly buffer R { int rank[]; };
layout(std430, binding = 3) writeonly buffer I { int indices[]; };
layout(std430, binding = 4) writeonly buffer C { int counts[]; };
layout(std430, binding = 5) writeonly buffer T { int total[]; };
void main() {
  uint i = vkrt_index();
  if (i >= P_d) return;
  indices[i] = 0;
  counts[i] = 0;
  if (i == 0u) total[0] = 0;
  if (first[i] != int(i)) return;
  int r = 0;
  for (uint j = 0u; j < P_d; j++) {
    if (j == i || first[j] != int(j)) continue;
    if (P_sorted != 0u ? sliceLess(j, i) : j < i) r++;
  }
  rank[i] = r;
}
#elif MODE == 2
layout(std430, binding = 0) readonly buffer F { int first[]; };
layout(std430, binding = 1) readonly buffer N { int cnt[]; };
layout(std430, binding = 2) readonly buffer R { int rank[]; };
layout(std430, binding = 3) writeonly buffer V { int inverse[]; };
layout(std430, binding = 4) writeonly buffer I { int indices[]; };
layout(std430, binding = 5) writeonly buffer C { int counts[]; };
layout(std430, binding = 6) writeonly buffer M { int rankToFirst[]; };
layout(std430, binding = 7) buffer T { int total[]; };
void main() {
  uint i = vkrt_index();
  if (i >= P_d) return;
  int f = first[i];
  int r = rank[f];
  inverse[i] = r;
  if (f != int(i)) return;
  indices[r] = int(i);
  counts[r] = cnt[i];
  rankToFirst[r] = int(i);
  atomicAdd(total[0], 1);
}
#else
layout(std430, binding = 1) readonly buffer M { int rankToFirst[]; };
layout(std430, binding = 2) readonly buffer T { int total[]; };
layout(std430, binding = 3) writeonly buffer Y { uint y[]; };
layout(std430, binding = 4) writeonly buffer CY { int countY[]; };
layout(std430, binding = 5) writeonly buffer CI { int countIndices[]; };
layout(std430, binding = 6) writeonly buffer CV { int countInverse[]; };
layout(std430, binding = 7) writeonly buffer CC { int countCounts[]; };
void main() {
  uint e = vkrt_index();
  if (e >= P_n) return;
  int u = total[0];
  uint q = e % P_inner;
  uint r = (e / P_inner) % P_d;
  uint o = e / (P_inner * P_d);
  y[e] = int(r) < u ? x[(o * P_d + uint(rankToFirst[r])) * P_inner + q] : 0u;
  if (e == 0u) {
    countY[0] = u;
    countIndices[0] = u;
    countInverse[0] = int(P_d);
    countCounts[0] = u;
  }
}
#endif
