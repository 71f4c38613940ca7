// vkrt kernel prologue: shape parameters, workgroup size, global index.
//
// Every engine kernel reads its shape facts through PARAM(i), i < 32. By default they are
// specialization constants (constant_id = i), fixed when the engine is built; compiled with
// VKRT_PUSH_PARAMS they come from push constants instead (uint p[VKRT_NUM_PARAMS]), so one
// pipeline serves any shape. Float parameters travel as their bits: PARAMF(i).
// Kernels under shaders/{nn,reduce,tensor} never write an index: each includes the header generated
// from its TypeScript parameter layout (params/<layout>.glsl, src/kernel/params.ts) and reads
// P_<name>, which expands to PARAM(i), PARAMI(i) or PARAMF(i) by the field's type.
// Workgroup size: specialization constants 100, 101, 102 (x, y, z).
#ifndef VKRT_GLSL
#define VKRT_GLSL

// Enum codes shared with TypeScript (ACT_Relu, REDUCE_OP_Max, ...): always defined, since an
// undefined name in #if would silently read as 0.
#include "params/enums.glsl"

// Float storage type (FP16 engines, docs/fp16.md). Kernels declare float tensor buffers with FT
// and data-movement kernels their elements with VKRT_WORD; compiled with VKRT_F16 (a layer whose
// float tensors are f16) both become float16_t. Loads convert to float implicitly, so arithmetic
// and accumulation stay FP32; stores write FT(v).
#ifdef VKRT_F16
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#define FT float16_t
#define VKRT_WORD float16_t
#else
#define FT float
#define VKRT_WORD uint
#endif

layout(local_size_x_id = 100, local_size_y_id = 101, local_size_z_id = 102) in;

#ifdef VKRT_PUSH_PARAMS
layout(push_constant) uniform VkrtParams { uint p[VKRT_NUM_PARAMS]; } vkrt_params;
#define PARAM(i) vkrt_params.p[i]
#else
layout(constant_id = 0) const uint P0 = 0;   layout(constant_id = 1) const uint P1 = 0;
layout(constant_id = 2) const uint P2 = 0;   layout(constant_id = 3) const uint P3 = 0;
layout(constant_id = 4) const uint P4 = 0;   layout(constant_id = 5) const uint P5 = 0;
layout(constant_id = 6) const uint P6 = 0;   layout(constant_id = 7) const uint P7 = 0;
layout(constant_id = 8) const uint P8 = 0;   layout(constant_id = 9) const uint P9 = 0;
layout(constant_id = 10) const uint P10 = 0; layout(constant_id = 11) const uint P11 = 0;
layout(constant_id = 12) const uint P12 = 0; layout(constant_id = 13) const uint P13 = 0;
layout(constant_id = 14) const uint P14 = 0; layout(constant_id = 15) const uint P15 = 0;
layout(constant_id = 16) const uint P16 = 0; layout(constant_id = 17) const uint P17 = 0;
layout(constant_id = 18) const uint P18 = 0; layout(constant_id = 19) const uint P19 = 0;
layout(constant_id = 20) const uint P20 = 0; layout(constant_id = 21) const uint P21 = 0;
layout(constant_id = 22) const uint P22 = 0; layout(constant_id = 23) const uint P23 = 0;
layout(constant_id = 24) const uint P24 = 0; layout(constant_id = 25) const uint P25 = 0;
layout(constant_id = 26) const uint P26 = 0; layout(constant_id = 27) const uint P27 = 0;
layout(constant_id = 28) const uint P28 = 0; layout(constant_id = 29) const uint P29 = 0;
layout(constant_id = 30) const uint P30 = 0; layout(constant_id = 31) const uint P31 = 0;
#define PARAM(i) P##i
#endif
#define PARAMF(i) uintBitsToFloat(PARAM(i))
#define PARAMI(i) int(PARAM(i))

// Flat invocation index for 1-D work spread over a 2-D grid of workgroups (x fastest).
uint vkrt_index() {
  return gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
}

#endif
