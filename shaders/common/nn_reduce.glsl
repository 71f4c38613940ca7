// nn workgroup reductions for kernels that give one workgroup to each row (global pools, the
// normalizations). The workgroup is (NN_WG, 1, 1), NN_WG a power of two (default 128); every
// invocation of the workgroup must call these (they contain barriers).
#ifndef NN_REDUCE_GLSL
#define NN_REDUCE_GLSL

#include "vkrt_math.glsl"

#ifndef NN_WG
#define NN_WG 128
#endif

shared float nn_red[NN_WG];

float nn_wg_sum(float v) {
  uint t = gl_LocalInvocationID.x;
  nn_red[t] = v;
  barrier();
  for (uint s = NN_WG / 2; s > 0; s >>= 1) {
    if (t < s) nn_red[t] += nn_red[t + s];
    barrier();
  }
  float r = nn_red[0];
  barrier();
  return r;
}

float nn_wg_max(float v) {
  uint t = gl_LocalInvocationID.x;
  nn_red[t] = v;
  barrier();
  for (uint s = NN_WG / 2; s > 0; s >>= 1) {
    if (t < s) nn_red[t] = vkrt_max(nn_red[t], nn_red[t + s]);  // NaN propagates
    barrier();
  }
  float r = nn_red[0];
  barrier();
  return r;
}

// The row this workgroup reduces (rows spread over a 2-D grid of workgroups, x fastest).
uint nn_row() {
  return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
}

#endif
