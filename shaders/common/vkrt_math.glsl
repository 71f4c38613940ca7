// Scalar math helpers of the generated pointwise kernels (src/ops/elementwise/scalar-table.ts), of
// the nn epilogue (nn_act.glsl), the pools and the reductions: NaN/Inf semantics GLSL leaves
// undefined, no erf in GLSL 450, pow(x, y) undefined for x < 0, and drivers' log/tanh/division
// losing bits the CPU reference keeps.
#ifndef VKRT_MATH_GLSL
#define VKRT_MATH_GLSL

// ---- NaN and Inf as the reference has them (ONNX/numpy semantics) ----
// GLSL leaves max/min/clamp of a NaN undefined (lavapipe's max(NaN, 0) is 0, so Relu(NaN) was 0),
// and sqrt/log/asin/... outside their domain undefined. Every kernel that needs those semantics
// goes through these helpers. NaN and Inf are tested on the bits: a compiler that assumes no
// NaN may fold isnan() away, never an integer compare.
#define VKRT_NAN uintBitsToFloat(0x7fc00000u)
#define VKRT_INF uintBitsToFloat(0x7f800000u)
bool vkrt_isnan(float x) { return (floatBitsToUint(x) & 0x7fffffffu) > 0x7f800000u; }
bool vkrt_isinf(float x) { return (floatBitsToUint(x) & 0x7fffffffu) == 0x7f800000u; }
// max/min that propagate NaN (numpy.maximum, Max/Min, ReduceMax, MaxPool)
float vkrt_max(float a, float b) { return vkrt_isnan(a) ? a : vkrt_isnan(b) ? b : max(a, b); }
float vkrt_min(float a, float b) { return vkrt_isnan(a) ? a : vkrt_isnan(b) ? b : min(a, b); }
float vkrt_relu(float x) { return vkrt_isnan(x) ? x : max(x, 0.0); }
// Clip as the reference has it: NaN stays NaN, a NaN bound is no bound, lo > hi gives hi
float vkrt_clip(float x, float lo, float hi) {
  if (vkrt_isnan(x)) return x;
  float v = vkrt_isnan(lo) ? x : max(x, lo);
  return vkrt_isnan(hi) ? v : min(v, hi);
}
float vkrt_sign(float x) { return vkrt_isnan(x) ? x : sign(x); }
// outside the domain GLSL leaves the result undefined; the reference gives NaN (log(0): -inf)
float vkrt_sqrt(float x) { return vkrt_isnan(x) || x < 0.0 ? VKRT_NAN : x == VKRT_INF ? x : sqrt(x); }
float vkrt_log(float x) { return vkrt_isnan(x) || x < 0.0 ? VKRT_NAN : x == 0.0 ? -VKRT_INF : x == VKRT_INF ? x : log(x); }
float vkrt_asin(float x) { return vkrt_isnan(x) || abs(x) > 1.0 ? VKRT_NAN : asin(x); }
float vkrt_acos(float x) { return vkrt_isnan(x) || abs(x) > 1.0 ? VKRT_NAN : acos(x); }
float vkrt_atan(float x) { return vkrt_isnan(x) ? x : atan(x); }
// periodic functions of an infinity are NaN
float vkrt_sin(float x) { return vkrt_isnan(x) || vkrt_isinf(x) ? VKRT_NAN : sin(x); }
float vkrt_cos(float x) { return vkrt_isnan(x) || vkrt_isinf(x) ? VKRT_NAN : cos(x); }
float vkrt_tan(float x) { return vkrt_isnan(x) || vkrt_isinf(x) ? VKRT_NAN : tan(x); }
// asinh/acosh from log(x + sqrt(x * x + 1)) overflow past ~1e19: log(2|x|) there
float vkrt_asinh(float x) {
  if (vkrt_isnan(x) || vkrt_isinf(x)) return x;
  return abs(x) > 1e18 ? sign(x) * (log(abs(x)) + 0.6931471805599453) : asinh(x);
}
float vkrt_acosh(float x) {
  if (vkrt_isnan(x) || x < 1.0) return VKRT_NAN;
  return x == VKRT_INF ? x : x > 1e18 ? log(x) + 0.6931471805599453 : acosh(x);
}
float vkrt_atanh(float x) {
  if (vkrt_isnan(x) || abs(x) > 1.0) return VKRT_NAN;
  return abs(x) == 1.0 ? x * VKRT_INF : atanh(x);
}
// |x|^p for the Lp norms (pow() is undefined for a negative or NaN base)
float vkrt_powabs(float x, float p) {
  float a = abs(x);
  return vkrt_isnan(x) ? x : a == 0.0 ? 0.0 : a == VKRT_INF ? a : pow(a, p);
}
float vkrt_log1p(float u) {
  // Small u: the series (GPU log() may carry an absolute error near 1 that ruins log(1 + u));
  // otherwise Goldberg's correction of log(1 + u).
  if (abs(u) < 1e-3) return u * (1.0 - u * (0.5 - u * (1.0 / 3.0)));
  float v = 1.0 + u;
  return log(v) * u / (v - 1.0);
}
float vkrt_div(float a, float b) {
  // Vulkan allows 2.5 ulp for a / b; one correction step with the exact residual (fma) makes the
  // quotient correctly rounded in practice, so Round/Floor after Div agree with the reference.
  float q = a / b;
  if (isinf(q) || isnan(q) || q == 0.0) return q;
  return q + fma(-q, b, a) / b;
}
float vkrt_tanh(float x) {
  // drivers may build tanh from exp(2x), which cancels for small |x|: use the series there
  return abs(x) < 0.004 ? x * (1.0 - x * x / 3.0) : tanh(x);
}
float vkrt_softplus(float x) {
  return x > 0.0 ? x + vkrt_log1p(exp(-x)) : vkrt_log1p(exp(x));
}
float vkrt_erf(float x) {
  // Numerical Recipes erfc fit, |relative error| < 1.2e-7.
  float z = abs(x);
  float t = 1.0 / (1.0 + 0.5 * z);
  float r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0.0 ? 1.0 - r : r - 1.0;
}
float vkrt_pow(float a, float b) {
  // C/numpy pow, special values included (the reference's cpow over Math.pow): GLSL's pow is
  // undefined for a < 0, for a = 0 with b <= 0, and for infinities
  if (a == 1.0 || b == 0.0) return 1.0;
  if (vkrt_isnan(a) || vkrt_isnan(b)) return VKRT_NAN;
  float aa = abs(a);
  if (vkrt_isinf(b)) return aa == 1.0 ? 1.0 : (aa < 1.0) == (b > 0.0) ? 0.0 : VKRT_INF;
  bool integral = b == trunc(b);
  if (a < 0.0 && !integral && !vkrt_isinf(a)) return VKRT_NAN;
  float m = aa == 0.0 ? (b > 0.0 ? 0.0 : VKRT_INF) : vkrt_isinf(aa) ? (b > 0.0 ? VKRT_INF : 0.0) : pow(aa, b);
  // a negative base (-0 and -inf included) to an odd power is negative
  bool odd = integral && abs(mod(b, 2.0)) == 1.0;
  return odd && (floatBitsToUint(a) & 0x80000000u) != 0u ? -m : m;
}
// C fmod (Mod with fmod=1), exact like the reference's %: |a| reduced by |b| * 2^k, each
// subtraction exact (t <= x < 2t); at most ~280 steps
float vkrt_fmod(float a, float b) {
  if (vkrt_isnan(a) || vkrt_isnan(b) || vkrt_isinf(a) || b == 0.0) return VKRT_NAN;
  float x = abs(a), y = abs(b);
  if (vkrt_isinf(b) || x < y) return a;
  int ey, ex;
  frexp(y, ey);
  for (int k = 0; k < 300 && x >= y; k++) {
    frexp(x, ex);
    float t = ldexp(y, ex - ey);
    if (t > x) t *= 0.5;
    x -= t;
  }
  return a < 0.0 ? -x : x;
}

#endif
