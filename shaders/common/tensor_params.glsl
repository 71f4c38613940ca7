// Params of the tensor (data movement) kernels read with a computed index: TP(i) / TPI(i).
// vkrt.glsl's PARAM(i) pastes its argument into a name (P##i), so it needs a literal; per-axis loops
// (`for (int k = 0; k < RANK; k++) TP(3 + 3 * k)`) need an index expression instead. With push
// constants this is a plain array read; with specialization constants a switch over them, which
// the driver folds once it unrolls the RANK-bounded loop (RANK is a #define). Kernels read them by
// name: a layout's per-axis group is P_<group>_<field>(k) in its generated header (params/*.glsl).
#ifndef VKRT_TENSOR_PARAMS_GLSL
#define VKRT_TENSOR_PARAMS_GLSL

#ifdef VKRT_PUSH_PARAMS
#define TP(i) vkrt_params.p[i]
#else
uint tensor_param(uint i) {
  switch (i) {
    case 0u: return P0;
    case 1u: return P1;
    case 2u: return P2;
    case 3u: return P3;
    case 4u: return P4;
    case 5u: return P5;
    case 6u: return P6;
    case 7u: return P7;
    case 8u: return P8;
    case 9u: return P9;
    case 10u: return P10;
    case 11u: return P11;
    case 12u: return P12;
    case 13u: return P13;
    case 14u: return P14;
    case 15u: return P15;
    case 16u: return P16;
    case 17u: return P17;
    case 18u: return P18;
    case 19u: return P19;
    case 20u: return P20;
    case 21u: return P21;
    case 22u: return P22;
    case 23u: return P23;
    case 24u: return P24;
    case 25u: return P25;
    case 26u: return P26;
    case 27u: return P27;
    case 28u: return P28;
    case 29u: return P29;
    case 30u: return P30;
    case 31u: return P31;
  }
  return 0u;
}
#define TP(i) tensor_param(uint(i))
#endif
#define TPI(i) int(TP(i))
#define TPF(i) uintBitsToFloat(TP(i))

// Index read from an i32 tensor (int64 indices are clamped to int32 on upload): negative values
// count from the end (ONNX), and out-of-range values are clamped so a bad index never reads or
// writes outside the tensor (ONNX leaves them undefined; the reference rejects them).
uint tensor_fix_index(int v, uint dim) {
  if (v < 0) v += int(dim);
  return uint(clamp(v, 0, int(dim) - 1));
}

#endif
