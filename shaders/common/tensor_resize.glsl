// Resize filter taps of one output coordinate from a scale known only at run time: the
// arithmetic of the reference (src/ops/tensor/resize.ts axisTaps, without antialias), in float.
// Include after defining TAPS (1 nearest, 2 linear, 4 cubic), COORD (RESIZE_COORD_<mode>: the
// coordinate_transformation_mode), NEAREST_MODE (RESIZE_NEAREST_<mode>: the nearest_mode) and
// optionally EXCLUDE (exclude_outside).
#ifndef VKRT_TENSOR_RESIZE_GLSL
#define VKRT_TENSOR_RESIZE_GLSL
#if TAPS == 1
#define RESIZE_N 2
#else
#define RESIZE_N TAPS
#endif

// Returns false when tf_crop_and_resize extrapolates this coordinate. With TAPS 1 only idx[0]
// (weight 1) is meaningful.
// Vulkan allows 2.5 ulp for '/', which moves exact coordinates (3.0 -> 2.9999998) across floor()
// on some GPUs; one fma correction makes the quotient correctly rounded in practice.
float resize_div(float a, float b) {
  float q = a / b;
  if (isinf(q) || isnan(q) || q == 0.0) return q;
  return q + fma(-q, b, a) / b;
}

bool resize_taps(uint x, uint outW, uint inWu, float scale, float r0, float r1, float A, out int idx[RESIZE_N], out float w[RESIZE_N]) {
  float inW = float(inWu);
  float outWidth = scale * inW;
  float fx = float(x);
  float xo;
#if COORD == RESIZE_COORD_half_pixel
  xo = resize_div(fx + 0.5, scale) - 0.5;
#elif COORD == RESIZE_COORD_pytorch_half_pixel
  xo = outWidth == 1.0 ? -0.5 : resize_div(fx + 0.5, scale) - 0.5;
#elif COORD == RESIZE_COORD_align_corners
  xo = outWidth == 1.0 ? 0.0 : resize_div(fx * (inW - 1.0), outWidth - 1.0);
#elif COORD == RESIZE_COORD_asymmetric
  xo = resize_div(fx, scale);
#elif COORD == RESIZE_COORD_tf_crop_and_resize
  xo = outWidth == 1.0 ? ((r1 - r0) * (inW - 1.0)) * 0.5 : resize_div(fx * (r1 - r0) * (inW - 1.0), outWidth - 1.0);
  xo += r0 * (inW - 1.0);
  if (xo < 0.0 || xo > inW - 1.0) return false;
#else
  float adjustment = resize_div(float(outW), outWidth);
  float offset = (inW / 2.0) * (1.0 - adjustment);
  xo = offset + resize_div(fx + 0.5, scale) - 0.5;
#endif
  float xi = floor(xo);
  float ratio = xo == xi ? 1.0 : xo - xi;
#if TAPS == 1
  bool lower;
  if (ratio == 1.0) lower = false;
#if NEAREST_MODE == RESIZE_NEAREST_round_prefer_floor
  else lower = ratio <= 0.5;
#elif NEAREST_MODE == RESIZE_NEAREST_round_prefer_ceil
  else lower = ratio < 0.5;
#elif NEAREST_MODE == RESIZE_NEAREST_floor
  else lower = true;
#else
  else lower = false;
#endif
  w[0] = lower ? 1.0 : 0.0;
  w[1] = lower ? 0.0 : 1.0;
#elif TAPS == 2
  w[0] = 1.0 - ratio;
  w[1] = ratio;
#else
  float r1_ = ratio + 1.0, q = 1.0 - ratio, q1 = q + 1.0;
  w[0] = ((A * r1_ - 5.0 * A) * r1_ + 8.0 * A) * r1_ - 4.0 * A;
  w[1] = ((A + 2.0) * ratio - (A + 3.0)) * ratio * ratio + 1.0;
  w[2] = ((A + 2.0) * q - (A + 3.0)) * q * q + 1.0;
  w[3] = ((A * q1 - 5.0 * A) * q1 + 8.0 * A) * q1 - 4.0 * A;
#endif
  // the N nearest positions of an edge-padded line, preferring the lower ones
  int pad = (RESIZE_N + 1) / 2;
  int len = int(inWu) + 2 * pad;
  int start = clamp(int(ceil(xo + float(pad))) - RESIZE_N / 2, 0, len - RESIZE_N);
  float sum = 0.0;
  for (int k = 0; k < RESIZE_N; k++) {
    int p = start + k - pad;
#ifdef EXCLUDE
    if (p < 0 || p >= int(inWu)) w[k] = 0.0;
#endif
    sum += w[k];
    idx[k] = clamp(p, 0, int(inWu) - 1);
  }
#if TAPS == 1
  if (w[1] > w[0]) idx[0] = idx[1];
  w[0] = 1.0;
#elif defined(EXCLUDE)
  for (int k = 0; k < RESIZE_N; k++) w[k] /= sum;
#endif
  return true;
}
#endif
