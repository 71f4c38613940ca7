// Cooperative matrices (matrix units) for one kernel source, compiled one of three ways:
//   VKRT_COOPMAT_NV       GL_NV_cooperative_matrix, run through VK_NV_cooperative_matrix;
//   VKRT_COOPMAT_KHR      the same GLSL (glslang 12 knows only the NV extension); the builder rewrites
//                         the SPIR-V to SPV_KHR_cooperative_matrix (src/builder/spirv/coopmat-khr.ts);
//   VKRT_COOPMAT_EMULATE  plain GLSL that any device runs (lavapipe in CI): the same tiles, offsets and
//                         strides, with the matrix operations done by loops (slow; for tests).
// docs/coopmat.md has the whole story. A kernel defines, before including this file:
//   CM_M, CM_N, CM_K   the fragment shape of the device's combination (A: M x K, B: K x N, C: M x N);
//   CM_SHARED_A, CM_SHARED_B   the shared float16_t arrays A and B fragments are loaded from
//                         (the emulation reads them at CM_MMA time, see below).
// Fragments: A and B hold float16_t, the accumulator float (FP16 x FP16 -> FP32); with CM_INT8
// defined, A and B hold int8_t and the accumulator int (int8 x int8 -> int32, exact; shared arrays of
// int8_t, scratch of int; needs shaderInt8). Everything is a
// macro, never a function taking a matrix: the KHR rewrite gives each matrix value its use (A, B or
// accumulator) from where it is used, and one function parameter used both ways would defeat that.
//   CM_A_T, CM_B_T, CM_ACC_T       the fragment types (declare arrays of them freely);
//   CM_ZERO(acc)                   acc = 0;
//   CM_LOAD_A(f, arr, off, stride) f = the M x K block of shared arr at element off, rows `stride` apart;
//   CM_LOAD_B(f, arr, off, stride) f = the K x N block likewise;
//   CM_MMA(acc, a, b)              acc += a * b;
//   CM_STORE(acc, arr, off, stride) the M x N accumulator into shared float (int) arr, row-major.
// Offsets and strides keep every fragment row 16-byte aligned (what the NV and KHR loads need).
// Subgroups: CM_SUBGROUP (this invocation's subgroup), CM_SUBGROUPS (subgroups in the workgroup).
// Emulation: a "subgroup" is CM_LANES (default 32) consecutive invocations; a loaded A or B fragment
// records where it lies and CM_MMA reads CM_SHARED_A/B there, so a kernel must not overwrite a
// staged tile between loading fragments from it and the CM_MMA that uses them (barriers between
// stages give that anyway). Each lane keeps CM_M * CM_N / CM_LANES accumulator elements: element
// e = lane + i * CM_LANES of the row-major fragment.
#ifndef VKRT_COOPMAT_GLSL
#define VKRT_COOPMAT_GLSL

#if !defined(CM_M) || !defined(CM_N) || !defined(CM_K)
#error "coopmat.glsl: define CM_M, CM_N and CM_K (the fragment shape)"
#endif
#ifdef CM_INT8
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
#define CM_ACC_SCALAR int
#else
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#define CM_ACC_SCALAR float
#endif

#if defined(VKRT_COOPMAT_NV) || defined(VKRT_COOPMAT_KHR)
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require

#ifdef CM_INT8
#extension GL_NV_integer_cooperative_matrix : require
#define CM_A_T icoopmatNV<8, gl_ScopeSubgroup, CM_M, CM_K>
#define CM_B_T icoopmatNV<8, gl_ScopeSubgroup, CM_K, CM_N>
#define CM_ACC_T icoopmatNV<32, gl_ScopeSubgroup, CM_M, CM_N>
#define CM_ZERO(acc) acc = CM_ACC_T(0)
#else
#define CM_A_T fcoopmatNV<16, gl_ScopeSubgroup, CM_M, CM_K>
#define CM_B_T fcoopmatNV<16, gl_ScopeSubgroup, CM_K, CM_N>
#define CM_ACC_T fcoopmatNV<32, gl_ScopeSubgroup, CM_M, CM_N>
#define CM_ZERO(acc) acc = CM_ACC_T(0.0)
#endif
#define CM_LOAD_A(f, arr, off, stride) coopMatLoadNV(f, arr, off, stride, false)
#define CM_LOAD_B(f, arr, off, stride) coopMatLoadNV(f, arr, off, stride, false)
#define CM_MMA(acc, a, b) acc = coopMatMulAddNV(a, b, acc)
#define CM_STORE(acc, arr, off, stride) coopMatStoreNV(acc, arr, off, stride, false)
#define CM_SUBGROUP gl_SubgroupID
#define CM_SUBGROUPS gl_NumSubgroups

#elif defined(VKRT_COOPMAT_EMULATE)
// loops stay loops: unrolled, the emulation makes CPU drivers (lavapipe) compile for seconds
#extension GL_EXT_control_flow_attributes : require
#ifndef CM_LANES
#define CM_LANES 32u
#endif
#if !defined(CM_SHARED_A) || !defined(CM_SHARED_B)
#error "coopmat.glsl: the emulation needs CM_SHARED_A and CM_SHARED_B (the shared arrays fragments load from)"
#endif
#define CM_PER_LANE ((CM_M * CM_N) / CM_LANES)
struct cm_frag_emu { uint off; uint stride; };
struct cm_acc_emu { CM_ACC_SCALAR v[CM_PER_LANE]; };
#define CM_A_T cm_frag_emu
#define CM_B_T cm_frag_emu
#define CM_ACC_T cm_acc_emu
#define CM_LANE (gl_LocalInvocationIndex % CM_LANES)
#define CM_SUBGROUP (gl_LocalInvocationIndex / CM_LANES)
#define CM_SUBGROUPS ((gl_WorkGroupSize.x * gl_WorkGroupSize.y * gl_WorkGroupSize.z) / CM_LANES)
#define CM_ZERO(acc) for (uint cm_i = 0u; cm_i < CM_PER_LANE; cm_i++) acc.v[cm_i] = CM_ACC_SCALAR(0)
#define CM_LOAD_A(f, arr, off, stride) f = cm_frag_emu(off, stride)
#define CM_LOAD_B(f, arr, off, stride) f = cm_frag_emu(off, stride)
#define CM_MMA(acc, a, b) cm_mma_emu(acc, a, b)
#define CM_STORE(acc, arr, off, stride) \
  for (uint cm_i = 0u; cm_i < CM_PER_LANE; cm_i++) { \
    uint cm_e = CM_LANE + cm_i * CM_LANES; \
    arr[(off) + (cm_e / CM_N) * (stride) + cm_e % CM_N] = acc.v[cm_i]; \
  }
// acc += A x B for this lane's elements, the products of f16 values summed in f32 as matrix units do
// (in another order: results agree to rounding, not bit for bit); int8 products summed in int32
// (exact, as on matrix units).
void cm_mma_emu(inout cm_acc_emu acc, cm_frag_emu a, cm_frag_emu b) {
  [[dont_unroll]] for (uint i = 0u; i < CM_PER_LANE; i++) {
    uint e = CM_LANE + i * CM_LANES;
    uint r = e / CM_N, c = e % CM_N;
    CM_ACC_SCALAR s = acc.v[i];
    [[dont_unroll]] for (uint k = 0u; k < CM_K; k++)
      s += CM_ACC_SCALAR(CM_SHARED_A[a.off + r * a.stride + k]) * CM_ACC_SCALAR(CM_SHARED_B[b.off + k * b.stride + c]);
    acc.v[i] = s;
  }
}
#else
#error "coopmat.glsl: define VKRT_COOPMAT_NV, VKRT_COOPMAT_KHR or VKRT_COOPMAT_EMULATE"
#endif

#endif
