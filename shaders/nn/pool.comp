#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "vkrt_math.glsl"
// MaxPool, AveragePool, LpPool over 1-3 spatial axes (run as 3-D with unit leading axes): one
// invocation per output element. NaN and Inf as in the reference (a NaN in a window gives NaN).
// Bindings: 0 X [N*C planes of ID x IH x IW], 1 Y [N*C planes of OD x OH x OW], 2 Indices (MaxPool
//   with HAS_INDICES: flat input index as int, row-major or, with STORAGE_COL, column-major spatial).
// Params: 0 total outputs, 1 ID, 2 IH, 3 IW, 4 OD, 5 OH, 6 OW, 7 KD, 8 KH, 9 KW, 10 SD, 11 SH, 12 SW,
//   13 PD, 14 PH, 15 PW (begin pads), 16 DD, 17 DH, 18 DW (dilations);
//   AveragePool with COUNT_PAD: 19 PED, 20 PEH, 21 PEW (end pads; the divisor counts taps inside the
//   padded input); LpPool: 19 p (f32).
// Defines: POOL 0 max, 1 average, 2 Lp; T storage type (float, or int for integer MaxPool).
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
#else
#define TS T
#endif

layout(std430, binding = 0) readonly buffer InX { TS x_[]; };
layout(std430, binding = 1) writeonly buffer Out { TS y_[]; };
#ifdef HAS_INDICES
layout(std430, binding = 2) writeonly buffer OutI { int i_[]; };
#endif

void main() {
  uint idx = vkrt_index();
  if (idx >= PARAM(0)) return;
  uint r = idx;
  uint ow = r % PARAM(6); r /= PARAM(6);
  uint oh = r % PARAM(5); r /= PARAM(5);
  uint od = r % PARAM(4);
  uint plane = r / PARAM(4);
  uint xb = plane * PARAM(1) * PARAM(2) * PARAM(3);
  int d0 = int(od * PARAM(10)) - PARAMI(13);
  int h0 = int(oh * PARAM(11)) - PARAMI(14);
  int w0 = int(ow * PARAM(12)) - PARAMI(15);
#if POOL == 0
  T best = T(0);
  int bi = -1;
#else
  float acc = 0.0;
  uint cnt = 0;
#endif
#if POOL == 2
  // LpPool in two passes: the largest magnitude (NaN if any), then the sum of (|v| / it)^p, so
  // |v|^p cannot overflow where the reference's double sum does not
  float scale = 0.0;
  for (uint pass = 0; pass < 2; pass++) {
#endif
  for (uint kd = 0; kd < PARAM(7); kd++) {
    int id = d0 + int(kd * PARAM(16));
    if (id < 0 || id >= PARAMI(1)) continue;
    for (uint kh = 0; kh < PARAM(8); kh++) {
      int ih = h0 + int(kh * PARAM(17));
      if (ih < 0 || ih >= PARAMI(2)) continue;
      for (uint kw = 0; kw < PARAM(9); kw++) {
        int iw = w0 + int(kw * PARAM(18));
        if (iw < 0 || iw >= PARAMI(3)) continue;
        uint off = (uint(id) * PARAM(2) + uint(ih)) * PARAM(3) + uint(iw);
        T v = x_[xb + off];
#if POOL == 0
        // a NaN anywhere in the window wins (the first one), as in the reference
        if (bi < 0 || (!POOL_NAN(best) && (v > best || POOL_NAN(v)))) {
          best = v;
#ifdef STORAGE_COL
          bi = int(uint(id) + (uint(ih) + uint(iw) * PARAM(2)) * PARAM(1));
#else
          bi = int(off);
#endif
        }
#elif POOL == 1
        acc += v;
        cnt++;
#else
        if (pass == 0) scale = vkrt_max(scale, abs(float(v)));
        else acc += vkrt_powabs(float(v) / scale, PARAMF(19));
#endif
      }
    }
  }
#if POOL == 2
  }
#endif
#if POOL == 0
#if !defined(T_INT)
  if (bi < 0) best = uintBitsToFloat(0xff800000u);  // every tap in padding: -inf like the reference
#endif
  y_[idx] = TS(best);
#ifdef HAS_INDICES
  i_[idx] = bi < 0 ? -1 : int(xb) + bi;
#endif
#elif POOL == 1
#ifdef COUNT_PAD
  // taps inside [-pad_begin, in + pad_end) per axis, multiplied
  uint c3 = 1;
  for (uint a = 0; a < 3; a++) {
    uint K = a == 0 ? PARAM(7) : a == 1 ? PARAM(8) : PARAM(9);
    uint D = a == 0 ? PARAM(16) : a == 1 ? PARAM(17) : PARAM(18);
    int s0 = a == 0 ? d0 : a == 1 ? h0 : w0;
    int lo = -(a == 0 ? PARAMI(13) : a == 1 ? PARAMI(14) : PARAMI(15));
    int hi = (a == 0 ? PARAMI(1) + PARAMI(19) : a == 1 ? PARAMI(2) + PARAMI(20) : PARAMI(3) + PARAMI(21));
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
  y_[idx] = TS((scale == 0.0 || vkrt_isinf(scale) || vkrt_isnan(scale)) ? scale : scale * pow(acc, 1.0 / PARAMF(19)));
#endif
}
