// Scatter reductions over T (float or int): REDUCE 0 none, 1 add, 2 mul, 3 max, 4 min.
// Float max/min propagate NaN like the reference (GLSL's max/min leave NaN undefined).
#ifndef VKRT_TENSOR_REDUCE_GLSL
#define VKRT_TENSOR_REDUCE_GLSL
#include "vkrt_math.glsl"
T tensor_combine(T a, T b) {
#if REDUCE == 0
  return b;
#elif REDUCE == 1
  return a + b;
#elif REDUCE == 2
  return a * b;
#elif defined(T_FLOAT) && REDUCE == 3
  return vkrt_max(a, b);
#elif defined(T_FLOAT)
  return vkrt_min(a, b);
#elif REDUCE == 3
  return max(a, b);
#else
  return min(a, b);
#endif
}
#endif
