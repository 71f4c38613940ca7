// Shared index helpers. Include with:
//   #extension GL_GOOGLE_include_directive : require
//   #include "index.glsl"
#ifndef VKRT_INDEX_GLSL
#define VKRT_INDEX_GLSL

// Flat index of this invocation for 1-D work dispatched on a 2-D grid of groups (x fastest), so
// work larger than maxComputeWorkGroupCount[0] groups can still be covered: dispatch
// (min(groups, maxX), ceil(groups / maxX), 1) and bounds-check the result.
uint global_index() {
  return gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
}

#endif
