// Shared helpers of the reduce family (include after vkrt.glsl).
//
// Types: T is the storage type of the input (float or int); IS_FLOAT_T is 1 for float.
// Workgroup reductions use shared memory sized RED_WG_MAX (the dispatch's workgroup x must not
// exceed it) and gl_WorkGroupSize.x threads.
#ifndef VKRT_REDUCE_COMMON_GLSL
#define VKRT_REDUCE_COMMON_GLSL

#include "vkrt_math.glsl"

#ifndef RED_WG_MAX
#define RED_WG_MAX 256
#endif

#define RED_INF uintBitsToFloat(0x7f800000u)
#define RED_NAN uintBitsToFloat(0x7fc00000u)

// Flat workgroup index on a 2-D grid of groups (x fastest): one group per item.
uint red_group_index() {
  return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
}

// NaN-propagating max/min (numpy semantics); plain for ints.
float red_max(float a, float b) { return vkrt_max(a, b); }
float red_min(float a, float b) { return vkrt_min(a, b); }
int red_max(int a, int b) { return max(a, b); }
int red_min(int a, int b) { return min(a, b); }
bool red_isnan(float a) { return vkrt_isnan(a); }
bool red_isnan(int a) { return false; }

#endif
