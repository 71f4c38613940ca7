#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "tensor_params.glsl"
// Data-dependent selection at the upper bound (src/ops/tensor/bounded.ts): NonZero and Compress.
// MODE 0 and 1 run in ONE workgroup of SEL_WG invocations that walks the input in chunks, keeping
// a running count: each chunk's flags get an inclusive prefix sum in shared memory, so every
// selected element knows its output position, and the count after the last chunk is written to
// the count binding (what the staged engine reads back to trim the output).
// MODE 0 (NonZero): bindings 0 x (uint[]), 1 y (int[], rank x P_n), 2 count (int[1]); column k
//   of y holds the coordinates of the k-th non-zero element, columns from the count on are 0.
// MODE 1 (Compress scan): bindings 0 cond (uint[]), 1 idx (int[], scratch), 2 count (int[1]);
//   idx[k] = the k-th index i < P_n with cond[i] true.
// MODE 2 (Compress gather, one invocation per output element): bindings 0 x (uint[]), 1 idx,
//   2 count, 3 y (uint[]); slice j < count of the output is input slice idx[j], the rest 0.
// Defines: MODE; FLOAT_IN (the scanned tensor is float: -0.0 is false, NaN true, as numpy).
#if MODE == 0
#include "params/select_nonzero.glsl"
#elif MODE == 1
#include "params/select_scan.glsl"
#else
#include "params/select_gather.glsl"
#endif

#define SEL_WG 256u

#if MODE == 2
layout(std430, binding = 0) readonly buffer X { uint x[]; };
layout(std430, binding = 1) readonly buffer I { int idx[]; };
layout(std430, binding = 2) readonly buffer C { int count[]; };
layout(std430, binding = 3) writeonly buffer Y { uint y[]; };

void main() {
  uint e = vkrt_index();
  if (e >= P_n) return;
  uint q = e % P_inner;
  uint j = (e / P_inner) % P_bound;
  uint o = e / (P_inner * P_bound);
  y[e] = int(j) < count[0] ? x[(o * P_axisDim + uint(idx[j])) * P_inner + q] : 0u;
}
#else
layout(std430, binding = 0) readonly buffer X { uint x[]; };
layout(std430, binding = 1) writeonly buffer Y { int y[]; };
layout(std430, binding = 2) writeonly buffer C { int count[]; };
shared uint sums[SEL_WG];

bool truthy(uint b) {
#ifdef FLOAT_IN
  return (b & 0x7fffffffu) != 0u;
#else
  return b != 0u;
#endif
}

void main() {
  uint lid = gl_LocalInvocationID.x;
  uint n = P_n;
  uint base = 0u;
  for (uint start = 0u; start < n; start += SEL_WG) {
    uint i = start + lid;
    uint t = 0u;
    if (i < n && truthy(x[i])) t = 1u;
    sums[lid] = t;
    barrier();
    for (uint off = 1u; off < SEL_WG; off <<= 1) {
      uint v = lid >= off ? sums[lid - off] : 0u;
      barrier();
      sums[lid] += v;
      barrier();
    }
    if (t != 0u) {
      uint pos = base + sums[lid] - 1u;
#if MODE == 0
      uint f = i;
      for (int a = int(P_rank) - 1; a >= 0; a--) {
        uint d = P_axes_dim(a);
        y[uint(a) * n + pos] = int(f % d);
        f /= d;
      }
#else
      y[pos] = int(i);
#endif
    }
    uint total = sums[SEL_WG - 1u];
    barrier();
    base += total;
  }
#if MODE == 0
  for (uint j = base + lid; j < n; j += SEL_WG)
    for (uint a = 0u; a < P_rank; a++) y[a * n + j] = 0;
#endif
  if (lid == 0u) count[0] = int(base);
}
#endif
