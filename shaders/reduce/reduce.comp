#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "reduce_common.glsl"
#ifdef AXES_INPUT
#include "params/reduce_axes.glsl"
#else
#include "params/reduce.glsl"
#endif
// Generic reduction (ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare).
// The input is viewed as kept axes (K0,K1,K2) interleaved with reduced axes (R0,R1,R2) after
// collapsing; each output element gathers base(o) + off(r) for r < M.
//
// bindings: 0 input (T x[]), 1 output (TO y[])
// params (layout reduce, src/ops/reduce/gpu.ts): P_nout, P_M (reduced count), kept dims
//         P_keptDims_0..2 and strides P_keptStrides_*, reduced dims P_redDims_* and strides
//         P_redStrides_*, P_empty (the value of an empty reduction, TO bits)
// defines: T (float|int) input type, TO output type, ACC (float|int) accumulator type,
//          OP (REDUCE_OP_Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp, SumSquare),
//          IS_FLOAT_ACC / IS_FLOAT_TO (0|1); workgroup x a power of two <= RED_WG_MAX;
//          AXES_INPUT: axes from binding 2 at run time (layout reduce_axes, below),
//          WG_PER_OUT: one workgroup per output (shared-memory tree), else one invocation per output.
// storage types (FP16 layers: float16_t buffers, T/TO float arithmetic; default T and TO)
#ifndef TX
#define TX T
#endif
#ifndef TY
#define TY TO
#endif
layout(std430, binding = 0) readonly buffer In { TX x[]; };
layout(std430, binding = 1) writeonly buffer Out { TY y[]; };

#define NOUT P_nout
#ifdef AXES_INPUT
// The axes arrive at run time (binding 2): the shader finds the reduced axes itself.
// params (layout reduce_axes): P_nout, P_rank, P_dims_0..7 (padded with 1 at the end), P_empty,
//         P_naxes, P_noop (noop_with_empty_axes)
layout(std430, binding = 2) readonly buffer Axes { int axes_v[]; };
#define EMPTY_PARAM P_empty
uint g_M, g_mask;
uint g_dims[8], g_strides[8];
#define M g_M
void setup() {
  g_dims = uint[8](P_dims_0, P_dims_1, P_dims_2, P_dims_3, P_dims_4, P_dims_5, P_dims_6, P_dims_7);
  uint rank = P_rank;
  g_mask = 0u;
  for (uint k = 0u; k < P_naxes; k++) {
    int a = axes_v[k];
    g_mask |= 1u << uint(a < 0 ? a + int(rank) : a);
  }
  if (P_naxes == 0u && P_noop == 0u) g_mask = (1u << rank) - 1u;
  uint st = 1u;
  g_M = 1u;
  for (int k = 7; k >= 0; k--) {
    g_strides[k] = st;
    st *= g_dims[k];
    if ((g_mask & (1u << uint(k))) != 0u) g_M *= g_dims[k];
  }
}
// flat index over the kept (want == 0) or reduced (want != 0) axes -> input offset
uint offset_over(uint i, uint want) {
  uint off = 0u;
  for (int k = 7; k >= 0; k--) {
    if (((g_mask >> uint(k)) & 1u) != want) continue;
    off += (i % g_dims[k]) * g_strides[k];
    i /= g_dims[k];
  }
  return off;
}
uint base_of(uint o) { return offset_over(o, 0u); }
uint off_of(uint r) { return offset_over(r, 1u); }
#else
#define M P_M
#define EMPTY_PARAM P_empty
void setup() {}
uint base_of(uint o) {
  uint k2 = o % P_keptDims_2; o /= P_keptDims_2;
  uint k1 = o % P_keptDims_1; uint k0 = min(o / P_keptDims_1, P_keptDims_0 - 1u); // (the min only names K0: every param must be used)
  return k0 * P_keptStrides_0 + k1 * P_keptStrides_1 + k2 * P_keptStrides_2;
}
uint off_of(uint r) {
  uint r2 = r % P_redDims_2; r /= P_redDims_2;
  uint r1 = r % P_redDims_1; uint r0 = min(r / P_redDims_1, P_redDims_0 - 1u);
  return r0 * P_redStrides_0 + r1 * P_redStrides_1 + r2 * P_redStrides_2;
}
#endif
#if IS_FLOAT_TO
#define EMPTY_VAL uintBitsToFloat(EMPTY_PARAM)
#else
#define EMPTY_VAL int(EMPTY_PARAM)
#endif

#if OP == REDUCE_OP_Max || OP == REDUCE_OP_Min
#define COMBINE(a, b) (OP == REDUCE_OP_Max ? red_max(a, b) : red_min(a, b))
#elif OP == REDUCE_OP_Prod
#define COMBINE(a, b) ((a) * (b))
#else
#define COMBINE(a, b) ((a) + (b))
#endif

// the first pass of LogSumExp (the max) and L2 (the largest magnitude)
#if OP == REDUCE_OP_L2
#define SHIFT_OF(v) abs(float(v))
#else
#define SHIFT_OF(v) float(v)
#endif

ACC identity() {
#if OP == REDUCE_OP_Max && IS_FLOAT_ACC
  return -RED_INF;
#elif OP == REDUCE_OP_Max
  return int(0x80000000u);
#elif OP == REDUCE_OP_Min && IS_FLOAT_ACC
  return RED_INF;
#elif OP == REDUCE_OP_Min
  return 0x7fffffff;
#elif OP == REDUCE_OP_Prod
  return ACC(1);
#else
  return ACC(0);
#endif
}

// the value one element contributes (shift: the max for LogSumExp, the largest magnitude for L2)
ACC contrib(T v, float shift) {
#if OP == REDUCE_OP_L1
  return ACC(abs(v));
#elif OP == REDUCE_OP_L2
  // scaled by the largest magnitude: the squares cannot overflow (the reference sums in double)
  float t = abs(float(v)) / shift;
  return ACC(t * t);
#elif OP == REDUCE_OP_SumSquare
  return ACC(v) * ACC(v);
#elif OP == REDUCE_OP_LogSumExp
  return ACC(exp(float(v) - shift));
#else
  return ACC(v);
#endif
}

TO finish(ACC a, float mx) {
#if OP == REDUCE_OP_Mean
#if IS_FLOAT_ACC
  return TO(a / float(M));
#else
  return TO(a / int(M));
#endif
#elif OP == REDUCE_OP_L2
  return TO((mx == 0.0 || vkrt_isinf(mx) || vkrt_isnan(mx)) ? mx : mx * sqrt(float(a)));
#elif OP == REDUCE_OP_LogSum
  return TO(log(float(a)));
#elif OP == REDUCE_OP_LogSumExp
  return TO((vkrt_isinf(mx) || vkrt_isnan(mx)) ? mx : mx + log(float(a)));
#else
  return TO(a);
#endif
}

#ifdef WG_PER_OUT
shared ACC s_acc[RED_WG_MAX];
shared float s_max[RED_WG_MAX];

void main() {
  uint o = red_group_index();
  if (o >= NOUT) return; // uniform per workgroup
  setup();
  uint tid = gl_LocalInvocationID.x;
  uint wg = gl_WorkGroupSize.x;
  uint base = base_of(o);
  if (M == 0u) { if (tid == 0u) y[o] = TY(EMPTY_VAL); return; }
  float mx = 0.0;
#if OP == REDUCE_OP_LogSumExp || OP == REDUCE_OP_L2
  float m = -RED_INF;
  for (uint r = tid; r < M; r += wg) m = red_max(m, SHIFT_OF(x[base + off_of(r)]));
  s_max[tid] = m;
  barrier();
  for (uint s = wg / 2u; s > 0u; s >>= 1u) {
    if (tid < s) s_max[tid] = red_max(s_max[tid], s_max[tid + s]);
    barrier();
  }
  mx = s_max[0];
#endif
  ACC acc = identity();
  for (uint r = tid; r < M; r += wg) acc = COMBINE(acc, contrib(x[base + off_of(r)], mx));
  s_acc[tid] = acc;
  barrier();
  for (uint s = wg / 2u; s > 0u; s >>= 1u) {
    if (tid < s) s_acc[tid] = COMBINE(s_acc[tid], s_acc[tid + s]);
    barrier();
  }
  if (tid == 0u) y[o] = TY(finish(s_acc[0], mx));
}
#else
void main() {
  uint o = vkrt_index();
  if (o >= NOUT) return;
  setup();
  if (M == 0u) { y[o] = TY(EMPTY_VAL); return; }
  uint base = base_of(o);
  float mx = 0.0;
#if OP == REDUCE_OP_LogSumExp || OP == REDUCE_OP_L2
  mx = -RED_INF;
  for (uint r = 0u; r < M; r++) mx = red_max(mx, SHIFT_OF(x[base + off_of(r)]));
#endif
  ACC acc = identity();
  for (uint r = 0u; r < M; r++) acc = COMBINE(acc, contrib(x[base + off_of(r)], mx));
  y[o] = TY(finish(acc, mx));
}
#endif
