// Scatter reductions over T (float or int): REDUCE (SCATTER_REDUCE_none / add / mul / max / min).
// Float max/min propagate NaN like the reference (GLSL's max/min leave NaN undefined).
#ifndef VKRT_TENSOR_REDUCE_GLSL
#define VKRT_TENSOR_REDUCE_GLSL
#include "vkrt_math.glsl"
T tensor_combine(T a, T b) {
#if REDUCE == SCATTER_REDUCE_none
  return b;
#elif REDUCE == SCATTER_REDUCE_add
  return a + b;
#elif REDUCE == SCATTER_REDUCE_mul
  return a * b;
#elif defined(T_FLOAT) && REDUCE == SCATTER_REDUCE_max
  return vkrt_max(a, b);
#elif defined(T_FLOAT)
  return vkrt_min(a, b);
#elif REDUCE == SCATTER_REDUCE_max
  return max(a, b);
#else
  return min(a, b);
#endif
}
#endif
