#version 450
// dst[i] = src[i] over vec4s (16-byte loads and stores): the bandwidth benchmark's kernel.
// Grid-stride loop, so any number of groups covers any count.
//
// Bindings (set 0):   0  src  vec4[]  read
//                     1  dst  vec4[]  write
// Specialization:     0  LOCAL_SIZE_X  uint  workgroup size (default 256)
// Push constants (4 bytes):
//                     0  uint  count  number of vec4s
layout(local_size_x = 256, local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Src { vec4 src[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Dst { vec4 dst[]; };
layout(push_constant) uniform Push { uint count; } pc;

void main() {
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < pc.count; i += stride) dst[i] = src[i];
}
