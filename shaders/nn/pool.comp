#version 450
#extension GL_GOOGLE_include_directive : require
#ifdef VKRT_BYTES
// int8/uint8 tensors held one byte per element (src/kernel/storage.ts 'i8' / 'u8')
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
#endif
#include "vkrt.glsl"
#if POOL == POOL_OP_Lp
#include "params/pool_lp.glsl"
#else
#include "params/pool.glsl"
#endif
#include "vkrt_math.glsl"
// MaxPool, AveragePool, LpPool over 1-3 spatial axes (run as 3-D with unit leading axes): one
// invocation per output element. NaN and Inf as in the reference (a NaN in a window gives NaN).
// Bindings: 0 X [N*C planes of ID x IH x IW], 1 Y [N*C planes of OD x OH x OW], 2 Indices (MaxPool
//   with HAS_INDICES: flat input index as int, row-major or, with STORAGE_COL, column-major spatial).
// Params (layouts pool and pool_lp, src/ops/nn/gpu/pool.ts): P_total (outputs), P_ID/IH/IW,
//   P_OD/OH/OW, kernel P_KD.., strides P_SD.., begin pads P_PD.., dilations P_DD..; AveragePool with
//   COUNT_PAD: end pads P_PED.. (the divisor counts taps inside the padded input); LpPool: P_p.
// Defines: POOL (POOL_OP_Max, POOL_OP_Average, POOL_OP_Lp); T storage type (float, or int for integer MaxPool);
//   X_BYTES / Y_BYTES (with VKRT_BYTES): integer MaxPool's x / y held one byte per element (int8_t
//   or uint8_t; else int).
#ifndef T
#define T float
#endif
#if defined(T_INT)
#define POOL_NAN(v) false
#else
#define POOL_NAN(v) vkrt_isnan(v)
#endif
// storage type: f16 under VKRT_F16 (float pools), converted on load and store; arithmetic in T
#if defined(VKRT_F16) && !defined(T_INT)
#define TS FT
#define TSY FT
#else
#ifdef X_BYTES
#define TS X_BYTES
#else
#define TS T
#endif
#ifdef Y_BYTES
#define TSY Y_BYTES
#else
#define TSY TS
#endif
#endif

layout(std430, binding = 0) readonly buffer InX { TS x_[]; };
layout(std430, binding = 1) writeonly buffer Out { TSY y_[]; };
#ifdef HAS_INDICES
layout(std430, binding = 2) writeonly buffer OutI { int i_[]; };
#endif

void main() {
  uint idx = vkrt_index();
  if (idx >= P_total) return;
  uint r = idx;
  uint ow = r % P_OW; r /= P_OW;
  uint oh = r % P_OH; r /= P_OH;
  uint od = r % P_OD;
  uint plane = r / P_OD;
  uint xb = plane * P_ID * P_IH * P_IW;
  int d0 = int(od * P_SD) - P_PD;
  int h0 = int(oh * P_SH) - P_PH;
  int w0 = int(ow * P_SW) - P_PW;
#if POOL == POOL_OP_Max
  T best = T(0);
  int bi = -1;
#else
  float acc = 0.0;
  uint cnt = 0;
#endif
#if POOL == POOL_OP_Lp
  // LpPool in two passes: the largest magnitude (NaN if any), then the sum of (|v| / it)^p, so
  // |v|^p cannot overflow where the reference's double sum does not
  float scale = 0.0;
  for (uint pass = 0; pass < 2; pass++) {
#endif
  for (uint kd = 0; kd < P_KD; kd++) {
    int id = d0 + int(kd * P_DD);
    if (id < 0 || id >= int(P_ID)) continue;
    for (uint kh = 0; kh < P_KH; kh++) {
      int ih = h0 + int(kh * P_DH);
      if (ih < 0 || ih >= int(P_IH)) continue;
      for (uint kw = 0; kw < P_KW; kw++) {
        int iw = w0 + int(kw * P_DW);
        if (iw < 0 || iw >= int(P_IW)) continue;
        uint off = (uint(id) * P_IH + uint(ih)) * P_IW + uint(iw);
        T v = T(x_[xb + off]);
#if POOL == POOL_OP_Max
        // a NaN anywhere in the window wins (the first one), as in the reference
        if (bi < 0 || (!POOL_NAN(best) && (v > best || POOL_NAN(v)))) {
          best = v;
#ifdef STORAGE_COL
          bi = int(uint(id) + (uint(ih) + uint(iw) * P_IH) * P_ID);
#else
          bi = int(off);
#endif
        }
#elif POOL == POOL_OP_Average
        acc += v;
        cnt++;
#else
        if (pass == 0) scale = vkrt_max(scale, abs(float(v)));
        else acc += vkrt_powabs(float(v) / scale, P_p);
#endif
      }
    }
  }
#if POOL == POOL_OP_Lp
  }
#endif
#if POOL == POOL_OP_Max
#if !defined(T_INT)
  if (bi < 0) best = uintBitsToFloat(0xff800000u);  // every tap in padding: -inf like the reference
#endif
  y_[idx] = TSY(best);
#ifdef HAS_INDICES
  i_[idx] = bi < 0 ? -1 : int(xb) + bi;
#endif
#elif POOL == POOL_OP_Average
#ifdef COUNT_PAD
  // taps inside [-pad_begin, in + pad_end) per axis, multiplied
  uint c3 = 1;
  for (uint a = 0; a < 3; a++) {
    uint K = a == 0 ? P_KD : a == 1 ? P_KH : P_KW;
    uint D = a == 0 ? P_DD : a == 1 ? P_DH : P_DW;
    int s0 = a == 0 ? d0 : a == 1 ? h0 : w0;
    int lo = -(a == 0 ? P_PD : a == 1 ? P_PH : P_PW);
    int hi = (a == 0 ? int(P_ID) + P_PED : a == 1 ? int(P_IH) + P_PEH : int(P_IW) + P_PEW);
    uint c = 0;
    for (uint k = 0; k < K; k++) {
      int q = s0 + int(k * D);
      if (q >= lo && q < hi) c++;
    }
    c3 *= c;
  }
  y_[idx] = TS(acc / float(c3));
#else
  y_[idx] = TS(acc / float(cnt));
#endif
#else
  y_[idx] = TS((scale == 0.0 || vkrt_isinf(scale) || vkrt_isnan(scale)) ? scale : scale * pow(acc, 1.0 / P_p));
#endif
}
