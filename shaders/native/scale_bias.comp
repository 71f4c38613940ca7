#version 450
// y[i] = x[i] * A + B: the native layer's test shader (specialization AND push constants).
//
// Bindings (set 0):   0  x  float[]  read
//                     1  y  float[]  write
// Specialization:     0  LOCAL_SIZE_X  uint   workgroup size (default 64)
//                     1  A             float  scale (default 1.0)
// Push constants (8 bytes, std430):
//                     0  uint   n  element count
//                     4  float  b  bias B
#extension GL_GOOGLE_include_directive : require
#include "index.glsl"

layout(local_size_x = 64, local_size_x_id = 0) in;
layout(constant_id = 1) const float A = 1.0;

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n; float b; } pc;

void main() {
  uint i = global_index();
  if (i < pc.n) y[i] = x[i] * A + pc.b;
}
