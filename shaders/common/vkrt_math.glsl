// Scalar math helpers of the generated pointwise kernels (src/ops/elementwise/scalar-table.ts) and
// of the nn epilogue (nn_act.glsl): GLSL 450 has no erf, pow(x, y) is undefined for x < 0, and
// drivers' log/tanh/division lose bits the CPU reference keeps.
#ifndef VKRT_MATH_GLSL
#define VKRT_MATH_GLSL
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
  if (a >= 0.0) return pow(a, b);
  if (b != trunc(b)) return uintBitsToFloat(0x7fc00000u);
  float m = pow(-a, b);
  return mod(b, 2.0) == 0.0 ? m : -m;
}

#endif
