#version 450
#extension GL_GOOGLE_include_directive : require
#include "vkrt.glsl"
#include "params/dft.glsl"
// DFT (src/ops/control/signal.ts): one invocation per output element, the plain sum over the
// signal axis (the reference's algorithm): out[k] = sum_t x[t] e^(-+2 pi i k t / n), scaled by 1/n
// when inverse. onesided + inverse (irfft) rebuilds the Hermitian spectrum of length n from the
// first n/2+1 bins and writes the real part. The phase index k*t mod n advances by k per step, so
// it never overflows and the angle stays in [0, 2 pi).
// Bindings: 0 x [..., 1|2] (float), 1 dft_length (int[1], HAS_LEN), 2 axis (int[1], HAS_AXIS), 3 y.
// Params (layout dft, src/ops/control/gpu-signal.ts): P_n (outputs), P_rank (with the last
//   axis), P_axis (without HAS_AXIS), P_onesided, P_inverse, P_dims_inDim(k) / P_dims_outDim(k).
// Defines: RANK (loop bound, >= P_rank), HAS_LEN, HAS_AXIS.
#include "tensor_params.glsl"
#ifndef RANK
#define RANK 8
#endif
layout(std430, binding = 0) readonly buffer InX { FT x_[]; };
layout(std430, binding = 1) readonly buffer InLen { int len_[]; };
layout(std430, binding = 2) readonly buffer InAxis { int axis_[]; };
layout(std430, binding = 3) writeonly buffer OutY { FT y_[]; };

const float TWO_PI = 6.283185307179586;

void main() {
  uint idx = vkrt_index();
  if (idx >= P_n) return;
  int rank = int(P_rank);
#ifdef HAS_AXIS
  int axis = axis_[0];
#else
  int axis = int(P_axis);
#endif
  if (axis < 0) axis += rank;
  // output coordinates -> the input offset of t = 0 (axis coordinate 0, component 0)
  uint rem = idx, inStride = 1u, base = 0u, axisStride = 0u, k = 0u, comp = 0u, dimIn = 1u;
  uint lastIn = P_dims_inDim(rank - 1);
  for (int a = RANK - 1; a >= 0; a--) {
    if (a >= rank) continue;
    uint od = P_dims_outDim(a), id = P_dims_inDim(a);
    uint c = rem % od;
    rem /= od;
    if (a == rank - 1) comp = c;
    else if (a == axis) { k = c; axisStride = inStride; dimIn = id; }
    else base += c * inStride;
    inStride *= id;
  }
  bool irfft = P_onesided != 0u && P_inverse != 0u;
#ifdef HAS_LEN
  uint n = uint(max(len_[0], 1));
#else
  uint n = irfft ? 2u * (dimIn - 1u) : dimIn;
#endif
  float sign = P_inverse != 0u ? 1.0 : -1.0;
  float sr = 0.0, si = 0.0;
  uint kk = k % n, p = 0u;
  uint m = irfft ? n : min(dimIn, n);
  uint half_ = n / 2u;
  for (uint t = 0u; t < m; t++) {
    float re = 0.0, im = 0.0;
    if (irfft) {
      uint src = t <= half_ ? t : n - t;
      if (src < dimIn) {
        re = float(x_[base + src * axisStride]);
        im = lastIn == 2u ? float(x_[base + src * axisStride + 1u]) : 0.0;
        if (t > half_) im = -im;
      }
    } else {
      re = float(x_[base + t * axisStride]);
      im = lastIn == 2u ? float(x_[base + t * axisStride + 1u]) : 0.0;
    }
    float ang = sign * TWO_PI * float(p) / float(n);
    float cs = cos(ang), sn = sin(ang);
    sr += re * cs - im * sn;
    si += re * sn + im * cs;
    p += kk;
    if (p >= n) p -= n;
  }
  if (P_inverse != 0u) { sr /= float(n); si /= float(n); }
  y_[idx] = FT(comp == 0u ? sr : si);
}
